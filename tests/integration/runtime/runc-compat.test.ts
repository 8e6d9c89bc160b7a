/**
 * Configs other tools write, run as runc runs them: `runc spec`'s config (made by the
 * installed runc in the test, never a stored copy), a deny-by-default seccomp profile that
 * allows only what a static busybox needs, the loopback of a new network namespace, and
 * init's session. Where it matters, the same bundle also runs under runc and the two
 * results are compared.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { brigRuntime, leftovers, makeBundle, RUNTIME_BIN, type Bundle } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox', 'runc');

/** A bundle whose config.json is what `runc spec` writes, with `edit` applied. */
function runcSpecBundle(edit: (s: Spec) => void): Bundle {
  const b = makeBundle(['true']);
  const r = spawnSync('runc', ['spec'], { cwd: b.dir, encoding: 'utf8' });
  if (r.status !== 0) {
    // makeBundle wrote brig's own config; runc spec refuses to overwrite it.
    spawnSync('rm', [path.join(b.dir, 'config.json')]);
    const again = spawnSync('runc', ['spec'], { cwd: b.dir, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
  }
  const spec = JSON.parse(readTextSync(path.join(b.dir, 'config.json'))) as Spec;
  edit(spec);
  writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec, null, 2));
  return b;
}

function runc(b: Bundle, args: string[]) {
  const r = spawnSync('runc', ['--root', path.join(b.dir, 'runc-state'), ...args], { cwd: b.dir, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const capLines = (status: string) => status.split('\n').filter((l) => l.startsWith('Cap')).join('\n');

// Most tests run without a terminal, so they set terminal to false (runc too fails there:
// "open /dev/tty"); the terminal test below runs runc spec's config as it is, in script(1).
const asProgram = (args: string[]) => (s: Spec) => {
  s.process!.terminal = false;
  s.process!.args = args;
};

test("runc spec's config runs, with the capability sets runc gives it", { skip }, () => {
  const b = runcSpecBundle(asProgram(['cat', '/proc/self/status']));
  try {
    const brig = brigRuntime(b, ['run', `rs-${process.pid}`]);
    assert.equal(brig.code, 0, brig.stderr);
    const ref = runc(b, ['run', `rs-${process.pid}`]);
    assert.equal(ref.code, 0, ref.stderr);
    assert.equal(capLines(brig.stdout), capLines(ref.stdout));
    // The ambient caps runc spec lists cannot be raised without inheritable: one warning.
    assert.match(brig.stderr, /level=warning msg="process\.capabilities\.ambient: \[0\] CAP_AUDIT_WRITE, \[1\] CAP_KILL, \[2\] CAP_NET_BIND_SERVICE not in both/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test("a uid-1000 process under runc spec's config has no effective capabilities", { skip }, () => {
  const b = runcSpecBundle((s) => {
    asProgram(['cat', '/proc/self/status'])(s);
    s.process!.user = { uid: 1000, gid: 1000 };
  });
  try {
    const r = brigRuntime(b, ['run', `rs1k-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^CapEff:\s*0000000000000000$/m);
    assert.match(r.stdout, /^CapPrm:\s*0000000000000000$/m);
    assert.match(r.stdout, /^CapAmb:\s*0000000000000000$/m);
    assert.equal(capLines(r.stdout), capLines(runc(b, ['run', `rs1k-${process.pid}`]).stdout));
  } finally {
    b.cleanup();
  }
});

test("brig-runtime spec's config runs under runc too", { skip }, () => {
  const b = makeBundle(['true']);
  try {
    spawnSync('rm', [path.join(b.dir, 'config.json')]);
    const made = brigRuntime(b, ['spec']);
    assert.equal(made.code, 0, made.stderr);
    const spec = JSON.parse(readTextSync(path.join(b.dir, 'config.json'))) as Spec;
    asProgram(['sh', '-c', 'echo ok'])(spec);
    writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec));
    const r = brigRuntime(b, ['run', `bs-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    const ref = runc(b, ['run', `bs-${process.pid}`]);
    assert.equal(ref.code, 0, ref.stderr);
    assert.equal(ref.stdout, 'ok\n');
  } finally {
    b.cleanup();
  }
});

// What `busybox echo ok` (static) calls, measured with strace; anything else kills it.
const BUSYBOX_ECHO = ['arch_prctl', 'brk', 'execve', 'exit_group', 'getrandom', 'getuid', 'mprotect', 'prctl', 'prlimit64', 'readlink', 'rseq', 'set_robust_list', 'set_tid_address', 'write'];
const killProfile = (extra: string[] = []) => ({
  defaultAction: 'SCMP_ACT_KILL_PROCESS',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: [...BUSYBOX_ECHO, ...extra], action: 'SCMP_ACT_ALLOW' }],
});

test('a deny-by-default profile that allows only what busybox needs runs busybox (no_new_privs)', { skip }, () => {
  const b = runcSpecBundle((s) => {
    asProgram(['echo', 'ok'])(s);
    s.process!.noNewPrivileges = true;
    s.linux!.seccomp = killProfile() as never;
  });
  try {
    const r = brigRuntime(b, ['run', `sk-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    // The profile bites: one call more and the process is killed (SIGSYS, 128+31).
    const bitten = runcSpecBundle((s) => {
      asProgram(['cat', '/proc/self/status'])(s);
      s.process!.noNewPrivileges = true;
      s.linux!.seccomp = killProfile() as never;
    });
    try {
      assert.equal(brigRuntime(bitten, ['run', `sk2-${process.pid}`]).code, 128 + 31);
    } finally {
      bitten.cleanup();
    }
  } finally {
    b.cleanup();
  }
});

test('without no_new_privs the same profile needs only capset more, and close_range is never needed', { skip }, () => {
  const b = runcSpecBundle((s) => {
    asProgram(['echo', 'ok'])(s);
    s.process!.noNewPrivileges = false;
    // As root: runc spec's caps have no CAP_SYS_ADMIN, so the load keeps it and capset drops it.
    // (Not uid 1000: busybox itself then checks /etc/busybox.conf and calls setgid/setuid.)
    s.linux!.seccomp = killProfile(['capset']) as never;
  });
  try {
    const r = brigRuntime(b, ['run', `sk3-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('an errno profile without close_range (older tools write them) runs, and the program still sees its denials', { skip }, () => {
  const b = runcSpecBundle((s) => {
    asProgram(['sh', '-c', 'echo ok; cat /proc/self/status | grep -c Cap'])(s);
    s.process!.noNewPrivileges = false;
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['arch_prctl', 'brk', 'capset', 'clone', 'close', 'dup2', 'execve', 'exit_group', 'fcntl', 'getpid', 'getppid', 'getrandom', 'getuid', 'mmap', 'mprotect', 'munmap', 'newfstatat', 'openat', 'prctl', 'prlimit64', 'read', 'readlink', 'rseq', 'rt_sigaction', 'rt_sigreturn', 'sendfile', 'set_robust_list', 'set_tid_address', 'uname', 'wait4', 'write', 'pipe2', 'vfork', 'fork', 'rt_sigprocmask', 'getpgrp', 'ioctl', 'lseek', 'fstat', 'stat', 'access', 'pipe'],
          action: 'SCMP_ACT_ALLOW',
        },
      ],
    } as never;
  });
  try {
    const r = brigRuntime(b, ['run', `se-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n5\n');
  } finally {
    b.cleanup();
  }
});

test("a new network namespace's loopback is up, as under runc", { skip }, () => {
  const b = runcSpecBundle(asProgram(['cat', '/sys/class/net/lo/flags', '/sys/class/net/lo/operstate']));
  try {
    const r = brigRuntime(b, ['run', `lo-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    const ref = runc(b, ['run', `lo-${process.pid}`]);
    assert.equal(r.stdout, ref.stdout);
    assert.equal(Number(r.stdout.split('\n')[0]) & 1, 1, 'IFF_UP');
  } finally {
    b.cleanup();
  }
});

function pgidAndSid(pid: number): [number, number] {
  // /proc/<pid>/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces.
  const stat = readTextSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[2]), Number(f[3])];
}

test('a detached init leads a session and process group of its own (PGID = SID = pid), as runc', { skip }, () => {
  const b = runcSpecBundle(asProgram(['sleep', '30']));
  const id = `sid-${process.pid}`;
  try {
    const r = brigRuntime(b, ['run', '-d', '--pid-file', path.join(b.dir, 'pid'), id]);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(readTextSync(path.join(b.dir, 'pid')));
    assert.deepEqual(pgidAndSid(pid), [pid, pid]);
    assert.notEqual(pgidAndSid(pid)[1], pgidAndSid(process.pid)[1]);
    const e = brigRuntime(b, ['exec', '-d', '--pid-file', path.join(b.dir, 'epid'), id, 'sleep', '30']);
    assert.equal(e.code, 0, e.stderr);
    const epid = Number(readTextSync(path.join(b.dir, 'epid')));
    assert.deepEqual(pgidAndSid(epid), [epid, epid]);
  } finally {
    brigRuntime(b, ['delete', '--force', id]);
    b.cleanup();
  }
});

test("runc spec's config unchanged, in a terminal: the pty is relayed, sized and the terminal restored", { skip: skip || requires('python3') }, () => {
  // runc spec's process is `sh` with terminal: true. script(1) is the user's terminal; its
  // shell sets a size, runs brig-runtime, then prints whether canonical mode is back.
  const b = runcSpecBundle(() => {});
  try {
    const cmd = `stty rows 33 cols 99; ${RUNTIME_BIN} --root ${b.stateRoot} run tty-${process.pid}; echo "rc=$?"; stty -a | grep -o -- '-*icanon'`;
    const input = 'stty size; tty; echo from-the-pty; exit 7\n';
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: b.dir, input, encoding: 'utf8', timeout: 30_000 });
    const out = r.stdout.replace(/\r/g, '');
    assert.match(out, /^33 99$/m, out);
    assert.match(out, /^\/dev\/pts\/\d+$/m, out);
    assert.match(out, /^from-the-pty$/m, out);
    assert.match(out, /^rc=7$/m, out);
    assert.match(out, /^icanon$/m, `the caller's terminal is left raw:\n${out}`);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('a detached container with a terminal and no console socket is refused, leaving nothing', { skip }, () => {
  const b = runcSpecBundle(() => {});
  try {
    const r = brigRuntime(b, ['run', '-d', `ttyd-${process.pid}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /process\.terminal: a detached process with a terminal needs --console-socket/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test("a joined uts namespace takes the hostname, as runc; the host's own namespaces are refused, naming the field", { skip }, () => {
  // A uts namespace held by a process of the test's own, joined by path.
  const holder = spawn('unshare', ['--uts', 'sleep', '30'], { stdio: 'ignore' });
  const b = runcSpecBundle((s) => {
    asProgram(['hostname'])(s);
    s.hostname = 'joined-uts';
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${holder.pid}/ns/uts` } : n));
  });
  try {
    for (let i = 0; i < 100 && readTextSync(`/proc/${holder.pid}/cmdline`).startsWith('unshare'); i++) spawnSync('sleep', ['0.01']);
    const r = brigRuntime(b, ['run', `uts-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'joined-uts\n');
    assert.equal(spawnSync('nsenter', ['-t', String(holder.pid), '-u', 'hostname'], { encoding: 'utf8' }).stdout, 'joined-uts\n');
    // The host's own uts and network namespaces, joined by path: refused before anything runs.
    const spec = JSON.parse(readTextSync(path.join(b.dir, 'config.json'))) as Spec;
    spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: '/proc/self/ns/uts' } : n));
    writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec));
    const host = brigRuntime(b, ['run', `uts2-${process.pid}`]);
    assert.equal(host.code, 1);
    assert.match(host.stderr, /hostname: cannot be set: the joined uts namespace is the host's/);
    spec.hostname = '';
    spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
    spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec));
    const net = brigRuntime(b, ['run', `net2-${process.pid}`]);
    assert.equal(net.code, 1);
    assert.match(net.stderr, /linux\.sysctl\.net\.ipv4\.ip_forward: cannot be set: the joined network namespace is the host's/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    holder.kill('SIGKILL');
    b.cleanup();
  }
});
