import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyStats } from '../../../src/runtime/cgroups/stats.js';
import { cpu, sharesToWeight } from '../../../src/runtime/cgroups/v2/cpu.js';
import { cpuset } from '../../../src/runtime/cgroups/v2/cpuset.js';
import type { DeviceProgram } from '../../../src/runtime/cgroups/v2/device-bpf.js';
import { devices } from '../../../src/runtime/cgroups/v2/devices.js';
import { readFreezerState, writeFreeze } from '../../../src/runtime/cgroups/v2/freezer.js';
import { hugetlb } from '../../../src/runtime/cgroups/v2/hugetlb.js';
import { blkioToIoWeight, io } from '../../../src/runtime/cgroups/v2/io.js';
import { memory, oomKills } from '../../../src/runtime/cgroups/v2/memory.js';
import { pids } from '../../../src/runtime/cgroups/v2/pids.js';
import { rdma } from '../../../src/runtime/cgroups/v2/rdma.js';
import { unified } from '../../../src/runtime/cgroups/v2/unified.js';
import { devCtx, runBpf } from '../../support/ebpf-interp.js';
import { rejectsNaming, withCgroup } from './helpers.js';

const MEM = { 'memory.max': 'max\n', 'memory.low': '0\n', 'memory.swap.max': 'max\n' };

