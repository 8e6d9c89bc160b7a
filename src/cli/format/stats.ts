/**
 * docker stats' numbers and columns (docker/cli cli/command/container/stats_helpers.go and
 * formatter_stats.go), computed from the Engine's stats JSON:
 *
 *   CPU %        (Δ container CPU / Δ system CPU) × online CPUs × 100 between precpu_stats and
 *                cpu_stats; v1 counts percpu_usage when online_cpus is 0; 0 unless both grew
 *   MEM USAGE    usage − total_inactive_file (v1) or − inactive_file (v2): page cache that can
 *                be dropped is not counted (docker 20.10+, as cadvisor and CRI)
 *   MEM %        that / limit × 100 (0 without a limit)
 *   NET I/O      rx / tx bytes summed over the interfaces
 *   BLOCK I/O    io_service_bytes_recursive entries whose op starts with r / w, summed
 *   PIDS         pids_stats.current
 *
 * Memory in 1024-based units (units.BytesSize, "64MiB"), I/O in 1000-based ones with three
 * digits (units.HumanSizeWithPrecision, "1.2kB"). A container whose numbers did not come
 * (docker's IsInvalid) shows "--".
 */
import type { ContainerStatsResponse, CpuStats, MemoryStats } from '../../engine/engine.js';
import { bytesSize, humanSize } from '../brig/render.js';
import { goStruct } from './template.js';

export const STATS_DEFAULT = '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

const TYPE = 'container.statsContext';

export const STATS_HEADER = goStruct(TYPE, {
  BlockIO: 'BLOCK I/O',
  CPUPerc: 'CPU %',
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  MemPerc: 'MEM %',
  MemUsage: 'MEM USAGE / LIMIT',
  Name: 'NAME',
  NetIO: 'NET I/O',
  PIDs: 'PIDS',
});

/** docker's StatsEntry: one container's numbers, ready to print. */
export interface StatsEntry {
  /** What the user named (or the full id when listing all). */
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** No numbers (none came in time): every column but the names shows "--". */
  invalid: boolean;
}

export function cpuPercent(previous: CpuStats, current: CpuStats): number {
  const cpuDelta = current.cpu_usage.total_usage - previous.cpu_usage.total_usage;
  const systemDelta = (current.system_cpu_usage ?? 0) - (previous.system_cpu_usage ?? 0);
  let online = current.online_cpus ?? 0;
  if (online === 0) online = current.cpu_usage.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Usage without the inactive page cache: v1's total_inactive_file, else v2's inactive_file. */
export function memoryUsageNoCache(m: MemoryStats): number {
  const usage = m.usage ?? 0;
  const v1 = m.stats?.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = m.stats?.inactive_file ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

export function memoryPercent(limit: number, used: number): number {
  return limit !== 0 ? (used / limit) * 100 : 0;
}

export function blockIO(s: ContainerStatsResponse): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const c = e.op[0];
    if (c === 'r' || c === 'R') read += e.value;
    else if (c === 'w' || c === 'W') write += e.value;
  }
  return { read, write };
}

export function networkIO(s: ContainerStatsResponse): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return { rx, tx };
}

export function statsEntry(container: string, s: ContainerStatsResponse): StatsEntry {
  const memory = memoryUsageNoCache(s.memory_stats);
  const limit = s.memory_stats.limit ?? 0;
  const net = networkIO(s);
  const blk = blockIO(s);
  return {
    container,
    name: s.name,
    id: s.id,
    cpuPercentage: cpuPercent(s.precpu_stats, s.cpu_stats),
    memory,
    memoryLimit: limit,
    memoryPercentage: memoryPercent(limit, memory),
    networkRx: net.rx,
    networkTx: net.tx,
    blockRead: blk.read,
    blockWrite: blk.write,
    pidsCurrent: s.pids_stats.current ?? 0,
    invalid: false,
  };
}

/** docker's NewStats: nothing read yet (the name shows "--", the numbers zero). */
export function blankEntry(container: string): StatsEntry {
  return { container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0, networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, invalid: false };
}

/** docker's SetErrorAndReset: the names stay, the numbers go. */
export function invalidEntry(e: StatsEntry): StatsEntry {
  return { ...e, cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0, networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, invalid: true };
}

/** strconv.FormatFloat(v, 'f', 2, 64) + "%". */
export function formatPercentage(v: number): string {
  return `${v.toFixed(2)}%`;
}

const NO_VALUE = '--';

export function statsContext(e: StatsEntry, opts: { trunc: boolean }) {
  const bad = e.invalid;
  // Keys in sorted order: {{json .}} prints them so, as docker's MarshalJSON does.
  return goStruct(TYPE, {
    BlockIO: bad ? NO_VALUE : `${humanSize(e.blockRead)} / ${humanSize(e.blockWrite)}`,
    CPUPerc: bad ? NO_VALUE : formatPercentage(e.cpuPercentage),
    Container: e.container,
    ID: opts.trunc ? e.id.slice(0, 12) : e.id,
    MemPerc: bad ? NO_VALUE : formatPercentage(e.memoryPercentage),
    MemUsage: bad ? '-- / --' : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    Name: e.name.replace(/^\//, '') || NO_VALUE,
    NetIO: bad ? NO_VALUE : `${humanSize(e.networkRx)} / ${humanSize(e.networkTx)}`,
    PIDs: bad ? NO_VALUE : String(e.pidsCurrent),
  });
}
