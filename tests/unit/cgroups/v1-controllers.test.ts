import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyStats } from '../../../src/runtime/cgroups/stats.js';
import { blkio } from '../../../src/runtime/cgroups/v1/blkio.js';
import { cpu } from '../../../src/runtime/cgroups/v1/cpu.js';
import { cpuacct } from '../../../src/runtime/cgroups/v1/cpuacct.js';
import { cpuset } from '../../../src/runtime/cgroups/v1/cpuset.js';
import { devices } from '../../../src/runtime/cgroups/v1/devices.js';
import { readFreezerState, writeFreezerState } from '../../../src/runtime/cgroups/v1/freezer.js';
import { hugetlb } from '../../../src/runtime/cgroups/v1/hugetlb.js';
import { memory, oomKills } from '../../../src/runtime/cgroups/v1/memory.js';
import { netCls } from '../../../src/runtime/cgroups/v1/net_cls.js';
import { netPrio } from '../../../src/runtime/cgroups/v1/net_prio.js';
import { pids } from '../../../src/runtime/cgroups/v1/pids.js';
import { rdma } from '../../../src/runtime/cgroups/v1/rdma.js';
import { errno, rejectsNaming, withCgroup } from './helpers.js';

const MEMORY_FILES = {
  'memory.limit_in_bytes': '9223372036854771712\n',
  'memory.memsw.limit_in_bytes': '9223372036854771712\n',
  'memory.soft_limit_in_bytes': '9223372036854771712\n',
  'memory.swappiness': '60\n',
  'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  'memory.use_hierarchy': '1\n',
  'memory.kmem.tcp.limit_in_bytes': '9223372036854771712\n',
};

