import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AbiName,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  syscallNumber,
} from '../../../src/runtime/seccomp/arch.js';
import { BPF_MAXINSNS } from '../../../src/runtime/seccomp/bpf.js';
import { compileUncached } from '../../../src/runtime/seccomp/compile.js';
import {
  CLONE_NAMESPACE_FLAGS,
  defaultSeccompProfile,
} from '../../../src/runtime/seccomp/default-profile.js';
import type { NativeArch } from '../../../src/runtime/seccomp/types.js';
import { longestPath, run } from '../../support/bpf-interp.js';
import { DEFAULT_CAPS } from './fixtures.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

const AUDIT: Record<AbiName, number> = {
  x86_64: AUDIT_ARCH_X86_64,
  x32: AUDIT_ARCH_X86_64,
  i386: AUDIT_ARCH_I386,
  aarch64: AUDIT_ARCH_AARCH64,
  arm: AUDIT_ARCH_ARM,
};

function filter(arch: NativeArch, caps: string[] = DEFAULT_CAPS) {
  const compiled = compileUncached(defaultSeccompProfile({ capabilities: caps, arch }), { nativeArch: arch });
  const call = (abi: AbiName, name: string, ...args: (number | bigint)[]) => {
    const nr = syscallNumber(abi, name);
    assert.ok(nr !== undefined, `${abi} has no ${name}`);
    return run(compiled.bytes, { nr, arch: AUDIT[abi], args });
  };
  return { compiled, call };
}

test('default profile size and per-syscall cost (reported)', (t) => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const { compiled, call } = filter(arch);
    const native = arch === 'x86_64' ? 'x86_64' : 'aarch64';
    const steps = call(native, 'read').steps;
    const worst = longestPath(compiled.bytes);
    t.diagnostic(
      `${arch}: ${compiled.instructions} instructions, read() runs ${steps}, the longest path ${worst}`,
    );
    assert.ok(compiled.instructions <= BPF_MAXINSNS);
    assert.ok(steps <= 14, `read() costs ${steps} instructions`);
    assert.ok(worst <= 40, `longest path ${worst}`);
    assert.equal(compiled.flags, 0);
  }
});

test('everyday syscalls are allowed on every ABI of the host', () => {
  const { call } = filter('x86_64');
  for (const abi of ['x86_64', 'x32', 'i386'] as const) {
    for (const name of [
      'read',
      'write',
      'openat',
      'close',
      'execve',
      'exit_group',
      'futex',
      'getppid',
      'rt_sigreturn',
    ]) {
      assert.equal(call(abi, name).value, ALLOW, `${abi} ${name}`);
    }
  }
  assert.equal(call('x86_64', 'arch_prctl').value, ALLOW);
  assert.equal(call('i386', 'socketcall').value, ALLOW);
  const arm = filter('aarch64').call;
  for (const [abi, name] of [
    ['aarch64', 'openat'],
    ['aarch64', 'clone'],
    ['arm', 'set_tls'],
    ['arm', 'cacheflush'],
    ['arm', 'mmap2'],
  ] as const) {
    assert.equal(arm(abi, name).value, ALLOW, `${abi} ${name}`);
  }
});

test('every plainly allowed syscall can be cached by the kernel as always-ALLOW', () => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const profile = defaultSeccompProfile({ capabilities: DEFAULT_CAPS, arch });
    const { bytes } = compileUncached(profile, { nativeArch: arch });
    const plain = profile.syscalls!.find((s) => !s.args)!.names;
    const abis: AbiName[] = arch === 'x86_64' ? ['x86_64', 'x32', 'i386'] : ['aarch64', 'arm'];
    let checked = 0;
    for (const abi of abis) {
      for (const name of plain) {
        const nr = syscallNumber(abi, name);
        if (nr === undefined) continue;
        assert.equal(
          run(bytes, { nr, arch: AUDIT[abi] }, { constantOnly: true }).value,
          ALLOW,
          `${abi} ${name}`,
        );
        checked += 1;
      }
    }
    assert.ok(checked > 600, `${checked}`);
    // Syscalls with argument rules are the ones that must run the filter.
    assert.throws(() =>
      run(
        bytes,
        { nr: syscallNumber(abis[0]!, 'personality')!, arch: AUDIT[abis[0]!] },
        { constantOnly: true },
      ),
    );
  }
});

