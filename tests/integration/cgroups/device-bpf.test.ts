/**
 * The v2 device program on a real kernel, whatever the host layout: attaching a
 * BPF_PROG_TYPE_CGROUP_DEVICE program works on any cgroup2 directory, even the hybrid
 * hosts' /sys/fs/cgroup/unified that holds no controllers we use. The V2 manager runs on
 * that mount; the runtime's loader (native/build/brig-devload) attaches it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { V2Manager } from '../../../src/runtime/cgroups/v2/manager.js';
import {
  allGone,
  attachWithTestLoader,
  cgroupHost,
  spawnWaiting,
  skip as suiteSkip,
  testCgroupPath,
} from './support.js';

const skip = suiteSkip || ((await cgroupHost()).unified === undefined ? 'needs a cgroup2 mount' : false);

test('a compiled device program, attached to a cgroup2 directory, decides device access', {
  skip,
}, async () => {
  const mount = (await cgroupHost()).unified!.mountPoint;
  const path = testCgroupPath();
  const manager = new V2Manager(
    { path, dirs: { unified: join(mount, path) }, created: [] },
    { attachDevices: attachWithTestLoader, kill: (pid, sig) => process.kill(pid, sig) },
    mount,
  );
  const w = spawnWaiting(
    [
      'if echo x > /dev/null; then echo null-ok; else echo null-denied; fi',
      'if head -c1 /dev/zero | wc -c | grep -q 1; then echo zero-ok; else echo zero-denied; fi',
      'if head -c1 /dev/urandom | wc -c | grep -q 1; then echo urandom-ok; else echo urandom-denied; fi',
    ].join('; '),
  );
  try {
    await manager.apply(w.pid);
    await manager.set({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
        { allow: true, type: 'c', major: 1, minor: 5, access: 'w' }, // /dev/zero, write only
        { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
        { allow: false, type: 'c', major: 1, minor: 9, access: 'r' }, // ... then not read
      ],
    });
    w.go();
    await w.exited;
    assert.match(w.output(), /null-ok/);
    assert.match(w.output(), /zero-denied/);
    assert.match(w.output(), /urandom-denied/);
  } finally {
    await manager.destroy();
  }
  assert.deepEqual(allGone(manager), []);
});