describe('v2 memory', () => {
  test('limit, reservation and swap (memory+swap converted to swap alone)', () =>
    withCgroup('memory', MEM, async (cg) => {
      await memory.set(
        cg.dir,
        { memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20 } },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['memory.swap.max', String(32 << 20)],
        ['memory.max', String(64 << 20)],
        ['memory.low', String(32 << 20)],
      ]);
    }));

  test('swap equal to limit disables swap; -1 is max; unlimited memory means unlimited swap', () =>
    withCgroup('memory', MEM, async (cg) => {
      await memory.set(cg.dir, { memory: { limit: 1 << 20, swap: 1 << 20 } }, cg.ctx);
      await memory.set(cg.dir, { memory: { limit: 1 << 20, swap: -1 } }, cg.ctx);
      await memory.set(cg.dir, { memory: { limit: -1 } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['memory.swap.max', '0'],
        ['memory.max', String(1 << 20)],
        ['memory.swap.max', 'max'],
        ['memory.max', String(1 << 20)],
        ['memory.swap.max', 'max'],
        ['memory.max', 'max'],
      ]);
    }));

  test('no swap accounting: "max" and "0" pass, a real swap limit fails naming memory.swap.max', () =>
    withCgroup('memory', { 'memory.max': 'max\n' }, async (cg) => {
      await memory.set(cg.dir, { memory: { limit: -1 } }, cg.ctx);
      assert.deepEqual(cg.writes, [['memory.max', 'max']]);
      await rejectsNaming(
        memory.set(cg.dir, { memory: { limit: 1 << 20, swap: 2 << 20 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'memory.swap.max',
      );
    }));

  test('checkBeforeUpdate compares with memory.current', () =>
    withCgroup('memory', { ...MEM, 'memory.current': '5000\n' }, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { limit: 4096, checkBeforeUpdate: true } }, cg.ctx),
        'CGROUP_INVALID',
        'memory.current',
      );
    }));

  test('fields v2 cannot honour are errors; kernel memory a warning', () =>
    withCgroup('memory', MEM, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { swappiness: 10 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'memory:',
        'swappiness',
      );
      await rejectsNaming(
        memory.set(cg.dir, { memory: { disableOOMKiller: true } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'disableOOMKiller',
      );
      await rejectsNaming(
        memory.set(cg.dir, { memory: { kernelTCP: 1 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'kernelTCP',
      );
      await rejectsNaming(
        memory.set(cg.dir, { memory: { swap: 5 } }, cg.ctx),
        'CGROUP_INVALID',
        'memory.swap',
      );
      await memory.set(cg.dir, { memory: { kernel: 1 << 20, disableOOMKiller: false } }, cg.ctx);
      assert.equal(cg.warnings.length, 1);
      assert.deepEqual(cg.writes, []);
    }));

  test('stats in runc shape (swap reported as memory+swap) and OOM kills', () =>
    withCgroup(
      'memory',
      {
        'memory.current': '1000\n',
        'memory.max': '4096\n',
        'memory.peak': '3000\n',
        'memory.events': 'low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n',
        'memory.swap.current': '100\n',
        'memory.swap.max': '1024\n',
        'memory.stat': 'anon 10\nfile 20\n',
      },
      async (cg) => {
        const s = emptyStats();
        await memory.stats?.(cg.dir, s);
        assert.deepEqual(s.memory.usage, { limit: 4096, usage: 1000, max: 3000, failcnt: 7 });
        assert.deepEqual(s.memory.swap, { limit: 5120, usage: 1100, failcnt: 0 });
        assert.equal(s.memory.cache, 20);
        assert.equal(await oomKills(cg.dir), 2);
      },
    ));
});

describe('v2 cpu', () => {
  const CPU = { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.max.burst': '0\n', 'cpu.idle': '0\n' };

  test('shares → weight as runc and crun convert', () => {
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262144), 10000);
  });

  test('weight, quota+period, burst, idle', () =>
    withCgroup('cpu', CPU, async (cg) => {
      await cpu.set(
        cg.dir,
        { cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10000, idle: 0 } },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['cpu.idle', '0'],
        ['cpu.weight', '39'],
        ['cpu.max.burst', '10000'],
        ['cpu.max', '50000 100000'],
      ]);
    }));

  test('a period alone keeps the current quota; quota -1 is max', () =>
    withCgroup('cpu', { ...CPU, 'cpu.max': '20000 100000\n' }, async (cg) => {
      await cpu.set(cg.dir, { cpu: { period: 50000 } }, cg.ctx);
      await cpu.set(cg.dir, { cpu: { quota: -1 } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['cpu.max', '20000 50000'],
        ['cpu.max', 'max'],
      ]);
    }));

  test('realtime is an error on v2; shares out of range too', () =>
    withCgroup('cpu', CPU, async (cg) => {
      await rejectsNaming(
        cpu.set(cg.dir, { cpu: { realtimeRuntime: 1000 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'cpu:',
        'realtime',
      );
      await rejectsNaming(cpu.set(cg.dir, { cpu: { shares: 1 } }, cg.ctx), 'CGROUP_INVALID', 'cpu.shares');
    }));

  test('cpu.stat in nanoseconds', () =>
    withCgroup(
      'cpu',
      {
        'cpu.stat':
          'usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n',
      },
      async (cg) => {
        const s = emptyStats();
        await cpu.stats?.(cg.dir, s);
        assert.deepEqual(s.cpu.usage, { total: 10000, user: 6000, kernel: 4000 });
        assert.deepEqual(s.cpu.throttling, { periods: 5, throttledPeriods: 2, throttledTime: 7000 });
      },
    ));
});

describe('v2 io', () => {
  test('BFQ: weight and per-device weights to io.bfq.weight; throttles to io.max', () =>
    withCgroup(
      'io',
      { 'io.bfq.weight': 'default 100\n', 'io.weight': 'default 100\n', 'io.max': '' },
      async (cg) => {
        await io.set(
          cg.dir,
          {
            blockIO: {
              weight: 500,
              weightDevice: [{ major: 8, minor: 0, weight: 300 }],
              throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
              throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2000 }],
              throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 30 }],
              throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 40 }],
            },
          },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['io.bfq.weight', '500'],
          ['io.bfq.weight', '8:0 300'],
          ['io.max', '8:0 rbps=1000'],
          ['io.max', '8:0 wbps=2000'],
          ['io.max', '8:0 riops=30'],
          ['io.max', '8:0 wiops=40'],
        ]);
      },
    ));

  test('without BFQ: io.weight with the converted value; per-device weight is an error', () =>
    withCgroup('io', { 'io.weight': 'default 100\n', 'io.max': '' }, async (cg) => {
      assert.equal(blkioToIoWeight(10), 1);
      assert.equal(blkioToIoWeight(1000), 10000);
      await io.set(cg.dir, { blockIO: { weight: 500 } }, cg.ctx);
      assert.deepEqual(cg.writes, [['io.weight', String(blkioToIoWeight(500))]]);
      await rejectsNaming(
        io.set(cg.dir, { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }] } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'io:',
        'io.bfq.weight',
        'BFQ',
      );
      await rejectsNaming(
        io.set(cg.dir, { blockIO: { leafWeight: 300 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'leafWeight',
      );
    }));

  test('io.stat as runc blkio entries', () =>
    withCgroup(
      'io',
      { 'io.stat': '8:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0\n' },
      async (cg) => {
        const s = emptyStats();
        await io.stats?.(cg.dir, s);
        assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
          { major: 8, minor: 0, op: 'Read', value: 4096 },
          { major: 8, minor: 0, op: 'Write', value: 512 },
        ]);
        assert.deepEqual(s.blkio.ioServicedRecursive, [
          { major: 8, minor: 0, op: 'Read', value: 1 },
          { major: 8, minor: 0, op: 'Write', value: 2 },
        ]);
      },
    ));
});

