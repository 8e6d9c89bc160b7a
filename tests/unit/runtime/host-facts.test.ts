import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  detectCgroupLayout,
  parseLimits,
  parseMountPoints,
  parseProcCgroup,
} from '../../../src/runtime/host-facts.js';

test('cgroup layout detection', () => {
  assert.equal(detectCgroupLayout([{ point: '/sys/fs/cgroup', fstype: 'cgroup2' }]), 'unified');
  assert.equal(
    detectCgroupLayout([
      { point: '/sys/fs/cgroup/memory', fstype: 'cgroup' },
      { point: '/sys/fs/cgroup/unified', fstype: 'cgroup2' },
    ]),
    'hybrid',
  );
  assert.equal(detectCgroupLayout([{ point: '/sys/fs/cgroup/memory', fstype: 'cgroup' }]), 'legacy');
  assert.equal(detectCgroupLayout([]), 'none');
});

test('mountinfo points are unescaped', () => {
  const m = parseMountPoints('36 35 98:0 / /mnt/a\\040b rw - ext4 /dev/x rw\n');
  assert.deepEqual(m, [{ point: '/mnt/a b', fstype: 'ext4' }]);
});

test('/proc/self/cgroup and /proc/self/limits', () => {
  assert.deepEqual(parseProcCgroup('4:memory:/a/b\n0::/\n'), [
    { controllers: 'memory', path: '/a/b' },
    { controllers: '', path: '/' },
  ]);
  const limits =
    'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 20000                files     \nMax core file size        0                    unlimited            bytes     \n';
  const l = parseLimits(limits);
  assert.equal(l.RLIMIT_NOFILE, 20000);
  assert.equal(l.RLIMIT_CORE, Number.POSITIVE_INFINITY);
});

test('tests run on the pinned Node 24', () => {
  assert.match(process.versions.node, /^24\./);
});