describe('v1 memory', () => {
  test('growing: memsw before the limit, so memsw >= limit at every step', () =>
    withCgroup('memory', { ...MEMORY_FILES, 'memory.limit_in_bytes': '1048576\n' }, async (cg) => {
      await memory.set(cg.dir, { memory: { limit: 64 << 20, swap: 128 << 20 } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['memory.memsw.limit_in_bytes', String(128 << 20)],
        ['memory.limit_in_bytes', String(64 << 20)],
      ]);
    }));

  test('shrinking: the limit before memsw', () =>
    withCgroup('memory', { ...MEMORY_FILES, 'memory.limit_in_bytes': String(512 << 20) }, async (cg) => {
      await memory.set(cg.dir, { memory: { limit: 64 << 20, swap: 128 << 20 } }, cg.ctx);
      assert.deepEqual(
        cg.writes.map(([f]) => f),
        ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'],
      );
    }));

  test('unlimited memory without swap makes swap unlimited too', () =>
    withCgroup('memory', MEMORY_FILES, async (cg) => {
      await memory.set(cg.dir, { memory: { limit: -1 } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['memory.memsw.limit_in_bytes', '-1'],
        ['memory.limit_in_bytes', '-1'],
      ]);
    }));

  test('reservation, swappiness, OOM killer, hierarchy, kernelTCP', () =>
    withCgroup('memory', MEMORY_FILES, async (cg) => {
      await memory.set(
        cg.dir,
        {
          memory: {
            reservation: 1 << 20,
            swappiness: 0,
            disableOOMKiller: true,
            useHierarchy: true,
            kernelTCP: 1 << 22,
          },
        },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['memory.soft_limit_in_bytes', String(1 << 20)],
        ['memory.swappiness', '0'],
        ['memory.oom_control', '1'],
        ['memory.use_hierarchy', '1'],
        ['memory.kmem.tcp.limit_in_bytes', String(1 << 22)],
      ]);
      assert.equal(cg.read('memory.oom_control'), '1');
    }));

  test('swappiness above 100 is refused naming the field', () =>
    withCgroup('memory', MEMORY_FILES, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { swappiness: 101 } }, cg.ctx),
        'CGROUP_INVALID',
        'memory.swappiness',
      );
      assert.deepEqual(cg.writes, []);
    }));

  test('checkBeforeUpdate refuses a limit below current usage', () =>
    withCgroup('memory', { ...MEMORY_FILES, 'memory.usage_in_bytes': '5000\n' }, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { limit: 4096, checkBeforeUpdate: true } }, cg.ctx),
        'CGROUP_INVALID',
        'memory.usage_in_bytes',
        'checkBeforeUpdate',
      );
      await memory.set(cg.dir, { memory: { limit: 8192, checkBeforeUpdate: true } }, cg.ctx);
      assert.deepEqual(cg.writes, [['memory.limit_in_bytes', '8192']]);
    }));

  test('swap smaller than limit is refused', () =>
    withCgroup('memory', MEMORY_FILES, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { limit: 100 << 20, swap: 50 << 20 } }, cg.ctx),
        'CGROUP_INVALID',
        'memory.swap',
      );
    }));

  test('kernel memory: a kernel without it gets a warning, not an error', () =>
    withCgroup('memory', MEMORY_FILES, async (cg) => {
      await memory.set(cg.dir, { memory: { kernel: 1 << 20 } }, cg.ctx);
      assert.equal(cg.warnings.length, 1);
      assert.match(cg.warnings[0] ?? '', /memory\.kmem\.limit_in_bytes.*ENOENT/);
    }));

  test('kernel memory: EOPNOTSUPP from the kernel is a warning too', () =>
    withCgroup(
      'memory',
      { ...MEMORY_FILES, 'memory.kmem.limit_in_bytes': '0' },
      async (cg) => {
        await memory.set(cg.dir, { memory: { kernel: 1 << 20 } }, cg.ctx);
        assert.match(cg.warnings[0] ?? '', /EOPNOTSUPP/);
      },
      {
        onWrite: (f) => {
          if (f === 'memory.kmem.limit_in_bytes') throw errno('EOPNOTSUPP');
          return undefined;
        },
      },
    ));

  test('a missing file is an error naming controller, file and data', async () => {
    const files: Record<string, string> = { ...MEMORY_FILES };
    delete files['memory.kmem.tcp.limit_in_bytes'];
    await withCgroup('memory', files, async (cg) => {
      await rejectsNaming(
        memory.set(cg.dir, { memory: { kernelTCP: 4096 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'memory:',
        'memory.kmem.tcp.limit_in_bytes',
        '"4096"',
      );
    });
  });

  test('stats and the OOM kill counter', () =>
    withCgroup(
      'memory',
      {
        'memory.usage_in_bytes': '1000\n',
        'memory.max_usage_in_bytes': '2000\n',
        'memory.limit_in_bytes': '4096\n',
        'memory.failcnt': '3\n',
        'memory.memsw.usage_in_bytes': '1100\n',
        'memory.memsw.limit_in_bytes': '8192\n',
        'memory.memsw.failcnt': '0\n',
        'memory.stat': 'cache 10\nrss 20\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      },
      async (cg) => {
        const s = emptyStats();
        await memory.stats?.(cg.dir, s);
        assert.deepEqual(s.memory.usage, { limit: 4096, usage: 1000, max: 2000, failcnt: 3 });
        assert.deepEqual(s.memory.swap, { limit: 8192, usage: 1100, failcnt: 0 });
        assert.equal(s.memory.cache, 10);
        assert.equal(await oomKills(cg.dir), 2);
      },
    ));
});

const CPU_FILES = {
  'cpu.shares': '1024\n',
  'cpu.cfs_period_us': '100000\n',
  'cpu.cfs_quota_us': '-1\n',
  'cpu.cfs_burst_us': '0\n',
  'cpu.rt_period_us': '1000000\n',
  'cpu.rt_runtime_us': '0\n',
  'cpu.idle': '0\n',
};

describe('v1 cpu', () => {
  test('every field, in the kernel-safe order', () =>
    withCgroup('cpu', CPU_FILES, async (cg) => {
      await cpu.set(
        cg.dir,
        {
          cpu: {
            shares: 512,
            period: 50000,
            quota: 25000,
            burst: 1000,
            realtimePeriod: 100000,
            realtimeRuntime: 5000,
            idle: 1,
          },
        },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['cpu.shares', '512'],
        ['cpu.cfs_period_us', '50000'],
        ['cpu.cfs_quota_us', '25000'],
        ['cpu.cfs_burst_us', '1000'],
        ['cpu.rt_period_us', '100000'],
        ['cpu.rt_runtime_us', '5000'],
        ['cpu.idle', '1'],
      ]);
    }));

  test('shares the kernel clamps are an error, not a silent change', () =>
    withCgroup(
      'cpu',
      CPU_FILES,
      async (cg) => {
        await rejectsNaming(
          cg.dir.write('cpu.shares', 1).then(() => cpu.set(cg.dir, { cpu: { shares: 1 } }, cg.ctx)),
          'CGROUP_INVALID',
          'clamped',
          'cpu.shares',
        );
      },
      { onWrite: (f, d) => (f === 'cpu.shares' ? String(Math.max(2, Number(d))) : undefined) },
    ));

  test('a period refused with EINVAL is retried after the quota', () => {
    let first = true;
    return withCgroup(
      'cpu',
      CPU_FILES,
      async (cg) => {
        await cpu.set(cg.dir, { cpu: { period: 10000, quota: 5000 } }, cg.ctx);
        assert.deepEqual(cg.writes, [
          ['cpu.cfs_quota_us', '5000'],
          ['cpu.cfs_period_us', '10000'],
        ]);
      },
      {
        onWrite: (f) => {
          if (f === 'cpu.cfs_period_us' && first) {
            first = false;
            throw errno('EINVAL');
          }
          return undefined;
        },
      },
    );
  });

  test('quota -1 removes the limit; zero fields are left alone', () =>
    withCgroup('cpu', CPU_FILES, async (cg) => {
      await cpu.set(cg.dir, { cpu: { quota: -1, shares: 0, period: 0 } }, cg.ctx);
      assert.deepEqual(cg.writes, [['cpu.cfs_quota_us', '-1']]);
    }));

  test('throttling and usage statistics (cpu + cpuacct)', async () => {
    const s = emptyStats();
    await withCgroup(
      'cpu',
      { 'cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n' },
      async (cg) => {
        await cpu.stats?.(cg.dir, s);
      },
    );
    await withCgroup(
      'cpuacct',
      {
        'cpuacct.usage': '5000\n',
        'cpuacct.usage_percpu': '3000 2000 \n',
        'cpuacct.stat': 'user 3\nsystem 1\n',
        'cpuacct.usage_all': 'cpu user system\n0 2500 500\n1 1500 500\n',
      },
      async (cg) => {
        await cpuacct.stats?.(cg.dir, s);
      },
    );
    assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 4, throttledTime: 123456 });
    assert.deepEqual(s.cpu.usage, {
      total: 5000,
      percpu: [3000, 2000],
      user: 30_000_000,
      kernel: 10_000_000,
      percpu_user: [2500, 1500],
      percpu_kernel: [500, 500],
    });
  });
});

