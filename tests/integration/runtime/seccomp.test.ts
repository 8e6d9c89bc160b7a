/**
 * linux.seccomp through brig-runtime: the plan compiles the profile, the helper loads it
 * last before exec, and a listener fd reaches the agent with the container process state.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { LinuxSeccomp } from '../../../src/runtime/seccomp/types.js';
import { brigRuntime, leftovers, makeBundle, runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

const denyMkdir = (action: string, errnoRet?: number): LinuxSeccomp =>
  ({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action, ...(errnoRet === undefined ? {} : { errnoRet }) }],
  }) as LinuxSeccomp;

test('the filter is on: Seccomp: 2 and the filter count in /proc/self/status', { skip }, () => {
  const r = runIn(['cat', '/proc/self/status'], (s) => {
    s.linux!.seccomp = denyMkdir('SCMP_ACT_ERRNO', 1);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
});

test('a denied syscall returns the configured errno', { skip }, () => {
  const r = runIn(['sh', '-c', 'mkdir /tmp/x; echo rc=$?'], (s) => {
    s.linux!.seccomp = denyMkdir('SCMP_ACT_ERRNO', 13);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Permission denied/);
  assert.match(r.stdout, /rc=1/);
});

test('KILL_PROCESS kills with SIGSYS: exit status 159', { skip }, () => {
  const r = runIn(['mkdir', '/tmp/x'], (s) => {
    s.linux!.seccomp = denyMkdir('SCMP_ACT_KILL_PROCESS');
  });
  assert.equal(r.code, 128 + 31, r.stderr);
});

test('without noNewPrivileges the filter is loaded while privileged and still applies', { skip }, () => {
  const r = runIn(['sh', '-c', 'mkdir /tmp/x; echo rc=$?; grep NoNewPrivs /proc/self/status'], (s) => {
    s.process!.noNewPrivileges = false;
    s.linux!.seccomp = denyMkdir('SCMP_ACT_ERRNO', 1);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stdout, /NoNewPrivs:\s+0/);
});

test('a bad profile is an error naming the linux.seccomp field, nothing left behind', { skip }, () => {
  const b = makeBundle(['true'], (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }],
    } as never;
  });
  try {
    const r = brigRuntime(b, ['run', 'bad']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^brig-runtime: linux\.seccomp\.syscalls\[0\]\.action/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

// The agent: python3 can receive SCM_RIGHTS fds (Node's net cannot). It prints the state it
// got and what the fd is, then closes it: later notifying syscalls fail with ENOSYS.
const AGENT = `
import socket, sys, os, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 65536, 4)
print(json.dumps({"state": json.loads(msg), "fd": os.readlink("/proc/self/fd/%d" % fds[0])}), flush=True)
for fd in fds: os.close(fd)
`;

test('NOTIFY: the listener fd and the container process state reach the agent', {
  skip: skip || requires('root'),
}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-agent-'));
  const sock = path.join(dir, 'agent.sock');
  writeFileSync(path.join(dir, 'agent.py'), AGENT);
  const agent = spawn('python3', [path.join(dir, 'agent.py'), sock], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  agent.stdout.on('data', (d) => (out += d));
  try {
    for (let i = 0; i < 100 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 20));
    const r = runIn(['sh', '-c', 'sleep 0.3; mkdir /tmp/x; echo rc=$?'], (s) => {
      s.linux!.seccomp = {
        ...denyMkdir('SCMP_ACT_NOTIFY'),
        listenerPath: sock,
        listenerMetadata: 'brig-test',
      } as LinuxSeccomp;
    });
    assert.equal(r.code, 0, r.stderr);
    // The agent closed the listener without answering: the kernel fails the call.
    assert.match(r.stdout, /rc=1/);
    await new Promise((res) => agent.once('close', res));
    const got = JSON.parse(out.split('\n')[1]!);
    assert.equal(got.fd, 'anon_inode:seccomp notify');
    assert.deepEqual(got.state.fds, ['seccompFd']);
    assert.equal(got.state.metadata, 'brig-test');
    assert.equal(got.state.state.status, 'creating');
    assert.ok(got.state.pid > 1);
    assert.equal(got.state.state.pid, got.state.pid);
  } finally {
    agent.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
