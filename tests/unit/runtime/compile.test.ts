import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePlan, execCandidates } from '../../../src/runtime/plan/compile.js';
import { compileExecPlan } from '../../../src/runtime/plan/compile-exec.js';
import { defaultSpec } from '../../../src/runtime/spec/default-spec.js';
import { validateSpec } from '../../../src/runtime/spec/validate.js';
import { FACTS } from '../../support/facts.js';

test('PATH lookup candidates follow the container env, execvp style', () => {
  assert.deepEqual(execCandidates('ls', ['PATH=/a:/b'], '/'), ['/a/ls', '/b/ls']);
  assert.deepEqual(execCandidates('ls', ['PATH=rel::/c'], '/w'), ['/w/rel/ls', '/w/ls', '/c/ls']);
  assert.deepEqual(execCandidates('./x', ['PATH=/a'], '/'), ['./x']);
  assert.equal(execCandidates('ls', [], '/')[0], '/usr/local/sbin/ls');
});

test('the order is fixed: join, clone, sync, mounts, pivot, masks, identity, exec last', () => {
  const plan = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, {
    detach: false,
    noPivot: false,
    preserveFds: 0,
  });
  const names = plan.ops.map((o) => o.op);
  const at = (n: string) => names.indexOf(n as never);
  assert.ok(at('clone') < at('sync_go'));
  assert.ok(at('sync_go') < at('rootfs_open'));
  assert.ok(at('rootfs_open') < at('pivot_root'));
  assert.ok(at('pivot_root') < at('mask_path'));
  assert.ok(at('mask_path') < at('caps_bounding'));
  assert.ok(at('caps_bounding') < at('set_user'));
  assert.ok(at('set_user') < at('capset'));
  assert.ok(at('chdir') > at('set_user'));
  assert.equal(names.at(-1), 'exec');
  assert.equal(names.at(-2), 'no_new_privs');
});

test('a hard rlimit above the host limit is refused at compile time with the field', () => {
  const s = defaultSpec(['true']);
  s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 30000 }];
  assert.throws(
    () => compilePlan(validateSpec(s), FACTS, { detach: false, noPivot: false, preserveFds: 0 }),
    {
      code: 'RLIMIT_TOO_HIGH',
      field: 'process.rlimits[0].hard',
    },
  );
});

test('lowering oomScoreAdj below the caller needs CAP_SYS_RESOURCE', () => {
  const s = defaultSpec(['true']);
  s.process!.oomScoreAdj = -100;
  assert.throws(
    () => compilePlan(validateSpec(s), FACTS, { detach: false, noPivot: false, preserveFds: 0 }),
    { code: 'RLIMIT_TOO_HIGH' },
  );
  assert.doesNotThrow(() =>
    compilePlan(
      validateSpec(s),
      { ...FACTS, hasCapSysResource: true },
      { detach: false, noPivot: false, preserveFds: 0 },
    ),
  );
});

test('preserved fds move the close-on-exec boundary', () => {
  const plan = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, {
    detach: false,
    noPivot: false,
    preserveFds: 2,
  });
  const op = plan.ops.find((o) => o.op === 'cloexec_from');
  assert.equal(op && 'first' in op ? op.first : undefined, 5);
});

test('the session keyring is joined in the container before the rootfs, made searchable as runc does', () => {
  const base = { detach: false, noPivot: false, preserveFds: 0 };
  const plain = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, base);
  assert.ok(!plain.ops.some((o) => o.op === 'session_keyring'), 'no keyring op without sessionKeyring (--no-new-keyring)');
  const own = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, { ...base, sessionKeyring: '_ses.c1' });
  const names = own.ops.map((o) => o.op);
  const k = names.indexOf('session_keyring');
  assert.ok(k > names.indexOf('sync_go') && k < names.indexOf('rootfs_open'));
  assert.deepEqual(own.ops[k], { op: 'session_keyring', field: own.ops[k]!.field, name: '_ses.c1', perm_add: 0x08_0000 });
  const s = defaultSpec(['true']);
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const userns = compilePlan(validateSpec(s), FACTS, { ...base, sessionKeyring: '_ses.c2' });
  const names2 = userns.ops.map((o) => o.op);
  const k2 = names2.indexOf('session_keyring');
  assert.ok(k2 > names2.indexOf('set_ids'), 'joined as root of the user namespace');
  assert.deepEqual(userns.ops[k2], { op: 'session_keyring', field: userns.ops[k2]!.field, name: '_ses.c2', perm_add: 0x08 });
});

