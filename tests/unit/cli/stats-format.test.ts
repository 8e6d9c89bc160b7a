/**
 * docker stats' formulas and columns (src/cli/format/stats.ts) against figures worked out by
 * hand from docker/cli's stats_helpers.go and formatter_stats.go.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatsResponse, CpuStats } from '../../../src/engine/engine.js';
import { emptyStats } from '../../../src/engine/stats/types.js';
import { listFormatter } from '../../../src/cli/format/docker.js';
import { blankEntry, blockIO, cpuPercent, formatPercentage, invalidEntry, memoryPercent, memoryUsageNoCache, STATS_DEFAULT, STATS_HEADER, statsContext, statsEntry } from '../../../src/cli/format/stats.js';
import { bytesSize, humanSize } from '../../../src/cli/brig/render.js';

function cpu(total: number, system: number, online?: number, percpu?: number[]): CpuStats {
  return {
    cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0, ...(percpu ? { percpu_usage: percpu } : {}) },
    system_cpu_usage: system,
    ...(online !== undefined ? { online_cpus: online } : {}),
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

test('CPU %: Δcontainer / Δsystem × online CPUs × 100; v1 counts percpu_usage when online_cpus is 0; 0 unless both grew', () => {
  // 0.5 s of container CPU over 1 s of system time (which counts every CPU): × 2 CPUs = 100 %.
  assert.equal(cpuPercent(cpu(1e9, 10e9), cpu(1.5e9, 11e9, 2)), 100);
  // 0.2 s over 4 s, no online_cpus, 4 per-CPU entries: 0.05 × 4 × 100 = 20 %.
  assert.equal(cpuPercent(cpu(0, 0), cpu(2e8, 4e9, 0, [1, 1, 0, 0])), 20);
  assert.equal(cpuPercent(cpu(1e9, 10e9), cpu(1e9, 11e9, 2)), 0, 'no container CPU used');
  assert.equal(cpuPercent(cpu(1e9, 10e9), cpu(2e9, 10e9, 2)), 0, 'no system time passed');
  // docker's first streamed frame: an empty precpu, so the totals since boot.
  assert.equal(formatPercentage(cpuPercent(cpu(0, 0), cpu(3e9, 6e11, 2))), '1.00%');
});

test('memory: usage less total_inactive_file (v1) or inactive_file (v2); MEM % of the limit, 0 without one', () => {
  assert.equal(memoryUsageNoCache({ usage: 104857600, stats: { total_inactive_file: 52428800, inactive_file: 1 } }), 52428800);
  assert.equal(memoryUsageNoCache({ usage: 10_000_000, stats: { inactive_file: 2_000_000 } }), 8_000_000);
  // v1 key not below usage: docker falls through to inactive_file.
  assert.equal(memoryUsageNoCache({ usage: 100, stats: { total_inactive_file: 200, inactive_file: 30 } }), 70);
  assert.equal(memoryUsageNoCache({ usage: 100, stats: { inactive_file: 100 } }), 100);
  assert.equal(memoryUsageNoCache({}), 0);
  assert.equal(memoryPercent(209715200, 52428800), 25);
  assert.equal(memoryPercent(0, 5), 0);
});

test('units: go-units BytesSize (1024, %.4g) for memory, HumanSizeWithPrecision(3) for I/O', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(67108864), '64MiB');
  assert.equal(bytesSize(8_000_000), '7.629MiB');
  assert.equal(bytesSize(25_261_756_416), '23.53GiB');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(1_500_000), '1.5MB');
  assert.equal(humanSize(20_971_520), '21MB');
});

function sample(): ContainerStatsResponse {
  const s = emptyStats('0123456789abcdef'.repeat(4), '/web');
  s.read = '2024-01-01T00:00:01Z';
  s.precpu_stats = cpu(1e9, 10e9);
  s.cpu_stats = cpu(1.25e9, 11e9, 2);
  s.memory_stats = { usage: 104857600, limit: 209715200, stats: { total_inactive_file: 52428800 } };
  s.pids_stats = { current: 7 };
  s.networks = { eth0: { rx_bytes: 1000, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: 2_500_000, tx_packets: 0, tx_errors: 0, tx_dropped: 0 }, eth1: { rx_bytes: 234, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } };
  s.blkio_stats.io_service_bytes_recursive = [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 1_000_000 },
    { major: 8, minor: 0, op: 'Sync', value: 1_004_096 },
    { major: 8, minor: 0, op: 'Total', value: 1_004_096 },
    { major: 8, minor: 16, op: 'read', value: 904 },
  ];
  return s;
}

test('BLOCK I/O sums ops starting with r/R and w/W only (not Sync, Total)', () => {
  assert.deepEqual(blockIO(sample()), { read: 5000, write: 1_000_000 });
});

test('the columns: docker\'s table and header, values as docker prints them', () => {
  const e = statsEntry('web', sample());
  const out = listFormatter('', STATS_DEFAULT).render([statsContext(e, { trunc: true })], STATS_HEADER);
  assert.equal(
    out,
    'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O          BLOCK I/O   PIDS\n' +
      '0123456789ab   web       50.00%    50MiB / 200MiB      25.00%    1.23kB / 2.5MB   5kB / 1MB   7\n',
  );
  const c = statsContext(e, { trunc: false });
  assert.equal(c.ID, sample().id);
  assert.equal(c.Container, 'web');
});

test('no numbers: "--" in every column but the names; a stopped container shows zeros; no name is "--"', () => {
  const bad = statsContext(invalidEntry(statsEntry('web', sample())), { trunc: true });
  assert.deepEqual([bad.CPUPerc, bad.MemUsage, bad.MemPerc, bad.NetIO, bad.BlockIO, bad.PIDs, bad.Name], ['--', '-- / --', '--', '--', '--', '--', 'web']);
  const stopped = statsContext(statsEntry('x', emptyStats('f'.repeat(64), '/x')), { trunc: true });
  assert.deepEqual([stopped.CPUPerc, stopped.MemUsage, stopped.MemPerc, stopped.NetIO, stopped.BlockIO, stopped.PIDs], ['0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
  assert.equal(statsContext(blankEntry('abc'), { trunc: true }).Name, '--');
});

test('--format: the issue\'s example, json, and an unknown field is Go\'s error', () => {
  const e = statsEntry('web', sample());
  const out = listFormatter('table {{.Container}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.NetIO}}\\t{{.BlockIO}}', STATS_DEFAULT).render([statsContext(e, { trunc: true })], STATS_HEADER);
  assert.equal(out, 'CONTAINER   CPU %     MEM USAGE / LIMIT   NET I/O          BLOCK I/O\nweb         50.00%    50MiB / 200MiB      1.23kB / 2.5MB   5kB / 1MB\n');
  const json = listFormatter('json', STATS_DEFAULT).render([statsContext(e, { trunc: true })], STATS_HEADER);
  assert.equal(json, '{"BlockIO":"5kB / 1MB","CPUPerc":"50.00%","Container":"web","ID":"0123456789ab","MemPerc":"25.00%","MemUsage":"50MiB / 200MiB","Name":"web","NetIO":"1.23kB / 2.5MB","PIDs":"7"}\n');
  assert.throws(() => listFormatter('{{.Nope}}', STATS_DEFAULT).render([statsContext(e, { trunc: true })], STATS_HEADER), /can't evaluate field Nope in type \*container.statsContext/);
});
