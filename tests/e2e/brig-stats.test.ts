/**
 * brig stats and brig system metrics through the real bin/brig on the real kernel: the
 * numbers agree with the container's cgroup files (memory limit and usage without inactive
 * page cache, pids.current, CPU of a busy loop, cpuacct/cpu.stat seconds), memory written to
 * a tmpfs shows as growth, the issue's --format example works as written, --all shows a
 * stopped container with docker's zeros, an unknown container is docker's error, the live
 * table redraws in place, and the metrics parse as Prometheus text.
 *
 * Paths cover v1 (this host: /sys/fs/cgroup/<controller>/brig/<id>) and v2
 * (/sys/fs/cgroup/brig/<id>), so the same test runs in the cgroup v2 VM.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readTextSync } from '../../src/util/read-text.js';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-stats-'));
const { env, brig, ok, traces } = brigCli(path.join(root, 'data'));
const IMAGE = 'localhost/bb:1';
const made: string[] = [];

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'dd']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  ok(['import', path.join(root, 'bb.tar'), IMAGE]);
});

after(() => {
  if (!skip) {
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
    for (const id of made) assert.deepEqual(traces(id), [], `container ${id} left traces`);
  }
  rmSync(root, { recursive: true, force: true });
});

/** Containers with loopback only (--network none): their NET I/O is 0B / 0B, as the checks expect. */
function run(args: string[]): string {
  const id = ok(['run', '-d', '--network', 'none', ...args]).trim();
  made.push(id);
  return id;
}

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

/** A file of the container's cgroup: v1's controller hierarchy, or the v2 directory. */
function cg(id: string, controller: string, v1: string, v2: string): string {
  return V2 ? readTextSync(`/sys/fs/cgroup/brig/${id}/${v2}`) : readTextSync(`/sys/fs/cgroup/${controller}/brig/${id}/${v1}`);
}

function keyed(text: string): Record<string, number> {
  return Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
}

/** docker's MEM USAGE: usage less the inactive page cache, from the files. */
function memUsed(id: string): number {
  const usage = Number(cg(id, 'memory', 'memory.usage_in_bytes', 'memory.current'));
  const stat = keyed(cg(id, 'memory', 'memory.stat', 'memory.stat'));
  const inactive = V2 ? (stat.inactive_file ?? 0) : (stat.total_inactive_file ?? 0);
  return inactive < usage ? usage - inactive : usage;
}

function cpuNs(id: string): number {
  return V2 ? keyed(cg(id, 'cpu', '', 'cpu.stat')).usage_usec! * 1000 : Number(cg(id, 'cpuacct', 'cpuacct.usage', ''));
}

/** "20.38MiB" → bytes (go-units BytesSize), with the rounding its four digits allow. */
function bytes(s: string): { value: number; slack: number } {
  const m = /^([\d.]+)(B|KiB|MiB|GiB)$/.exec(s);
  assert.ok(m, `not a BytesSize: ${s}`);
  const mult = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B'];
  const digits = m[1]!.replace('.', '').replace(/^0+/, '').length;
  const places = (m[1]!.split('.')[1] ?? '').length;
  return { value: Number(m[1]) * mult, slack: (0.5 * 10 ** -places) * mult + (digits > 4 ? 0 : 1) };
}

function within(shown: string, lo: number, hi: number, what: string): void {
  const b = bytes(shown);
  assert.ok(b.value + b.slack >= lo && b.value - b.slack <= hi, `${what}: ${shown} (${b.value}) not within [${lo}, ${hi}]`);
}

/** pids.current once it reaches `n` (the shell forks its children after run -d returns). */
async function pidsReach(id: string, n: number): Promise<number> {
  let now = 0;
  for (let i = 0; i < 60; i++) {
    now = Number(cg(id, 'pids', 'pids.current', 'pids.current'));
    if (now === n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return now;
}

function statsOf(ref: string, format: string): string {
  return ok(['stats', '--no-stream', '--format', format, ref]).trim();
}

test('memory: a --memory 64m limit shows 64MiB; usage as the cgroup files give it, growing with 20 MiB on a tmpfs', { skip }, () => {
  const id = run(['--name', 'mem', '--memory', '64m', IMAGE, 'sleep', '300']);
  const lo1 = memUsed(id);
  const [used1, limit1] = statsOf('mem', '{{.MemUsage}}').split(' / ');
  const hi1 = memUsed(id);
  assert.equal(limit1, '64MiB');
  within(used1!, Math.min(lo1, hi1), Math.max(lo1, hi1), 'before');
  // Written from inside the container (exec joins its cgroup): shmem charged to it.
  ok(['exec', 'mem', 'dd', 'if=/dev/zero', 'of=/dev/shm/x', 'bs=1M', 'count=20']);
  const lo2 = memUsed(id);
  const out = statsOf('mem', '{{.MemUsage}}|{{.MemPerc}}');
  const hi2 = memUsed(id);
  const [usage, perc] = out.split('|');
  const used2 = usage!.split(' / ')[0]!;
  within(used2, Math.min(lo2, hi2), Math.max(lo2, hi2), 'after');
  assert.ok(bytes(used2).value - bytes(used1!).value >= 19 * 1024 ** 2, `usage grew by 20 MiB: ${used1} → ${used2}`);
  // MEM % = used / limit, two decimals.
  assert.ok(Math.abs(Number(perc!.replace('%', '')) - (bytes(used2).value / 2 ** 26) * 100) < 0.06, `${perc} is ${used2} of 64MiB`);
  // Without a limit: the host's memory, as docker reports it.
  const free = run(['--name', 'nolimit', IMAGE, 'sleep', '300']);
  const total = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readTextSync('/proc/meminfo'))![1]) * 1024;
  within(statsOf(free, '{{.MemUsage}}').split(' / ')[1]!, total, total, 'limit without --memory');
});

