/**
 * The real bin/brig on a data root of its own (BRIG_ROOT in a temp dir), for end-to-end
 * tests: run it, insist it succeeds, and list what a removed container left on the host.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './requires.js';
import { readTextSync } from '../../src/util/read-text.js';

export const BRIG = path.join(repoRoot, 'bin', 'brig');

/**
 * With BRIG_TEST_REMOTE=1 the same tests drive a `brig serve` on the data root through the
 * Engine API (the CLI's RemoteEngine, BRIG_HOST): one suite for both engines. The server is
 * started at the first brigCli of a data root and stopped when the test process exits.
 */
const servers = new Map<string, { host: string; stop: () => void }>();

export function serveFor(data: string): string {
  const known = servers.get(data);
  if (known) return known.host;
  const sock = path.join(data, 'api.sock');
  spawnSync('mkdir', ['-p', data]);
  const log = openSync(path.join(data, 'serve.log'), 'a');
  const child = spawn(BRIG, ['serve', '-H', `unix://${sock}`], { env: { ...process.env, BRIG_ROOT: data, BRIG_HOST: '' }, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const stop = () => child.kill('SIGTERM');
  process.once('exit', stop);
  for (let i = 0; i < 200 && !existsSync(sock); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  assert.ok(existsSync(sock), `brig serve did not listen on ${sock}: ${readTextSync(path.join(data, 'serve.log'))}`);
  const host = `unix://${sock}`;
  servers.set(data, {
    host,
    stop: () => {
      process.off('exit', stop);
      stop();
    },
  });
  return host;
}

/**
 * Stops the data root's `brig serve` (SIGTERM: it closes its listeners and removes its
 * socket) and starts another, for what happens when an engine starts: each local brig
 * command is one, brig serve only when it starts. No-op in local mode.
 */
export function restartServe(data: string): void {
  const known = servers.get(data);
  if (!known) return;
  known.stop();
  servers.delete(data);
  const sock = path.join(data, 'api.sock');
  for (let i = 0; i < 200 && existsSync(sock); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  serveFor(data);
}

export const REMOTE = process.env.BRIG_TEST_REMOTE === '1';

export function brigCli(data: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const env = { ...process.env, BRIG_ROOT: data, ...(REMOTE ? { BRIG_HOST: serveFor(data) } : {}), ...extraEnv };
  const brig = (args: string[], input?: string | Buffer) => {
    const r = spawnSync(BRIG, args, { env, encoding: 'utf8', input: input ?? '', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], input?: string | Buffer): string => {
    const r = brig(args, input);
    assert.equal(r.code, 0, `brig ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** What a removed container must not leave, seen from the host. */
  const traces = (id: string): string[] => {
    const found: string[] = [];
    for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) found.push(`cgroup ${h}`);
    for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (l.includes(id)) found.push(`mount ${l.split(' ')[4]}`);
    if (existsSync(path.join(data, 'containers', id))) found.push('container dir');
    if (existsSync(path.join(data, 'run', id))) found.push('runtime state');
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (!readlinkSync(`/proc/${pid}/exe`).endsWith('brig-monitor')) continue;
        // A monitor holds the container's log (or, with no log, little else that names it).
        if (readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`).includes(id))) found.push(`monitor ${pid}`);
      } catch {}
    }
    return found;
  };
  return { env, brig, ok, traces };
}
