/**
 * Reading a container's statistics in docker's shape (GET /containers/{id}/stats), with
 * moby's sampling rules (daemon/stats.go, daemon/stats/collector.go):
 *
 * - one sample = the runtime's cgroup readings (the manager that made the cgroup reads it,
 *   v1 or v2), /proc/stat for the system's CPU time and CPU count, the init process's
 *   /proc/<pid>/net/dev for its network namespace, /proc/meminfo for the host's memory;
 * - stream: a sample now and then one every second; each carries the previous one's CPU
 *   readings as precpu_stats (the first an empty one), until the caller aborts or the
 *   container is removed. A container that is not running gives empty samples (name and
 *   id only), as docker's collector publishes;
 * - not streaming: two samples a second apart and the second sent, so its precpu_stats
 *   make a CPU % over that second (what `docker stats --no-stream` shows); with one-shot,
 *   the first sample at once, without precpu; a container not running answers at once
 *   with an empty sample.
 *
 * The engine hands in what it knows (the container's record, the runtime's cgroup reading),
 * so this file reads only /proc and never writes anything.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import type { CgroupStats } from '../../runtime/cgroups/index.js';
import { timersPromises } from '../../util/builtins.js';
import { dockerCgroupStats } from './from-cgroup.js';
import { parseMemTotal } from './machine-memory.js';
import { parseNetDev } from './net-dev.js';
import { parseProcStat } from './system-cpu.js';
import { type ContainerStatsResponse, emptyCpuStats, emptyStats, type CpuStats, ZERO_TIME } from './types.js';

export interface StatsTarget {
  id: string;
  /** Without docker's leading "/". */
  name: string;
  /** Running or paused (docker's IsRunning): only then has it a cgroup to read. */
  running: boolean;
  /** The container's init, host pid: its /proc/<pid>/net/dev is the container's network. */
  pid: number;
}

export interface StatsReaderDeps {
  /** The container as the store has it now; CONTAINER_NOT_FOUND once removed. */
  find(ref: string): Promise<StatsTarget>;
  /** The runtime's cgroup readings; CONTAINER_NOT_RUNNING / CONTAINER_NOT_FOUND when it stopped meanwhile. */
  cgroupStats(id: string): Promise<CgroupStats>;
  /** Which manager reads the cgroups (the host's layout): it decides docker's field set. */
  cgroupVersion(): Promise<'v1' | 'v2' | 'none'>;
  /** /proc, or a fixture directory in tests. */
  procRoot?: string;
  now?: () => Date;
  /** Between streamed samples; docker's collector waits one second. */
  intervalMs?: number;
}

export interface StatsStreamOptions {
  /** Docker's `stream` (default true). */
  stream?: boolean;
  /** Docker's `one-shot`: with stream=false, one sample at once, without precpu. */
  oneShot?: boolean;
  signal?: AbortSignal;
}

/** The container stopped or went between the record and the cgroup read. */
function gone(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'CONTAINER_NOT_RUNNING' || code === 'CONTAINER_NOT_FOUND' || hasErrno(e, 'ENOENT') || hasErrno(e, 'ESRCH');
}

export class StatsReader {
  private readonly proc: string;

  constructor(private readonly deps: StatsReaderDeps) {
    this.proc = deps.procRoot ?? '/proc';
  }

  /** One sample of a container found already (precpu empty). */
  async sample(target: StatsTarget): Promise<ContainerStatsResponse> {
    const name = `/${target.name}`;
    if (!target.running) return emptyStats(target.id, name);
    const read = (this.deps.now ?? (() => new Date()))();
    let version: 'v1' | 'v2' | 'none';
    let cg: CgroupStats;
    let netdev: string | undefined;
    try {
      [version, cg, netdev] = await Promise.all([
        this.deps.cgroupVersion(),
        this.deps.cgroupStats(target.id),
        target.pid > 0 ? readFile(path.join(this.proc, String(target.pid), 'net', 'dev'), 'utf8') : Promise.resolve(undefined),
      ]);
    } catch (e) {
      if (gone(e)) return emptyStats(target.id, name);
      throw e;
    }
    // Read right after the container's numbers, as docker does, so the two intervals match.
    const [statText, meminfo] = await Promise.all([readFile(path.join(this.proc, 'stat'), 'utf8'), readFile(path.join(this.proc, 'meminfo'), 'utf8')]);
    const system = parseProcStat(statText);
    const fromCgroup = dockerCgroupStats(cg, version === 'v2' ? 'v2' : 'v1', parseMemTotal(meminfo));
    const networks = netdev === undefined ? {} : parseNetDev(netdev);
    return {
      read: read.toISOString(),
      preread: ZERO_TIME,
      pids_stats: fromCgroup.pids_stats,
      blkio_stats: fromCgroup.blkio_stats,
      num_procs: 0,
      storage_stats: {},
      cpu_stats: { ...fromCgroup.cpu_stats, system_cpu_usage: system.systemUsage, online_cpus: system.onlineCpus },
      precpu_stats: emptyCpuStats(),
      memory_stats: fromCgroup.memory_stats,
      name,
      id: target.id,
      ...(Object.keys(networks).length > 0 ? { networks } : {}),
    };
  }

  /** docker's ContainerStats: see the file comment. Throws CONTAINER_NOT_FOUND for an unknown ref. */
  async *stream(ref: string, opts: StatsStreamOptions = {}): AsyncGenerator<ContainerStatsResponse> {
    const stream = opts.stream ?? true;
    const first = await this.deps.find(ref);
    if (!stream && (!first.running || opts.oneShot)) {
      yield await this.sample(first);
      return;
    }
    let needPrevious = !stream;
    let previous: { read: string; cpu: CpuStats } = { read: ZERO_TIME, cpu: emptyCpuStats() };
    for (let target = first; ;) {
      const s = await this.sample(target);
      if (needPrevious) {
        needPrevious = false;
      } else {
        s.preread = previous.read;
        s.precpu_stats = previous.cpu;
        yield s;
        if (!stream) return;
      }
      previous = { read: s.read, cpu: s.cpu_stats };
      try {
        await timersPromises().setTimeout(this.deps.intervalMs ?? 1000, undefined, { signal: opts.signal });
        target = await this.deps.find(target.id);
      } catch (e) {
        // Aborted by the caller, or the container was removed: the stream ends, as docker's does.
        if ((e as { name?: string }).name === 'AbortError') return;
        if (e instanceof BrigError && e.code === 'CONTAINER_NOT_FOUND') return;
        throw e;
      }
    }
  }
}