test('PIDS is pids.current; a busy loop shows CPU % over 50', { skip }, async () => {
  const id = run(['--name', 'busy', IMAGE, 'sh', '-c', 'while :; do :; done & while :; do :; done & sleep 300']);
  const before = await pidsReach(id, 3);
  const cpu0 = cpuNs(id);
  const t0 = process.hrtime.bigint();
  const [pids, cpu] = statsOf('busy', '{{.PIDs}} {{.CPUPerc}}').split(' ');
  const cpu1 = cpuNs(id);
  const wall = Number(process.hrtime.bigint() - t0);
  assert.equal(before, 3, 'two loops (subshells) and sleep, which the shell became');
  assert.equal(pids, String(Number(cg(id, 'pids', 'pids.current', 'pids.current'))));
  const pct = Number(cpu!.replace('%', ''));
  assert.ok(pct > 50, `CPU % of two busy loops: ${cpu}`);
  // The sampled second lies inside this window, so it cannot exceed what the cgroup used per
  // wall second in it by much (the window's edges are idle for stats, not for the loops).
  const ceiling = (cpu1 - cpu0) / wall * 100;
  assert.ok(pct <= ceiling * 1.5 + 5, `CPU % ${pct} against ${ceiling.toFixed(1)} % used in the window`);
  ok(['rm', '-f', 'busy']);
});

