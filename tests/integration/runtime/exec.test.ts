/**
 * exec: a new process inside a running container — every namespace of init (user and
 * cgroup included), its cgroup, the requested user, capabilities, no_new_privs and the
 * container's seccomp profile; the exit code comes back.
 */
import assert from 'node:assert/strict';
import { readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { brigRuntime, leftovers, makeBundle } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'];

function withContainer(edit: (s: Spec) => void, id: string, fn: (b: ReturnType<typeof makeBundle>, initPid: number) => void) {
  const b = makeBundle(['sleep', '30'], edit);
  try {
    const r = brigRuntime(b, ['run', '-d', id]);
    assert.equal(r.code, 0, r.stderr);
    fn(b, JSON.parse(brigRuntime(b, ['state', id]).stdout).pid);
  } finally {
    brigRuntime(b, ['delete', '--force', id]);
    const left = leftovers(b);
    b.cleanup();
    assert.deepEqual(left, []);
  }
}

test('exec joins every namespace of init, user and cgroup included, and returns the exit code', { skip: skip || requires('userns') }, () => {
  const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
  withContainer((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = MAP;
    s.linux!.gidMappings = MAP;
  }, 'ex-ns', (b, initPid) => {
    // The rootfs is only read here; a mapped root can search the 0755 bundle.
    const r = brigRuntime(b, ['exec', 'ex-ns', 'sh', '-c', `for n in ${NS.join(' ')}; do ls -l /proc/self/ns/$n; done; echo pid=$$`]);
    assert.equal(r.code, 0, r.stderr);
    for (const n of NS) {
      const host = readlinkSync(`/proc/${initPid}/ns/${n}`);
      assert.match(r.stdout, new RegExp(`-> ${host.replace(/[[\]]/g, '\\$&')}`), `${n} namespace differs`);
    }
    assert.match(r.stdout, /pid=\d+/);
    assert.doesNotMatch(r.stdout, /pid=1\b/);
    assert.equal(brigRuntime(b, ['exec', 'ex-ns', 'sh', '-c', 'exit 7']).code, 7);
  });
});

test('exec applies user, groups, env, cwd, capabilities and no_new_privs; ps lists it', { skip }, () => {
  withContainer(() => {}, 'ex-id', (b) => {
    const r = brigRuntime(b, ['exec', '-u', '1234:5678', '-g', '10', '-e', 'FOO=bar', '--cwd', '/tmp', '--no-new-privs', 'ex-id', 'sh', '-c', 'probe groups; echo $FOO; pwd; grep -E "NoNewPrivs" /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1234 5678 10\nbar\n/tmp\nNoNewPrivs:\t1\n');
    const caps = brigRuntime(b, ['exec', '--cap', 'CAP_NET_ADMIN', 'ex-id', 'grep', 'CapEff', '/proc/self/status']);
    const eff = BigInt(`0x${caps.stdout.split(':')[1]!.trim()}`);
    assert.ok((eff & (1n << 12n)) !== 0n, caps.stdout);
    const pids = JSON.parse(brigRuntime(b, ['ps', '--format', 'json', 'ex-id']).stdout);
    assert.ok(pids.length >= 1);
  });
});

test('exec --process FILE, --detach with --pid-file', { skip }, () => {
  withContainer(() => {}, 'ex-p', (b) => {
    const file = path.join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'echo from-process-file'], cwd: '/', env: ['PATH=/bin'] }));
    const r = brigRuntime(b, ['exec', '--process', file, 'ex-p']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-process-file\n');
    const pidFile = path.join(b.dir, 'exec.pid');
    const d = brigRuntime(b, ['exec', '-d', '--pid-file', pidFile, 'ex-p', 'sleep', '5']);
    assert.equal(d.code, 0, d.stderr);
    const pids: number[] = JSON.parse(brigRuntime(b, ['ps', '--format', 'json', 'ex-p']).stdout);
    assert.ok(pids.includes(Number(readTextSync(pidFile))), `${pids}`);
  });
});

test("the container's seccomp profile applies to exec'd processes", { skip }, () => {
  withContainer((s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] } as never;
  }, 'ex-sc', (b) => {
    const r = brigRuntime(b, ['exec', 'ex-sc', 'sh', '-c', 'mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status']);
    assert.match(r.stderr, /Permission denied/);
    assert.match(r.stdout, /rc=1\nSeccomp:\s+2/);
  });
});

test('exec into a missing or stopped container is a clear error', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    const r = brigRuntime(b, ['exec', 'nope', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container "nope" does not exist/);
    assert.equal(brigRuntime(b, ['run', '-d', 'done']).code, 0);
    for (let i = 0; i < 50 && JSON.parse(brigRuntime(b, ['state', 'done']).stdout).status !== 'stopped'; i++) spinWait(20);
    const s = brigRuntime(b, ['exec', 'done', 'true']);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /is stopped: exec needs a running container/);
  } finally {
    brigRuntime(b, ['delete', '--force', 'done']);
    b.cleanup();
  }
});

function spinWait(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
