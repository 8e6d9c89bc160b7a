/**
 * By hand: `brig serve`'s memory over many create/start/wait/remove cycles (issue 14: "the
 * server's memory stays flat over 10,000 create/start/remove cycles").
 *
 *   node dist/bench/api-soak.js [--cycles 10000] [--every 250] [--warmup 1000] [--network none]
 *
 * Starts its own `brig serve` on a temp data root with busybox loaded, --debug-memory and
 * NODE_OPTIONS=--expose-gc (so each sample sees the heap after a full collection) and
 * --heapsnapshot-signal=SIGUSR2 (`kill -USR2 <pid>` writes a heap snapshot into the data
 * root's directory, to compare two when something grows). Drives it over its socket as the
 * docker CLI would (tests/support/api-soak.ts), samples the server every --every cycles,
 * prints each sample as it is taken and, at the end, the verdict on the samples after the
 * warm-up. Removes what it made (server, data root) when done or interrupted.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatSample, sampleServer, soakClient, soakCycle, soakVerdict, type SoakSample } from '../tests/support/api-soak.js';
import { BRIG } from '../tests/support/brig-cli.js';
import { busyboxLayer, dockerArchive } from '../tests/support/image-archive.js';

function arg(name: string, dflt: number): number;
function arg(name: string, dflt: string): string;
function arg(name: string, dflt: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1] ?? '';
  return typeof dflt === 'number' ? Number(v) : v;
}

const cycles = arg('cycles', 10_000);
const every = arg('every', Math.max(10, Math.round(cycles / 40)));
const warmup = arg('warmup', Math.min(1000, Math.round(cycles / 10)));
const network = arg('network', 'none');

function startServer(data: string, socket: string): Promise<ChildProcess> {
  const env = { ...process.env, BRIG_ROOT: data, BRIG_HOST: '', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --heapsnapshot-signal=SIGUSR2`.trim() };
  const proc = spawn(BRIG, ['serve', '-H', `unix://${socket}`, '--debug-memory'], { env, cwd: path.dirname(data), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('API listening')) resolve(proc);
    });
    proc.once('exit', (code) => reject(new Error(`brig serve exited ${code}: ${stderr}`)));
  });
}

async function main(): Promise<number> {
  const root = mkdtempSync(path.join(tmpdir(), 'brig-soak-'));
  const data = path.join(root, 'data');
  const socket = path.join(root, 'docker.sock');
  let server: ChildProcess | undefined;
  const cleanup = () => {
    for (const id of spawnSync(BRIG, ['ps', '-aq', '--no-trunc'], { env: { ...process.env, BRIG_ROOT: data, BRIG_HOST: '' }, encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []) {
      spawnSync(BRIG, ['rm', '-f', id], { env: { ...process.env, BRIG_ROOT: data, BRIG_HOST: '' } });
    }
    server?.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  };
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.once('SIGTERM', () => (stopping = true));
  try {
    const archive = path.join(root, 'busybox.tar');
    writeFileSync(archive, dockerArchive([{ layers: [busyboxLayer()], tags: ['busybox:latest'] }]));
    const load = spawnSync(BRIG, ['load', '-q', '-i', archive], { env: { ...process.env, BRIG_ROOT: data, BRIG_HOST: '' }, encoding: 'utf8' });
    if (load.status !== 0) throw new Error(`brig load: ${load.stderr}`);
    server = await startServer(data, socket);
    const pid = server.pid!;
    console.log(`brig serve pid ${pid} on ${socket} (data root ${data}); ${cycles} cycles of create/wait/start/delete busybox true, --network ${network}; a sample every ${every}, warm-up ${warmup}`);
    console.log(`heap snapshot: kill -USR2 ${pid} (written in ${root})`);
    const c = soakClient(socket);
    const t0 = Date.now();
    const samples: SoakSample[] = [await sampleServer(c, pid, 0, t0)];
    console.log(formatSample(samples[0]!));
    let failures = 0;
    let done = 0;
    for (let i = 1; i <= cycles && !stopping; i++) {
      try {
        await soakCycle(c, { network });
      } catch (e) {
        failures++;
        console.log(`cycle ${i}: ${(e as Error).message}`);
        if (failures > 10) throw new Error('more than 10 cycles failed: stopping');
      }
      done = i;
      if (i % every === 0 || i === cycles) {
        const s = await sampleServer(c, pid, i, t0);
        samples.push(s);
        console.log(formatSample(s));
      }
    }
    c.agent.destroy();
    const secs = (Date.now() - t0) / 1000;
    console.log(`${done} cycles in ${secs.toFixed(0)} s (${((secs / Math.max(done, 1)) * 1000).toFixed(0)} ms a cycle), ${failures} failed`);
    const v = soakVerdict(samples, warmup);
    for (const l of v.lines) console.log(l);
    return v.flat && failures === 0 ? 0 : 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