describe('v1 cpuset, pids, freezer, net, rdma', () => {
  test('cpuset cpus and mems', () =>
    withCgroup('cpuset', { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n' }, async (cg) => {
      await cpuset.set(cg.dir, { cpu: { cpus: '1-2', mems: '0' } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['cpuset.cpus', '1-2'],
        ['cpuset.mems', '0'],
      ]);
      const s = emptyStats();
      await cpuset.stats?.(cg.dir, s);
      assert.deepEqual(s.cpuset, { cpus: [1, 2], mems: [0] });
    }));

  test('pids: number, -1 as max, 0 warned as unset', () =>
    withCgroup('pids', { 'pids.max': 'max\n', 'pids.current': '3\n' }, async (cg) => {
      await pids.set(cg.dir, { pids: { limit: 32 } }, cg.ctx);
      await pids.set(cg.dir, { pids: { limit: -1 } }, cg.ctx);
      await pids.set(cg.dir, { pids: { limit: 0 } }, cg.ctx);
      assert.deepEqual(cg.writes, [
        ['pids.max', '32'],
        ['pids.max', 'max'],
      ]);
      assert.equal(cg.warnings.length, 1);
      const s = emptyStats();
      await pids.stats?.(cg.dir, s);
      assert.deepEqual(s.pids, { current: 3 });
    }));

  test('freezer state round trip', () =>
    withCgroup('freezer', { 'freezer.state': 'THAWED\n' }, async (cg) => {
      await writeFreezerState(cg.dir, 'FROZEN');
      assert.equal(await readFreezerState(cg.dir), 'frozen');
      assert.deepEqual(cg.writes, [['freezer.state', 'FROZEN']]);
    }));

  test('net_cls class id and net_prio one line per interface', async () => {
    await withCgroup('net_cls', { 'net_cls.classid': '0\n' }, async (cg) => {
      await netCls.set(cg.dir, { network: { classID: 0x100001 } }, cg.ctx);
      assert.deepEqual(cg.writes, [['net_cls.classid', String(0x100001)]]);
    });
    await withCgroup('net_prio', { 'net_prio.ifpriomap': '' }, async (cg) => {
      await netPrio.set(
        cg.dir,
        {
          network: {
            priorities: [
              { name: 'eth0', priority: 5 },
              { name: 'lo', priority: 2 },
            ],
          },
        },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['net_prio.ifpriomap', 'eth0 5'],
        ['net_prio.ifpriomap', 'lo 2'],
      ]);
      await rejectsNaming(
        netPrio.set(cg.dir, { network: { priorities: [{ name: 'a b', priority: 1 }] } }, cg.ctx),
        'CGROUP_INVALID',
        'priorities[0].name',
      );
    });
  });

  test('net_cls missing (not mounted here) is an error naming the file', () =>
    withCgroup('net_cls', {}, async (cg) => {
      await rejectsNaming(
        netCls.set(cg.dir, { network: { classID: 1 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'net_cls:',
        'net_cls.classid',
      );
    }));

  test('rdma lines per device, only the limits given', () =>
    withCgroup('rdma', { 'rdma.max': '' }, async (cg) => {
      await rdma.set(
        cg.dir,
        { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 5 } } },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
        ['rdma.max', 'mlx4_0 hca_object=5'],
      ]);
    }));
});

