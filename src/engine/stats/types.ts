/**
 * GET /containers/{id}/stats, docker's wire shape (moby api/types/container/stats.go, as
 * API 1.41 / docker 20.10 sends it on Linux): what `brig stats` computes its columns from
 * and what `brig serve` will send. Counters are numbers: past 2^53 (system_cpu_usage after
 * months of uptime) they lose nanoseconds, not meaning.
 *
 * Fields docker marks omitempty are left out here when zero or empty, so the JSON is
 * docker's byte for byte in shape.
 */

export interface ThrottlingData {
  periods: number;
  throttled_periods: number;
  /** nanoseconds */
  throttled_time: number;
}

export interface CpuUsage {
  /** nanoseconds */
  total_usage: number;
  /** cgroup v1 only (cpuacct.usage_percpu), one per possible CPU. */
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  /** /proc/stat's cpu line in nanoseconds (jiffies × 1e9 / USER_HZ). */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: ThrottlingData;
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  /** memory.stat: v1's fixed set of keys (total_inactive_file, ...) or v2's (inactive_file, ...). */
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface BlkioStatEntry {
  major: number;
  minor: number;
  /** "Read", "Write", "Sync", ... on v1 (the kernel's words); "read" / "write" on v2, as docker. */
  op: string;
  value: number;
}

/** Each list is null when the kernel has no such file, as Go encodes a nil slice. */
export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null;
  io_serviced_recursive: BlkioStatEntry[] | null;
  io_queue_recursive: BlkioStatEntry[] | null;
  io_service_time_recursive: BlkioStatEntry[] | null;
  io_wait_time_recursive: BlkioStatEntry[] | null;
  io_merged_recursive: BlkioStatEntry[] | null;
  io_time_recursive: BlkioStatEntry[] | null;
  sectors_recursive: BlkioStatEntry[] | null;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface PidsStats {
  current?: number;
  /** Absent when pids.max is "max". */
  limit?: number;
}

export interface ContainerStatsResponse {
  /** RFC 3339; "0001-01-01T00:00:00Z" (Go's zero time) when nothing was read. */
  read: string;
  preread: string;
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  /** With docker's leading "/". */
  name: string;
  id: string;
  /** Per interface of the container's network namespace, loopback left out; absent when none. */
  networks?: Record<string, NetworkStats>;
}

/** Go's zero time.Time, as docker writes an unset read/preread. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function emptyCpuStats(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

export function emptyBlkioStats(): BlkioStats {
  return {
    io_service_bytes_recursive: null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
}

/**
 * What docker answers for a container that is not running (or stopped while being read):
 * only its name and id, every number zero.
 */
export function emptyStats(id: string, name: string): ContainerStatsResponse {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: emptyBlkioStats(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpuStats(),
    precpu_stats: emptyCpuStats(),
    memory_stats: {},
    name,
    id,
  };
}