test('cgroups: stage 0 opens the v1 tasks files first, init writes "0" to them right after the clone, v2 clones into the directory', () => {
  const base = { detach: false, noPivot: false, preserveFds: 0 };
  const moved = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, base);
  assert.ok(!moved.ops.some((o) => o.op === 'clone_into_cgroup' || o.op === 'file_open' || o.op === 'file_write'));
  const cgroupJoin = { threadFiles: ['/sys/fs/cgroup/pids/brig/c1/tasks', '/sys/fs/cgroup/memory/brig/c1/tasks'], cloneInto: '/sys/fs/cgroup/unified/brig/c1' };
  const plan = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, { ...base, cgroupJoin });
  // Before any namespace is joined: by host paths.
  assert.deepEqual(plan.ops.slice(0, 3), [
    { op: 'file_open', field: 'linux.cgroupsPath', path: '/sys/fs/cgroup/pids/brig/c1/tasks', slot: 0 },
    { op: 'file_open', field: 'linux.cgroupsPath', path: '/sys/fs/cgroup/memory/brig/c1/tasks', slot: 1 },
    { op: 'clone_into_cgroup', field: 'linux.cgroupsPath', path: '/sys/fs/cgroup/unified/brig/c1' },
  ]);
  // init's first ops: stage 0 (which waits for a foreground init) never joins.
  const clone = plan.ops.findIndex((o) => o.op === 'clone');
  assert.deepEqual(plan.ops.slice(clone + 1, clone + 3), [
    { op: 'file_write', field: 'linux.cgroupsPath', slot: 0, data: '0', path: '/sys/fs/cgroup/pids/brig/c1/tasks' },
    { op: 'file_write', field: 'linux.cgroupsPath', slot: 1, data: '0', path: '/sys/fs/cgroup/memory/brig/c1/tasks' },
  ]);
  // ... and before init's cgroup namespace is made, so its root is the container's cgroup.
  const withCgroupNs = validateSpec(defaultSpec(['true']));
  withCgroupNs.linux!.namespaces!.push({ type: 'cgroup' });
  const nsPlan = compilePlan(withCgroupNs, FACTS, { ...base, cgroupJoin });
  const lastWrite = nsPlan.ops.map((o) => o.op).lastIndexOf('file_write');
  const unshareCgroup = nsPlan.ops.findIndex((o) => o.op === 'unshare' && o.field.startsWith('linux.namespaces') && o.flags === 0x02000000);
  assert.ok(lastWrite > 0 && unshareCgroup > lastWrite, `${lastWrite} < ${unshareCgroup}`);
  const exec = compileExecPlan(
    { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } },
    { initPid: 1, namespaces: ['user', 'mount', 'pid', 'cgroup'], linux: {} },
    FACTS,
    { detach: false, preserveFds: 0, cgroupJoin },
  );
  assert.deepEqual(exec.ops.slice(0, 3).map((o) => o.op), ['file_open', 'file_open', 'clone_into_cgroup']);
  const order = exec.ops.map((o) => (o.op === 'ns_join' ? `join:${o.field.split(' ')[1]}` : o.op));
  const execClone = order.indexOf('clone');
  // Its own cgroup must be inside its cgroup namespace for CLONE_INTO_CGROUP: that one after.
  assert.ok(order.indexOf('join:mount') < execClone && order.indexOf('join:pid') < execClone);
  assert.deepEqual(order.slice(execClone + 1, execClone + 4), ['file_write', 'file_write', 'join:cgroup']);
});

const compile = (s: ReturnType<typeof defaultSpec>, facts = FACTS) =>
  compilePlan(validateSpec(s), facts, { detach: false, noPivot: false, preserveFds: 0 });
const ERRNO_PROFILE = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['execve', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] } as const;

test('ambient capabilities the kernel cannot raise are left out with a warning, as runc and crun', () => {
  const s = defaultSpec(['true']);
  // runc spec's sets: ambient with no inheritable.
  s.process!.capabilities = {
    bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    inheritable: ['CAP_KILL'],
    ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  };
  const plan = compile(s);
  const ambient = plan.ops.find((o) => o.op === 'caps_ambient') as { mask: bigint };
  assert.equal(ambient.mask, 1n << 5n, 'only CAP_KILL, the one in permitted and inheritable');
  const capset = plan.ops.find((o) => o.op === 'capset') as { inheritable: bigint };
  assert.equal(capset.inheritable, 1n << 5n, 'inheritable is not widened to make the raise work');
  assert.deepEqual(plan.meta.warnings, [
    'process.capabilities.ambient: [0] CAP_AUDIT_WRITE, [2] CAP_NET_BIND_SERVICE not in both the permitted and the inheritable set, so the kernel cannot raise them; not raised',
  ]);
});

test('with no_new_privs, only execve follows the seccomp load', () => {
  const s = defaultSpec(['true']);
  s.linux!.seccomp = structuredClone(ERRNO_PROFILE) as never;
  s.process!.noNewPrivileges = true;
  const names = compile(s).ops.map((o) => o.op);
  assert.deepEqual(names.slice(-3), ['no_new_privs', 'seccomp_load', 'exec']);
});