describe('v1 blkio', () => {
  const THROTTLE = {
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
  };

  test('CFQ weights and throttles', () =>
    withCgroup(
      'blkio',
      {
        ...THROTTLE,
        'blkio.weight': '500',
        'blkio.weight_device': '',
        'blkio.leaf_weight': '500',
        'blkio.leaf_weight_device': '',
      },
      async (cg) => {
        await blkio.set(
          cg.dir,
          {
            blockIO: {
              weight: 300,
              leafWeight: 200,
              weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 100 }],
              throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
              throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
              throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
              throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
            },
          },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['blkio.weight', '300'],
          ['blkio.leaf_weight', '200'],
          ['blkio.weight_device', '8:0 400'],
          ['blkio.leaf_weight_device', '8:0 100'],
          ['blkio.throttle.read_bps_device', '8:0 1048576'],
          ['blkio.throttle.write_bps_device', '8:0 2097152'],
          ['blkio.throttle.read_iops_device', '8:16 100'],
          ['blkio.throttle.write_iops_device', '8:16 50'],
        ]);
      },
    ));

  test('BFQ weight files when CFQ is absent', () =>
    withCgroup(
      'blkio',
      { ...THROTTLE, 'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '' },
      async (cg) => {
        await blkio.set(
          cg.dir,
          { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400 }] } },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['blkio.bfq.weight', '300'],
          ['blkio.bfq.weight_device', '8:0 400'],
        ]);
      },
    ));

  test('no proportional scheduler: a weight is an error naming the file (this host)', () =>
    withCgroup('blkio', THROTTLE, async (cg) => {
      await rejectsNaming(
        blkio.set(cg.dir, { blockIO: { weight: 300 } }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'blkio:',
        'blkio.bfq.weight',
        '"300"',
      );
    }));

  test('weight out of range', () =>
    withCgroup('blkio', { 'blkio.weight': '500' }, async (cg) => {
      await rejectsNaming(
        blkio.set(cg.dir, { blockIO: { weight: 5 } }, cg.ctx),
        'CGROUP_INVALID',
        'blockIO.weight',
      );
    }));

  test('statistics from the throttle layer', () =>
    withCgroup(
      'blkio',
      {
        'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n',
        'blkio.throttle.io_serviced_recursive': '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
      },
      async (cg) => {
        const s = emptyStats();
        await blkio.stats?.(cg.dir, s);
        assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
          { major: 8, minor: 0, op: 'Read', value: 4096 },
          { major: 8, minor: 0, op: 'Write', value: 8192 },
        ]);
        assert.equal(s.blkio.ioServicedRecursive?.length, 2);
      },
    ));
});