test('dangerous syscalls are refused without the capability', () => {
  const { call } = filter('x86_64');
  for (const name of [
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'perf_event_open',
    'kexec_load',
    'kexec_file_load',
    'open_by_handle_at',
    'userfaultfd',
    'unshare',
    'setns',
    'mount',
    'umount2',
    'swapon',
    'init_module',
    'finit_module',
    'ptrace',
    'reboot',
    'settimeofday',
    'clock_settime',
    'io_uring_setup',
    'pivot_root',
    'fsopen',
  ]) {
    assert.equal(call('x86_64', name).value, EPERM, name);
    if (syscallNumber('i386', name) !== undefined)
      assert.equal(call('i386', name).value, EPERM, `i386 ${name}`);
  }
});

test('capabilities open their syscall groups', () => {
  const cases: [string, string[]][] = [
    ['CAP_SYS_ADMIN', ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'sethostname', 'clone3']],
    ['CAP_SYS_PTRACE', ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp']],
    ['CAP_SYS_BOOT', ['reboot']],
    ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
    ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
    ['CAP_BPF', ['bpf']],
  ];
  for (const [cap, names] of cases) {
    const { call } = filter('x86_64', [...DEFAULT_CAPS, cap]);
    for (const name of names) assert.equal(call('x86_64', name).value, ALLOW, `${cap} ${name}`);
  }
  // Even CAP_SYS_ADMIN does not open the keyring or kexec.
  const admin = filter('x86_64', [...DEFAULT_CAPS, 'CAP_SYS_ADMIN']).call;
  for (const name of ['keyctl', 'kexec_load', 'swapon'])
    assert.equal(admin('x86_64', name).value, EPERM, name);
});

test('clone is allowed without namespace flags; clone3 answers ENOSYS so libc falls back', () => {
  const { call } = filter('x86_64');
  const CLONE_THREAD_FLAGS = 0x3d0f00; // what pthread_create passes
  const SIGCHLD = 17;
  assert.equal(call('x86_64', 'clone', CLONE_THREAD_FLAGS).value, ALLOW);
  assert.equal(call('x86_64', 'clone', SIGCHLD).value, ALLOW);
  assert.equal(call('i386', 'clone', SIGCHLD).value, ALLOW);
  for (const ns of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
    assert.ok((CLONE_NAMESPACE_FLAGS & ns) !== 0);
    assert.equal(call('x86_64', 'clone', SIGCHLD | ns).value, EPERM, `flag 0x${ns.toString(16)}`);
    assert.equal(call('i386', 'clone', SIGCHLD | ns).value, EPERM, `i386 flag 0x${ns.toString(16)}`);
  }
  assert.equal(call('x86_64', 'clone3').value, ENOSYS);
  const admin = filter('x86_64', [...DEFAULT_CAPS, 'CAP_SYS_ADMIN']).call;
  assert.equal(admin('x86_64', 'clone', SIGCHLD | 0x10000000).value, ALLOW);
  assert.equal(admin('x86_64', 'clone3').value, ALLOW);
});

test('personality is limited to the known harmless values', () => {
  const { call } = filter('x86_64');
  for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff])
    assert.equal(call('x86_64', 'personality', v).value, ALLOW);
  const ADDR_NO_RANDOMIZE = 0x0040000;
  const READ_IMPLIES_EXEC = 0x0400000;
  assert.equal(call('x86_64', 'personality', ADDR_NO_RANDOMIZE).value, EPERM);
  assert.equal(call('x86_64', 'personality', READ_IMPLIES_EXEC).value, EPERM);
  assert.equal(call('x86_64', 'personality', 0x1_00000000n).value, EPERM);
});

test('syscall numbers newer than brig answer ENOSYS, unknown old ones EPERM', () => {
  const { compiled } = filter('x86_64');
  assert.equal(run(compiled.bytes, { nr: 470, arch: AUDIT_ARCH_X86_64 }).value, ENOSYS);
  assert.equal(run(compiled.bytes, { nr: 10_000, arch: AUDIT_ARCH_I386 }).value, ENOSYS);
  assert.equal(run(compiled.bytes, { nr: 400, arch: AUDIT_ARCH_X86_64 }).value, EPERM);
});