test('the issue\'s --format example works as written: every running container by its full id', { skip }, () => {
  const a = run(['--name', 'fa', IMAGE, 'sleep', '300']);
  const out = ok(['stats', '--no-stream', '--format', 'table {{.Container}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.BlockIO}}']);
  const [head, ...rows] = out.trimEnd().split('\n');
  assert.match(head!, /^CONTAINER {58}CPU % {5}MEM USAGE \/ LIMIT {3}NET I\/O {3}BLOCK I\/O$/);
  const row = rows.find((r) => r.startsWith(a));
  assert.ok(row, `row of ${a} in\n${out}`);
  // No network but loopback yet, and loopback is not counted: docker's 0B / 0B.
  assert.match(row!, new RegExp(`^${a}   \\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMG]iB\\s+0B / 0B\\s+[\\d.]+[kMG]?B / [\\d.]+[kMG]?B$`));
  const running = ok(['ps', '-q', '--no-trunc']).trim().split('\n').sort();
  assert.deepEqual(rows.map((r) => r.split(' ')[0]).sort(), running);
  // The default table and json.
  const table = ok(['stats', '--no-stream', 'fa']);
  assert.match(table, new RegExp(`^CONTAINER ID   NAME\\s+CPU %\\s+MEM USAGE / LIMIT\\s+MEM %\\s+NET I/O\\s+BLOCK I/O\\s+PIDS\\n${a.slice(0, 12)}   fa\\s+`));
  const json = JSON.parse(ok(['stats', '--no-stream', '--format', 'json', 'fa'])) as Record<string, string>;
  assert.deepEqual(Object.keys(json), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
  assert.equal(json.ID, a.slice(0, 12));
  assert.equal(ok(['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}}', 'fa']).trim(), a);
});

test('--all shows a stopped container with docker\'s zeros; without it the container is not listed', { skip }, () => {
  const id = run(['--name', 'done', IMAGE, 'true']);
  ok(['wait', 'done']);
  const fmt = '{{.Container}}|{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}';
  const all = ok(['stats', '--no-stream', '-a', '--format', fmt]).split('\n');
  assert.ok(all.includes(`${id}|done|0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0`), all.join('\n'));
  assert.ok(!ok(['stats', '--no-stream', '--format', fmt]).includes(id));
  assert.equal(statsOf('done', '{{.Name}} {{.CPUPerc}} {{.PIDs}}'), 'done 0.00% 0');
});

test('an unknown container: docker\'s error, exit 1, nothing printed', { skip }, () => {
  run(['--name', 'known', IMAGE, 'sleep', '300']);
  const r = brig(['stats', '--no-stream', 'known', 'nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal(r.stdout, '');
  const bad = brig(['stats', '--no-stream', '--format', '{{.Nope}', 'known']);
  assert.equal(bad.code, 125, 'a template that does not parse is a CLI error');
});

test('live: the table is redrawn in place (home, erase line, erase below) until interrupted', { skip }, async () => {
  run(['--name', 'live', IMAGE, 'sleep', '300']);
  const child = spawn(BRIG, ['stats', 'live'], { env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 3000));
  child.kill('SIGINT');
  await new Promise((r) => child.on('close', r));
  const frames = out.split('\x1b[H').slice(1);
  assert.ok(frames.length >= 3, `frames: ${frames.length}\n${JSON.stringify(out)}`);
  for (const f of frames) {
    const shown = f.replaceAll('\x1b[K', '<K>').replaceAll('\x1b[J', '<J>');
    assert.match(shown, /^CONTAINER ID {3}NAME\s+CPU %[^\n]*<K>\n[0-9a-f]{12} {3}live\s+[^\n]*<K>\n<K>\n<J>$/);
  }
});

/** A small reader of the Prometheus text format (0.0.4): families, their type and samples. */
function parsePrometheus(text: string): Map<string, { type: string; help: string; samples: { labels: Record<string, string>; value: number }[] }> {
  const families = new Map<string, { type: string; help: string; samples: { labels: Record<string, string>; value: number }[] }>();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  let current: string | undefined;
  const seen = new Set<string>();
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      assert.match(name!, NAME);
      if (kind === 'HELP') {
        assert.ok(!seen.has(name!), `${name}: a family appears once`);
        seen.add(name!);
        families.set(name!, { type: 'untyped', help: rest!, samples: [] });
        current = name;
      } else {
        assert.equal(current, name, 'TYPE follows its HELP');
        assert.ok(['counter', 'gauge'].includes(rest!), rest);
        families.get(name!)!.type = rest!;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    assert.equal(m[1], current, `${m[1]}: samples of a family are together, after its TYPE`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      assert.ok(l, `bad labels: ${m[2]}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const value = Number(m[3] === '+Inf' ? Infinity : m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `value ${m[3]}`);
    families.get(current!)!.samples.push({ labels, value });
  }
  return families;
}

test('system metrics: Prometheus text; values agree with the cgroup files; labels id, name, image', { skip }, async () => {
  const id = run(['--name', 'met.rics-1', '--memory', '32m', IMAGE, 'sh', '-c', 'sleep 300 & sleep 300']);
  assert.equal(await pidsReach(id, 2), 2);
  const stopped = run(['--name', 'metstop', IMAGE, 'true']);
  ok(['wait', stopped]);
  const cpu0 = cpuNs(id);
  const mem0 = Number(cg(id, 'memory', 'memory.usage_in_bytes', 'memory.current'));
  const text = ok(['system', 'metrics']);
  const cpu1 = cpuNs(id);
  const mem1 = Number(cg(id, 'memory', 'memory.usage_in_bytes', 'memory.current'));
  const f = parsePrometheus(text);
  const of = (name: string, cid = id) => {
    const fam = f.get(name);
    assert.ok(fam, `family ${name}`);
    const s = fam.samples.find((x) => x.labels.id === cid);
    assert.ok(s, `${name} of ${cid}`);
    return s;
  };
  assert.deepEqual(of('brig_container_pids').labels, { id, name: 'met.rics-1', image: IMAGE });
  assert.equal(f.get('brig_container_cpu_usage_seconds_total')!.type, 'counter');
  assert.equal(f.get('brig_container_memory_limit_bytes')!.type, 'gauge');
  assert.equal(of('brig_container_pids').value, Number(cg(id, 'pids', 'pids.current', 'pids.current')));
  assert.equal(of('brig_container_memory_limit_bytes').value, 32 * 1024 * 1024);
  const cpu = of('brig_container_cpu_usage_seconds_total').value;
  assert.ok(cpu >= cpu0 / 1e9 && cpu <= cpu1 / 1e9, `cpu ${cpu} within [${cpu0 / 1e9}, ${cpu1 / 1e9}]`);
  const mem = of('brig_container_memory_usage_bytes').value;
  assert.ok(mem >= Math.min(mem0, mem1) && mem <= Math.max(mem0, mem1), `memory ${mem} within [${mem0}, ${mem1}]`);
  assert.ok(of('brig_container_memory_working_set_bytes').value <= mem);
  assert.equal(of('brig_container_network_receive_bytes_total').value, 0, 'loopback only');
  assert.equal(of('brig_container_restart_count').value, 0);
  assert.equal(of('brig_container_restart_count', stopped).value, 0, 'every container has a restart count');
  assert.equal(f.get('brig_container_pids')!.samples.find((s) => s.labels.id === stopped), undefined, 'a stopped one has no usage');
});
