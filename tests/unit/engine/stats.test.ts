/**
 * The engine's stats reader (src/engine/stats) without root: /proc/stat, net/dev and meminfo
 * from fixture text; the runtime's cgroup managers reading a temporary directory laid out as
 * cgroupfs (v2 from fixture text, which this v1 host cannot show for real, and v1), turned
 * into docker's stats JSON as moby's statsV1/statsV2 do; the stream's precpu and one-shot rules.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { openCgroupManager } from '../../../src/runtime/cgroups/index.js';
import { dockerCgroupStats } from '../../../src/engine/stats/from-cgroup.js';
import { parseMemTotal } from '../../../src/engine/stats/machine-memory.js';
import { parseNetDev } from '../../../src/engine/stats/net-dev.js';
import { StatsReader, type StatsTarget } from '../../../src/engine/stats/reader.js';
import { parseProcStat } from '../../../src/engine/stats/system-cpu.js';
import { ZERO_TIME } from '../../../src/engine/stats/types.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-stats-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function dir(name: string, files: Record<string, string>): string {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text);
  return d;
}

// user nice system idle iowait irq softirq steal guest guest_nice
const PROC_STAT = `cpu  100 2 30 400 5 6 7 8 0 0
cpu0 50 1 15 200 2 3 3 4 0 0
cpu1 50 1 15 200 3 3 4 4 0 0
intr 12345 0 0
cpu9 this line is past the cpu block and not counted
`;

test('/proc/stat: the first seven fields of "cpu" in ns (USER_HZ 100), steal left out; cpuN lines counted', () => {
  assert.deepEqual(parseProcStat(PROC_STAT), { systemUsage: (100 + 2 + 30 + 400 + 5 + 6 + 7) * 10_000_000, onlineCpus: 2 });
  assert.throws(() => parseProcStat('cpu  1 2 3\n'), /3 fields/);
});

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:    1296      16    1    2    0     0          0         0      936      12    3    4    0     0       0          0
veth-x:10000000000 7 0 0 0 0 0 0 20 8 0 0 0 0 0 0
`;

test('net/dev: per interface, loopback left out, a name glued to its counter still read', () => {
  assert.deepEqual(parseNetDev(NET_DEV), {
    eth0: { rx_bytes: 1296, rx_packets: 16, rx_errors: 1, rx_dropped: 2, tx_bytes: 936, tx_packets: 12, tx_errors: 3, tx_dropped: 4 },
    'veth-x': { rx_bytes: 10_000_000_000, rx_packets: 7, rx_errors: 0, rx_dropped: 0, tx_bytes: 20, tx_packets: 8, tx_errors: 0, tx_dropped: 0 },
  });
  assert.deepEqual(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n')), {});
});

test('meminfo: MemTotal in bytes', () => {
  assert.equal(parseMemTotal('MemTotal:       24686000 kB\nMemFree:  1 kB\n'), 24686000 * 1024);
  assert.equal(parseMemTotal('nothing\n'), 0);
});

const MACHINE = 8 * 1024 ** 3;

// A cgroup v2 leaf as the kernel shows it (5.15), with a 64 MiB memory.max.
const V2 = {
  'cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 1500\n',
  'memory.current': '10000000\n',
  'memory.max': '67108864\n',
  'memory.peak': '12000000\n',
  'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n',
  'memory.swap.current': '0\n',
  'memory.swap.max': 'max\n',
  'memory.stat': 'anon 7000000\nfile 3000000\nkernel_stack 16384\nshmem 1000000\ninactive_file 2000000\nactive_file 1000000\npgfault 42\nsome_new_key 9\n',
  'pids.current': '3\n',
  'pids.max': 'max\n',
  'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
};

test('cgroup v2 (fixture text): read by the runtime\'s v2 manager, converted as moby statsV2', async () => {
  const unified = dir('v2', V2);
  const cg = await openCgroupManager({ version: 'v2', path: '/brig/x', dirs: { unified }, created: [] }).stats();
  const d = dockerCgroupStats(cg, 'v2', MACHINE);
  assert.deepEqual(d.cpu_stats, {
    cpu_usage: { total_usage: 2_500_000_000, usage_in_kernelmode: 500_000_000, usage_in_usermode: 2_000_000_000 },
    throttling_data: { periods: 10, throttled_periods: 3, throttled_time: 1_500_000 },
  });
  assert.equal(d.memory_stats.usage, 10_000_000);
  assert.equal(d.memory_stats.limit, 67108864);
  assert.equal(d.memory_stats.max_usage, undefined, 'docker reports no max_usage on v2');
  assert.equal(d.memory_stats.stats?.inactive_file, 2_000_000);
  assert.equal(d.memory_stats.stats?.anon, 7_000_000);
  assert.equal(d.memory_stats.stats?.slab, 0, 'v2 keys docker lists are there, zero when the kernel lacks them');
  assert.equal(d.memory_stats.stats?.total_inactive_file, undefined, 'no v1 key: the CLI tells v1 from v2 by it');
  assert.equal(d.memory_stats.stats?.some_new_key, undefined);
  assert.deepEqual(d.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 8192 },
    { major: 253, minor: 1, op: 'read', value: 100 },
    { major: 253, minor: 1, op: 'write', value: 0 },
  ]);
  assert.equal(d.blkio_stats.io_serviced_recursive, null);
  assert.deepEqual(d.pids_stats, { current: 3 });

  // No limit ("max"): docker reports the host's memory.
  const unlimited = dir('v2-unlimited', { ...V2, 'memory.max': 'max\n', 'pids.max': '100\n' });
  const d2 = dockerCgroupStats(await openCgroupManager({ version: 'v2', path: '/brig/y', dirs: { unified: unlimited }, created: [] }).stats(), 'v2', MACHINE);
  assert.equal(d2.memory_stats.limit, MACHINE);
  assert.deepEqual(d2.pids_stats, { current: 3, limit: 100 });
});

test('cgroup v1: per-CPU usage, ticks to ns, the kernel\'s blkio op words, v1 memory.stat keys, unlimited → host memory', async () => {
  const dirs = {
    cpuacct: dir('v1/cpuacct', { 'cpuacct.usage': '3000000000\n', 'cpuacct.usage_percpu': '1000000000 2000000000 0 0 \n', 'cpuacct.stat': 'user 250\nsystem 50\n' }),
    cpu: dir('v1/cpu', { 'cpu.stat': 'nr_periods 4\nnr_throttled 1\nthrottled_time 999\n' }),
    memory: dir('v1/memory', {
      'memory.usage_in_bytes': '104857600\n',
      'memory.max_usage_in_bytes': '110000000\n',
      'memory.limit_in_bytes': '9223372036854771712\n',
      'memory.failcnt': '0\n',
      'memory.stat': 'cache 60000000\nrss 40000000\ninactive_file 50000000\ntotal_inactive_file 52428800\ntotal_rss 40000000\n',
    }),
    pids: dir('v1/pids', { 'pids.current': '2\n', 'pids.max': '64\n' }),
    blkio: dir('v1/blkio', { 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 4608\nTotal 4608\n' }),
  };
  const cg = await openCgroupManager({ version: 'v1', path: '/brig/z', dirs, created: [] }).stats();
  const d = dockerCgroupStats(cg, 'v1', MACHINE);
  assert.deepEqual(d.cpu_stats.cpu_usage, { total_usage: 3e9, percpu_usage: [1e9, 2e9, 0, 0], usage_in_kernelmode: 50 * 1e7, usage_in_usermode: 250 * 1e7 });
  assert.deepEqual(d.cpu_stats.throttling_data, { periods: 4, throttled_periods: 1, throttled_time: 999 });
  assert.equal(d.memory_stats.usage, 104857600);
  assert.equal(d.memory_stats.max_usage, 110000000);
  assert.equal(d.memory_stats.limit, MACHINE, '2^63-4096 is no limit: the host\'s memory');
  assert.equal(d.memory_stats.stats?.total_inactive_file, 52428800);
  assert.equal(d.memory_stats.stats?.total_cache, 0);
  assert.equal(d.memory_stats.stats?.anon, undefined);
  assert.deepEqual(d.blkio_stats.io_service_bytes_recursive?.map((e) => `${e.op}=${e.value}`), ['Read=4096', 'Write=512', 'Sync=4608', 'Async=0', 'Discard=0', 'Total=4608']);
  assert.deepEqual(d.pids_stats, { current: 2, limit: 64 });
});

/** A reader over fixture /proc and v2 cgroup text; each cgroup read advances the CPU counters. */
function fixtureReader(opts: { running?: boolean; removeAfter?: number } = {}) {
  const proc = dir(`proc-${Math.random()}`, {});
  mkdirSync(path.join(proc, '42', 'net'), { recursive: true });
  writeFileSync(path.join(proc, '42', 'net', 'dev'), NET_DEV);
  writeFileSync(path.join(proc, 'meminfo'), `MemTotal: ${MACHINE / 1024} kB\n`);
  let reads = 0;
  let finds = 0;
  const target: StatsTarget = { id: 'a'.repeat(64), name: 'web', running: opts.running ?? true, pid: 42 };
  const reader = new StatsReader({
    procRoot: proc,
    intervalMs: 5,
    now: () => new Date(Date.UTC(2024, 0, 1, 0, 0, reads)),
    cgroupVersion: async () => 'v2',
    find: async (ref) => {
      finds++;
      if (ref !== target.id && ref !== 'web') throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
      if (opts.removeAfter !== undefined && finds > opts.removeAfter) throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
      return target;
    },
    cgroupStats: async () => {
      reads++;
      // system: 1 s of 2 CPUs per read (200 ticks); container: 0.5 s per read.
      writeFileSync(path.join(proc, 'stat'), `cpu  ${reads * 200} 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0\n`);
      const unified = dir(`cg-${Math.random()}`, { ...V2, 'cpu.stat': `usage_usec ${reads * 500000}\nuser_usec 0\nsystem_usec 0\n` });
      return openCgroupManager({ version: 'v2', path: '/brig/a', dirs: { unified }, created: [] }).stats();
    },
  });
  return { reader, target };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('stream=false: two reads, the second sent with the first as precpu; name with "/", networks without lo', async () => {
  const { reader, target } = fixtureReader();
  const [s, more] = await all(reader.stream('web', { stream: false }));
  assert.equal(more, undefined);
  assert.ok(s);
  assert.equal(s.id, target.id);
  assert.equal(s.name, '/web');
  assert.equal(s.read, '2024-01-01T00:00:01.000Z', 'the time taken just before the second cgroup read');
  assert.equal(s.preread, '2024-01-01T00:00:00.000Z');
  assert.equal(s.cpu_stats.cpu_usage.total_usage, 1_000_000_000);
  assert.equal(s.precpu_stats.cpu_usage.total_usage, 500_000_000);
  assert.equal(s.cpu_stats.system_cpu_usage, 400 * 1e7);
  assert.equal(s.precpu_stats.system_cpu_usage, 200 * 1e7);
  assert.equal(s.cpu_stats.online_cpus, 2);
  assert.deepEqual(Object.keys(s.networks ?? {}), ['eth0', 'veth-x']);
  assert.equal(s.memory_stats.limit, 67108864);
});

test('one-shot: one read at once, precpu empty; a stopped container: name and id only', async () => {
  const { reader } = fixtureReader();
  const [s] = await all(reader.stream('web', { stream: false, oneShot: true }));
  assert.equal(s?.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(s?.precpu_stats.system_cpu_usage, undefined);
  assert.equal(s?.preread, ZERO_TIME);

  const stopped = fixtureReader({ running: false }).reader;
  const [e] = await all(stopped.stream('web', { stream: false }));
  assert.equal(e?.read, ZERO_TIME);
  assert.equal(e?.name, '/web');
  assert.deepEqual(e?.memory_stats, {});
  assert.equal(e?.networks, undefined);
  assert.equal(JSON.stringify(e?.blkio_stats.io_service_bytes_recursive), 'null');
});

test('stream: each sample carries the previous one\'s CPU; ends when the container is removed or the caller aborts', async () => {
  const { reader } = fixtureReader({ removeAfter: 3 });
  const got = await all(reader.stream('web'));
  assert.equal(got.length, 3);
  assert.equal(got[0]?.precpu_stats.cpu_usage.total_usage, 0, 'the first has an empty precpu, as docker\'s');
  assert.equal(got[1]?.precpu_stats.cpu_usage.total_usage, got[0]?.cpu_stats.cpu_usage.total_usage);
  assert.equal(got[2]?.preread, got[1]?.read);

  const ac = new AbortController();
  const it = fixtureReader().reader.stream('web', { signal: ac.signal });
  let n = 0;
  for await (const _ of it) if (++n === 2) ac.abort();
  assert.equal(n, 2);
});

test('an unknown container is CONTAINER_NOT_FOUND before any sample', async () => {
  const { reader } = fixtureReader();
  await assert.rejects(all(reader.stream('nosuch', { stream: false })), (e: BrigError) => e.code === 'CONTAINER_NOT_FOUND' && /No such container: nosuch/.test(e.message));
});

test('a container that stops between its record and the cgroup read gives an empty sample, not an error', async () => {
  const proc = dir('proc-gone', { meminfo: 'MemTotal: 1 kB\n', stat: PROC_STAT });
  const reader = new StatsReader({
    procRoot: proc,
    cgroupVersion: async () => 'v1',
    find: async () => ({ id: 'b'.repeat(64), name: 'gone', running: true, pid: 999999 }),
    cgroupStats: async () => {
      throw new BrigError('CONTAINER_NOT_RUNNING', 'container is not running');
    },
  });
  const [s] = await all(reader.stream('gone', { stream: false, oneShot: true }));
  assert.equal(s?.read, ZERO_TIME);
  assert.equal(s?.name, '/gone');
});
