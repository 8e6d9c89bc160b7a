/**
 * brig system metrics without root (src/engine/stats/metrics.ts, prometheus.ts): the text
 * format and its escaping, and the families read from a fake Engine: running containers'
 * numbers, restart counts for all, health only where a check exists.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatsResponse, ContainerSummary, Engine } from '../../../src/engine/engine.js';
import { collectMetrics } from '../../../src/engine/stats/metrics.js';
import { escapeLabelValue, renderPrometheus } from '../../../src/engine/stats/prometheus.js';
import { emptyStats } from '../../../src/engine/stats/types.js';

test('text format: HELP and TYPE once per family, label values escaped, special values spelled as Go', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const text = renderPrometheus([
    { name: 'x_total', type: 'counter', help: 'a \\ help\nline', samples: [{ labels: { name: 'we"b' }, value: 1.5 }, { labels: { name: 'b' }, value: NaN }] },
    { name: 'y', type: 'gauge', help: 'y', samples: [{ labels: {}, value: Infinity }] },
  ]);
  assert.equal(text, '# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{name="we\\"b"} 1.5\nx_total{name="b"} NaN\n# HELP y y\n# TYPE y gauge\ny +Inf\n');
});

function summary(id: string, name: string, state: string): ContainerSummary {
  return { Id: id, Names: [`/${name}`], Image: 'localhost/bb:1', State: state } as ContainerSummary;
}

function fakeEngine(health: Record<string, string>): Engine {
  const list = [summary('a'.repeat(64), 'run"ning', 'running'), summary('b'.repeat(64), 'stopped', 'exited')];
  const stats = (id: string): ContainerStatsResponse => {
    const s = emptyStats(id, '/x');
    s.read = '2024-01-01T00:00:00Z';
    s.cpu_stats.cpu_usage = { total_usage: 2_500_000_000, usage_in_kernelmode: 500_000_000, usage_in_usermode: 2_000_000_000 };
    s.memory_stats = { usage: 3000, limit: 67108864, stats: { total_inactive_file: 1000 } };
    s.pids_stats = { current: 4 };
    s.networks = { eth0: { rx_bytes: 10, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: 20, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } };
    s.blkio_stats.io_service_bytes_recursive = [{ major: 8, minor: 0, op: 'Read', value: 7 }, { major: 8, minor: 0, op: 'Total', value: 7 }, { major: 8, minor: 0, op: 'Write', value: 9 }];
    return s;
  };
  return {
    listContainers: async () => list,
    inspectContainer: async (id: string) => ({ RestartCount: id.startsWith('b') ? 3 : 0, State: health[id] ? { Health: { Status: health[id] } } : {} }),
    async *containerStats(id: string) {
      yield stats(id);
    },
  } as unknown as Engine;
}

test('families: numbers of running containers, restart counts of all, labels id/name/image', async () => {
  const text = renderPrometheus(await collectMetrics(fakeEngine({})));
  const lbl = `{id="${'a'.repeat(64)}",name="run\\"ning",image="localhost/bb:1"}`;
  for (const line of [
    `brig_container_cpu_usage_seconds_total${lbl} 2.5`,
    `brig_container_cpu_user_seconds_total${lbl} 2`,
    `brig_container_cpu_system_seconds_total${lbl} 0.5`,
    `brig_container_memory_usage_bytes${lbl} 3000`,
    `brig_container_memory_working_set_bytes${lbl} 2000`,
    `brig_container_memory_limit_bytes${lbl} 67108864`,
    `brig_container_pids${lbl} 4`,
    `brig_container_network_receive_bytes_total${lbl} 10`,
    `brig_container_network_transmit_bytes_total${lbl} 20`,
    `brig_container_blkio_read_bytes_total${lbl} 7`,
    `brig_container_blkio_write_bytes_total${lbl} 9`,
    `brig_container_restart_count{id="${'b'.repeat(64)}",name="stopped",image="localhost/bb:1"} 3`,
  ]) assert.ok(text.includes(`\n${line}\n`), `missing: ${line}\n${text}`);
  assert.ok(!/brig_container_pids\{id="b/.test(text), 'a stopped container has no usage numbers');
  assert.ok(!text.includes('health'), 'no health family without health checks');
});

test('health: one gauge per status, 1 for the current one, only for containers with a check', async () => {
  const text = renderPrometheus(await collectMetrics(fakeEngine({ ['b'.repeat(64)]: 'unhealthy' })));
  const health = text.split('\n').filter((l) => l.startsWith('brig_container_health_status{'));
  assert.deepEqual(health.map((l) => l.replace(/id="b+",name="stopped",image="localhost\/bb:1",/, '')), [
    'brig_container_health_status{status="starting"} 0',
    'brig_container_health_status{status="healthy"} 0',
    'brig_container_health_status{status="unhealthy"} 1',
  ]);
});
