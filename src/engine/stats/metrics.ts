/**
 * Per-container metrics for Prometheus (`brig system metrics`; later /metrics under
 * `brig serve`), read through the Engine interface so a local and a remote engine give the
 * same: one one-shot stats sample per running (or paused) container, and its inspect for
 * the restart count and health. Every sample carries the labels id, name and image.
 *
 * The numbers are the stats JSON's, so they agree with `brig stats`: memory working set is
 * its MEM USAGE (usage less inactive page cache), the limit is docker's (the host's memory
 * when the cgroup has none), network and block I/O are summed over interfaces and devices
 * (reads are ops starting with r/R, writes w/W, as docker's CLI sums them).
 *
 * A container that stops between the list and its read is left out, not reported as zeros.
 */
import type { ContainerSummary, Engine } from '../engine.js';
import type { MetricFamily, MetricType } from './prometheus.js';
import type { ContainerStatsResponse } from './types.js';

const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy'] as const;

interface Row {
  labels: Record<string, string>;
  stats?: ContainerStatsResponse;
  restartCount: number;
  health?: string;
}

function sum<T>(list: T[] | null | undefined, f: (x: T) => number): number {
  return (list ?? []).reduce((a, x) => a + f(x), 0);
}

function blkio(s: ContainerStatsResponse, first: string): number {
  return sum(s.blkio_stats.io_service_bytes_recursive, (e) => (e.op[0]?.toLowerCase() === first ? e.value : 0));
}

/** docker CLI's calculateMemUsageUnixNoCache (cli/format/stats.ts has the CLI's copy). */
function workingSet(s: ContainerStatsResponse): number {
  const m = s.memory_stats;
  const usage = m.usage ?? 0;
  const v1 = m.stats?.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = m.stats?.inactive_file ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

async function row(engine: Engine, c: ContainerSummary): Promise<Row | undefined> {
  const labels = { id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), image: c.Image };
  const running = c.State === 'running' || c.State === 'paused';
  try {
    const [inspect, stats] = await Promise.all([
      engine.inspectContainer(c.Id),
      running ? (async () => {
        for await (const s of engine.containerStats(c.Id, { stream: false, oneShot: true })) return s;
        return undefined;
      })() : Promise.resolve(undefined),
    ]);
    const health = (inspect.State as { Health?: { Status?: string } }).Health?.Status;
    // A sample with no read time: it stopped meanwhile, so it has no numbers to give.
    const live = stats && stats.read !== '0001-01-01T00:00:00Z' ? stats : undefined;
    return { labels, restartCount: inspect.RestartCount ?? 0, ...(live ? { stats: live } : {}), ...(health ? { health } : {}) };
  } catch (e) {
    // Removed between the list and the read.
    if ((e as { code?: string }).code === 'CONTAINER_NOT_FOUND') return undefined;
    throw e;
  }
}

export async function collectMetrics(engine: Engine): Promise<MetricFamily[]> {
  const list = await engine.listContainers({ all: true });
  const rows = (await Promise.all(list.map((c) => row(engine, c)))).filter((r): r is Row => r !== undefined);
  const withStats = rows.filter((r) => r.stats);
  const family = (name: string, type: MetricType, help: string, value: (s: ContainerStatsResponse) => number): MetricFamily => ({
    name,
    type,
    help,
    samples: withStats.map((r) => ({ labels: r.labels, value: value(r.stats!) })),
  });
  const families: MetricFamily[] = [
    family('brig_container_cpu_usage_seconds_total', 'counter', 'CPU time the container used, in seconds (cgroup cpuacct.usage or cpu.stat usage_usec).', (s) => s.cpu_stats.cpu_usage.total_usage / 1e9),
    family('brig_container_cpu_user_seconds_total', 'counter', 'CPU time the container used in user mode, in seconds.', (s) => s.cpu_stats.cpu_usage.usage_in_usermode / 1e9),
    family('brig_container_cpu_system_seconds_total', 'counter', 'CPU time the container used in kernel mode, in seconds.', (s) => s.cpu_stats.cpu_usage.usage_in_kernelmode / 1e9),
    family('brig_container_memory_usage_bytes', 'gauge', 'Memory the container\'s cgroup is charged, page cache included (memory.usage_in_bytes or memory.current).', (s) => s.memory_stats.usage ?? 0),
    family('brig_container_memory_working_set_bytes', 'gauge', 'Memory usage less the inactive page cache: brig stats\' MEM USAGE.', workingSet),
    family('brig_container_memory_limit_bytes', 'gauge', 'The container\'s memory limit; the host\'s memory when it has none.', (s) => s.memory_stats.limit ?? 0),
    family('brig_container_pids', 'gauge', 'Processes and threads in the container (pids.current).', (s) => s.pids_stats.current ?? 0),
    family('brig_container_network_receive_bytes_total', 'counter', 'Bytes received on the container\'s network interfaces, loopback left out.', (s) => sum(Object.values(s.networks ?? {}), (n) => n.rx_bytes)),
    family('brig_container_network_transmit_bytes_total', 'counter', 'Bytes sent on the container\'s network interfaces, loopback left out.', (s) => sum(Object.values(s.networks ?? {}), (n) => n.tx_bytes)),
    family('brig_container_blkio_read_bytes_total', 'counter', 'Bytes the container read from block devices.', (s) => blkio(s, 'r')),
    family('brig_container_blkio_write_bytes_total', 'counter', 'Bytes the container wrote to block devices.', (s) => blkio(s, 'w')),
    {
      name: 'brig_container_restart_count',
      type: 'gauge',
      help: 'Times the container was restarted by its restart policy (RestartCount); every container.',
      samples: rows.map((r) => ({ labels: r.labels, value: r.restartCount })),
    },
  ];
  const healthy = rows.filter((r) => r.health !== undefined);
  if (healthy.length > 0) {
    families.push({
      name: 'brig_container_health_status',
      type: 'gauge',
      help: 'The container\'s health check status: 1 for the status it is in, 0 for the others.',
      samples: healthy.flatMap((r) => HEALTH_STATUSES.map((status) => ({ labels: { ...r.labels, status }, value: r.health === status ? 1 : 0 }))),
    });
  }
  return families;
}