describe('v2 cpuset, pids, hugetlb, rdma, freezer', () => {
  test('cpuset and its effective lists', () =>
    withCgroup(
      'cpuset',
      {
        'cpuset.cpus': '',
        'cpuset.mems': '',
        'cpuset.cpus.effective': '0-1\n',
        'cpuset.mems.effective': '0\n',
      },
      async (cg) => {
        await cpuset.set(cg.dir, { cpu: { cpus: '0', mems: '0' } }, cg.ctx);
        assert.deepEqual(cg.writes, [
          ['cpuset.cpus', '0'],
          ['cpuset.mems', '0'],
        ]);
        const s = emptyStats();
        await cpuset.stats?.(cg.dir, s);
        assert.deepEqual(s.cpuset, { cpus: [0, 1], mems: [0] });
      },
    ));

  test('pids.max', () =>
    withCgroup('pids', { 'pids.max': 'max\n' }, async (cg) => {
      await pids.set(cg.dir, { pids: { limit: 10 } }, cg.ctx);
      assert.deepEqual(cg.writes, [['pids.max', '10']]);
    }));

  test('hugetlb.<size>.max and rsvd; -1 is max', () =>
    withCgroup(
      'hugetlb',
      {
        'hugetlb.2MB.max': 'max',
        'hugetlb.2MB.rsvd.max': 'max',
        'hugetlb.2MB.current': '2097152',
        'hugetlb.2MB.events': 'max 4\n',
      },
      async (cg) => {
        await hugetlb.set(cg.dir, { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }, cg.ctx);
        await hugetlb.set(cg.dir, { hugepageLimits: [{ pageSize: '2MB', limit: -1 }] }, cg.ctx);
        assert.deepEqual(cg.writes, [
          ['hugetlb.2MB.max', String(4 << 20)],
          ['hugetlb.2MB.rsvd.max', String(4 << 20)],
          ['hugetlb.2MB.max', 'max'],
          ['hugetlb.2MB.rsvd.max', 'max'],
        ]);
        const s = emptyStats();
        await hugetlb.stats?.(cg.dir, s);
        assert.deepEqual(s.hugetlb, { '2MB': { usage: 2097152, failcnt: 4 } });
        await rejectsNaming(
          hugetlb.set(cg.dir, { hugepageLimits: [{ pageSize: '1GB', limit: 0 }] }, cg.ctx),
          'CGROUP_UNSUPPORTED',
          'hugetlb.1GB.max',
          '2MB',
        );
      },
    ));

  test('rdma.max', () =>
    withCgroup('rdma', { 'rdma.max': '' }, async (cg) => {
      await rdma.set(cg.dir, { rdma: { mlx5_1: { hcaHandles: 2 } } }, cg.ctx);
      assert.deepEqual(cg.writes, [['rdma.max', 'mlx5_1 hca_handle=2']]);
    }));

  test('cgroup.freeze and cgroup.events', () =>
    withCgroup(
      'freezer',
      { 'cgroup.freeze': '0\n', 'cgroup.events': 'populated 1\nfrozen 0\n' },
      async (cg) => {
        await writeFreeze(cg.dir, true);
        assert.equal(await readFreezerState(cg.dir), 'freezing');
        assert.deepEqual(cg.writes, [['cgroup.freeze', '1']]);
      },
    ));
});

describe('v2 devices and unified', () => {
  test('devices compile to a program handed to the attacher with the cgroup directory', () =>
    withCgroup('devices', {}, async (cg) => {
      const seen: [string, DeviceProgram][] = [];
      const ctx = {
        ...cg.ctx,
        attachDevices: async (dir: string, p: DeviceProgram) => void seen.push([dir, p]),
      };
      await devices.set(
        cg.dir,
        {
          devices: [
            { allow: false, access: 'rwm' },
            { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
          ],
        },
        ctx,
      );
      assert.equal(seen.length, 1);
      const [dir, prog] = seen[0]!;
      assert.equal(dir, cg.root);
      assert.equal(runBpf(prog.insns, devCtx('c', 2, 1, 3)).r0, 1n);
      assert.equal(runBpf(prog.insns, devCtx('c', 2, 1, 5)).r0, 0n);
      assert.match(prog.sha256, /^[0-9a-f]{64}$/);
    }));

  test('devices without an attacher are an error, not an open door', () =>
    withCgroup('devices', {}, async (cg) => {
      await rejectsNaming(
        devices.set(cg.dir, { devices: [{ allow: false, access: 'rwm' }] }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'devices:',
        'eBPF',
      );
    }));

  test('unified writes keys as given; checks names and enabled controllers', () =>
    withCgroup(
      'unified',
      { 'cgroup.controllers': 'cpu memory pids\n', 'memory.high': 'max\n', 'cpu.weight': '100\n' },
      async (cg) => {
        await unified.set(cg.dir, { unified: { 'memory.high': '1048576', 'cpu.weight': '50' } }, cg.ctx);
        assert.deepEqual(cg.writes, [
          ['memory.high', '1048576'],
          ['cpu.weight', '50'],
        ]);
        await rejectsNaming(
          unified.set(cg.dir, { unified: { '../x.y': '1' } }, cg.ctx),
          'CGROUP_INVALID',
          'not a cgroup file name',
        );
        await rejectsNaming(
          unified.set(cg.dir, { unified: { 'io.max': '8:0 rbps=1' } }, cg.ctx),
          'CGROUP_UNSUPPORTED',
          'io:',
          'io.max',
          'not enabled',
        );
        await rejectsNaming(
          unified.set(cg.dir, { unified: { 'memory.nonexistent': '1' } }, cg.ctx),
          'CGROUP_UNSUPPORTED',
          'memory.nonexistent',
        );
      },
    ));
});