test('without no_new_privs, CAP_SYS_ADMIN is kept to load the filter last and dropped by one capset after it', () => {
  const s = defaultSpec(['true']);
  s.linux!.seccomp = structuredClone(ERRNO_PROFILE) as never;
  s.process!.noNewPrivileges = false;
  s.process!.user = { uid: 1000, gid: 1000 };
  const ops = compile(s).ops;
  const names = ops.map((o) => o.op);
  assert.deepEqual(names.slice(-3), ['seccomp_load', 'capset', 'exec']);
  const load = names.indexOf('seccomp_load');
  for (const before of ['cloexec_from', 'caps_bounding', 'setgroups', 'set_user', 'caps_ambient', 'chdir', 'sync_ready']) {
    assert.ok(names.indexOf(before as never) < load, `${before} before the filter`);
  }
  const admin = 1n << 21n;
  const [first, last] = ops.filter((o) => o.op === 'capset') as unknown as { effective: bigint; permitted: bigint }[];
  assert.equal(first!.effective & admin, admin);
  assert.equal(last!.effective & admin, 0n);
  assert.equal(last!.permitted & admin, 0n);
});

test('without no_new_privs and with CAP_SYS_ADMIN in the final sets, execve alone follows the load', () => {
  const s = defaultSpec(['true']);
  s.linux!.seccomp = structuredClone(ERRNO_PROFILE) as never;
  s.process!.noNewPrivileges = false;
  s.process!.capabilities = { bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'] };
  const names = compile(s).ops.map((o) => o.op);
  assert.deepEqual(names.slice(-2), ['seccomp_load', 'exec']);
  assert.equal(names.filter((n) => n === 'capset').length, 1);
});

test('a new network namespace gets its loopback up; a joined one is left alone', () => {
  const s = defaultSpec(['true']);
  assert.ok(compile(s).ops.some((o) => o.op === 'link_up'));
  s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
  assert.ok(!compile(s).ops.some((o) => o.op === 'link_up'));
});

test('init is a session leader unless a terminal makes the session', () => {
  const s = defaultSpec(['true']);
  s.process!.terminal = false;
  assert.ok(compile(s).ops.some((o) => o.op === 'setsid'));
  s.process!.terminal = true;
  const plan = compilePlan(validateSpec(s), FACTS, { detach: true, noPivot: false, preserveFds: 0, consoleSocket: '/tmp/c.sock' });
  assert.ok(!plan.ops.some((o) => o.op === 'setsid'));
});

test('network sysctls: allowed in a joined network namespace, refused when it is the host\'s', () => {
  const s = defaultSpec(['true']);
  s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/podman' } : n));
  s.linux!.sysctl = { 'net.ipv4.ping_group_range': '0 0' };
  assert.ok(compile(s).ops.some((o) => o.op === 'write_file' && o.field === 'linux.sysctl.net.ipv4.ping_group_range'));
  assert.throws(
    () => compile(s, { ...FACTS, callersNamespaces: ['network'] }),
    /linux\.sysctl\.net\.ipv4\.ping_group_range: cannot be set: the joined network namespace is the host's/,
  );
});

test("hostname in a joined uts namespace, as runc; refused when it is the host's", () => {
  const s = defaultSpec(['true']);
  s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: '/proc/1234/ns/uts' } : n));
  s.hostname = 'joined';
  assert.ok(compile(s).ops.some((o) => o.op === 'sethostname'));
  assert.throws(() => compile(s, { ...FACTS, callersNamespaces: ['uts'] }), /^BrigError: hostname: cannot be set: the joined uts namespace is the host's|hostname: cannot be set: the joined uts namespace is the host's/);
  s.hostname = '';
  s.linux!.sysctl = { 'kernel.shmmax': '1000' };
  s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: '/proc/1/ns/ipc' } : n));
  assert.throws(() => compile(s, { ...FACTS, callersNamespaces: ['ipc'] }), /linux\.sysctl\.kernel\.shmmax: cannot be set: the joined ipc namespace is the host's/);
});

test('filesystem parameters on a bind mount are a warning naming the option, not an error', () => {
  const s = defaultSpec(['true']);
  s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'mode=755', 'size=1k'] });
  const plan = compile(s, { ...FACTS, sources: { ...FACTS.sources, '/tmp': 'dir' } });
  const i = s.mounts!.length - 1;
  assert.deepEqual(plan.meta.warnings, [
    `mounts[${i}].options[1]: "mode=755" has no effect on a bind mount; ignored`,
    `mounts[${i}].options[2]: "size=1k" has no effect on a bind mount; ignored`,
  ]);
});