describe('v1 hugetlb and devices', () => {
  test('hugetlb limit and reservation limit', () =>
    withCgroup(
      'hugetlb',
      {
        'hugetlb.2MB.limit_in_bytes': '0',
        'hugetlb.2MB.rsvd.limit_in_bytes': '0',
        'hugetlb.1GB.limit_in_bytes': '0',
        'hugetlb.2MB.usage_in_bytes': '4194304',
        'hugetlb.2MB.max_usage_in_bytes': '4194304',
        'hugetlb.2MB.failcnt': '1',
      },
      async (cg) => {
        await hugetlb.set(
          cg.dir,
          {
            hugepageLimits: [
              { pageSize: '2MB', limit: 8 << 20 },
              { pageSize: '1GB', limit: 0 },
            ],
          },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['hugetlb.2MB.limit_in_bytes', String(8 << 20)],
          ['hugetlb.2MB.rsvd.limit_in_bytes', String(8 << 20)],
          ['hugetlb.1GB.limit_in_bytes', '0'],
        ]);
        const s = emptyStats();
        await hugetlb.stats?.(cg.dir, s);
        assert.deepEqual(s.hugetlb, { '2MB': { usage: 4194304, max: 4194304, failcnt: 1 } });
      },
    ));

  test('hugetlb page size the host lacks lists the ones it has', () =>
    withCgroup('hugetlb', { 'hugetlb.2MB.limit_in_bytes': '0' }, async (cg) => {
      await rejectsNaming(
        hugetlb.set(cg.dir, { hugepageLimits: [{ pageSize: '64KB', limit: 1 }] }, cg.ctx),
        'CGROUP_UNSUPPORTED',
        'hugetlb:',
        'hugetlb.64KB.limit_in_bytes',
      );
      await rejectsNaming(
        hugetlb.set(cg.dir, { hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, cg.ctx),
        'CGROUP_INVALID',
        'pageSize',
      );
    }));

  test('devices: deny all, then the allowed list', () =>
    withCgroup('devices', { 'devices.allow': '', 'devices.deny': '' }, async (cg) => {
      await devices.set(
        cg.dir,
        {
          devices: [
            { allow: false, access: 'rwm' },
            { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
            { allow: true, type: 'c', major: 136, access: 'rwm' },
            { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
          ],
        },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['devices.deny', 'a'],
        ['devices.allow', 'c 1:3 rw'],
        ['devices.allow', 'c 136:* rwm'],
        ['devices.allow', 'b 8:0 r'],
      ]);
    }));

  test('devices on a live deny-by-default cgroup: only the difference, no reset window', () =>
    withCgroup(
      'devices',
      { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'c 1:3 rwm\nc 1:5 rwm\n' },
      async (cg) => {
        await devices.set(
          cg.dir,
          {
            devices: [
              { allow: false, access: 'rwm' },
              { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
              { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
            ],
          },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['devices.deny', 'c 1:3 m'],
          ['devices.deny', 'c 1:5 rwm'],
          ['devices.allow', 'c 1:9 rwm'],
        ]);
      },
    ));

  test('devices on an allow-all cgroup (devices.list "a *:* rwm"): reset first', () =>
    withCgroup(
      'devices',
      { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
      async (cg) => {
        await devices.set(
          cg.dir,
          {
            devices: [
              { allow: false, access: 'rwm' },
              { allow: true, type: 'b', major: 7, access: 'r' },
            ],
          },
          cg.ctx,
        );
        assert.deepEqual(cg.writes, [
          ['devices.deny', 'a'],
          ['devices.allow', 'b 7:* r'],
        ]);
      },
    ));

  test('devices: allow all, then denials', () =>
    withCgroup('devices', { 'devices.allow': '', 'devices.deny': '' }, async (cg) => {
      await devices.set(
        cg.dir,
        {
          devices: [
            { allow: true, access: 'rwm' },
            { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' },
          ],
        },
        cg.ctx,
      );
      assert.deepEqual(cg.writes, [
        ['devices.allow', 'a'],
        ['devices.deny', 'c 10:200 rwm'],
      ]);
    }));
});
