import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeCgroups, detectCgroups } from '../../../src/runtime/cgroups/detect.js';
import { checkCgroupsPath, pathInHierarchy } from '../../../src/runtime/cgroups/path.js';

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'brig-detect-'));
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), content);
  }
  return root;
}

// This project's machines, verbatim.
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const PROC_CGROUPS = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t1\t1
cpu\t1\t1\t1
memory\t4\t24\t1
hugetlb\t0\t1\t1
net_cls\t0\t1\t1
`;
const SELF = `9:name=systemd:/
4:memory:/process_api/b569
1:cpu:/
0::/
`;

describe('detectCgroups', () => {
  test('hybrid: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified holding hugetlb', async () => {
    const root = fakeRoot({
      'proc/self/mountinfo': HYBRID_MOUNTINFO,
      'proc/cgroups': PROC_CGROUPS,
      'proc/self/cgroup': SELF,
      'sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    });
    try {
      const host = await detectCgroups({ root });
      assert.equal(host.layout, 'hybrid');
      assert.deepEqual(Object.keys(host.v1).sort(), [
        'blkio',
        'cpu',
        'cpuacct',
        'cpuset',
        'devices',
        'freezer',
        'memory',
        'pids',
      ]);
      assert.equal(host.v1.memory?.mountPoint, join(root, 'sys/fs/cgroup/memory'));
      assert.deepEqual(host.unified?.controllers, ['hugetlb']);
      assert.equal(host.own.v1.memory, '/process_api/b569');
      assert.equal(host.own.unified, '/');
      assert.deepEqual(host.kernel.hugetlb, { hierarchy: 0, enabled: true });
      assert.match(describeCgroups(host), /^hybrid \(v1: blkio,cpu,cpuacct.*; v2: hugetlb at /);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('unified: cgroup2 at /sys/fs/cgroup only', async () => {
    const root = fakeRoot({
      'proc/self/mountinfo': '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n',
      'proc/self/cgroup': '0::/user.slice/session-1.scope\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    });
    try {
      const host = await detectCgroups({ root });
      assert.equal(host.layout, 'unified');
      assert.equal(host.unified?.mountPoint, join(root, 'sys/fs/cgroup'));
      assert.equal(host.unified?.controllers.length, 8);
      assert.equal(host.own.unified, '/user.slice/session-1.scope');
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('legacy with co-mounted cpu,cpuacct and an escaped mount point; none', async () => {
    const root = fakeRoot({
      'proc/self/mountinfo':
        '25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n26 24 0:23 /docker/x /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory\n',
    });
    const empty = fakeRoot({});
    try {
      const host = await detectCgroups({ root });
      assert.equal(host.layout, 'legacy');
      assert.deepEqual(host.v1.cpu?.controllers, ['cpu', 'cpuacct']);
      assert.equal(host.v1.cpuacct?.mountPoint, host.v1.cpu?.mountPoint);
      assert.equal(host.v1.memory?.mountPoint, join(root, 'sys/fs/cgroup/my mem'));
      assert.equal(host.v1.memory?.hierarchyRoot, '/docker/x');
      assert.equal((await detectCgroups({ root: empty })).layout, 'none');
    } finally {
      rmSync(root, { recursive: true });
      rmSync(empty, { recursive: true });
    }
  });
});

describe('cgroupsPath', () => {
  test('absolute, relative, default', () => {
    assert.equal(checkCgroupsPath('/brig/x/', 'x'), '/brig/x');
    assert.equal(checkCgroupsPath(undefined, 'abc'), '/brig/abc');
    assert.equal(
      pathInHierarchy(checkCgroupsPath('pod/c1', 'c1'), '/process_api/h'),
      '/process_api/h/pod/c1',
    );
    assert.equal(pathInHierarchy('/a/b', '/process_api/h'), '/a/b');
  });

  test('refused: .., the root, systemd notation, an id that is no path', () => {
    assert.throws(() => checkCgroupsPath('/a/../../etc', 'x'), /must not contain/);
    assert.throws(() => checkCgroupsPath('/', 'x'), /root cgroup/);
    assert.throws(() => checkCgroupsPath('system.slice:brig:abc', 'x'), /systemd/);
    assert.throws(() => checkCgroupsPath(undefined, '../x'), /container id/);
  });
});
