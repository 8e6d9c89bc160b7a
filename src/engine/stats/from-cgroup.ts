/**
 * The runtime's cgroup readings (runc's `events --stats` shape, read by the same cgroup
 * manager that made the cgroup, v1 or v2) in docker's stats shape, converted field for
 * field as moby's statsV1 / statsV2 (daemon/stats_unix.go) convert containerd's:
 *
 * - v1: cpuacct total, per-CPU, user/kernel; memory.usage_in_bytes, max_usage, failcnt,
 *   limit and a fixed set of memory.stat keys (total_inactive_file, ... zero when missing);
 *   blkio entries with the kernel's op words (Read, Write, Sync, ...).
 * - v2: cpu.stat usage/user/system µs → ns, no per-CPU list; memory.current, memory.max and
 *   v2's memory.stat keys (inactive_file, ...), no max_usage; io.stat rbytes/wbytes as
 *   "read"/"write" pairs per device, the other blkio lists null.
 *
 * A limit above the host's memory (no --memory: v1's 2^63-4096, v2's "max") is reported as
 * the host's memory, as docker does. System CPU, networks, name and time are added by the
 * reader (reader.ts).
 */
import type { CgroupStats } from '../../runtime/cgroups/index.js';
import type { BlkioStatEntry, BlkioStats, CpuStats, MemoryStats, PidsStats } from './types.js';
import { emptyBlkioStats } from './types.js';

/** moby statsV1's memory.stat keys, in its order. */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit',
  'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty',
  'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault', 'total_inactive_anon',
  'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];

/** moby statsV2's memory.stat keys, in its order. */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable',
  'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim',
  'pgrefill', 'pgscan', 'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc',
  'thp_collapse_alloc',
];

export interface DockerCgroupStats {
  cpu_stats: CpuStats;
  memory_stats: MemoryStats;
  blkio_stats: BlkioStats;
  pids_stats: PidsStats;
}

function pick(raw: Record<string, number> | undefined, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, raw?.[k] ?? 0]));
}

/** Go's omitempty: a zero number is left out. */
function nonZero<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v ? ({ [key]: v } as Record<K, number>) : {};
}

export function dockerCgroupStats(s: CgroupStats, version: 'v1' | 'v2', machineMemory: number): DockerCgroupStats {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const cpu_stats: CpuStats = {
    cpu_usage: {
      total_usage: u.total ?? 0,
      ...(version === 'v1' && u.percpu?.length ? { percpu_usage: u.percpu } : {}),
      usage_in_kernelmode: u.kernel,
      usage_in_usermode: u.user,
    },
    throttling_data: { periods: t.periods ?? 0, throttled_periods: t.throttledPeriods ?? 0, throttled_time: t.throttledTime ?? 0 },
  };
  const m = s.memory.usage;
  let limit = m.limit;
  if (limit > machineMemory && machineMemory > 0) limit = machineMemory;
  const memory_stats: MemoryStats = {
    ...nonZero('usage', m.usage),
    // v2 has no max_usage in docker (memory.peak is newer than its reader).
    ...(version === 'v1' ? nonZero('max_usage', m.max) : {}),
    stats: pick(s.memory.raw, version === 'v1' ? V1_MEMORY_KEYS : V2_MEMORY_KEYS),
    ...nonZero('failcnt', m.failcnt),
    ...nonZero('limit', limit),
  };
  const blkio_stats = emptyBlkioStats();
  const bytes = s.blkio.ioServiceBytesRecursive;
  const entries = (list: typeof bytes, lower: boolean): BlkioStatEntry[] | null =>
    list === undefined ? null : list.map((e) => ({ major: e.major ?? 0, minor: e.minor ?? 0, op: lower ? (e.op ?? '').toLowerCase() : (e.op ?? ''), value: e.value ?? 0 }));
  if (version === 'v1') {
    blkio_stats.io_service_bytes_recursive = entries(bytes, false);
    blkio_stats.io_serviced_recursive = entries(s.blkio.ioServicedRecursive, false);
  } else {
    blkio_stats.io_service_bytes_recursive = entries(bytes, true);
  }
  const pids_stats: PidsStats = { ...nonZero('current', s.pids.current), ...nonZero('limit', s.pids.limit) };
  return { cpu_stats, memory_stats, blkio_stats, pids_stats };
}
