import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  syscallNumber,
} from '../../../src/runtime/seccomp/arch.js';
import { BPF_MAXINSNS } from '../../../src/runtime/seccomp/bpf.js';
import { compileSeccomp, compileUncached } from '../../../src/runtime/seccomp/compile.js';
import type { LinuxSeccomp, LinuxSeccompArg, SeccompOperator } from '../../../src/runtime/seccomp/types.js';
import { run, type SeccompData } from '../../support/bpf-interp.js';

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const ERRNO = (e: number) => (0x00050000 | e) >>> 0;
const EPERM = 1;
const ENOSYS = 38;

const nr = (name: string, abi: Parameters<typeof syscallNumber>[0] = 'x86_64') => {
  const n = syscallNumber(abi, name);
  assert.ok(n !== undefined, `${abi} has no ${name}`);
  return n;
};

function compile(profile: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64' = 'x86_64') {
  return compileUncached(profile, { nativeArch });
}

function verdict(bytes: Uint8Array, d: Partial<SeccompData> & { nr: number }): number {
  return run(bytes, { arch: AUDIT_ARCH_X86_64, ...d }).value;
}

function invalid(profile: unknown, field: RegExp): void {
  assert.throws(
    () => compile(profile as LinuxSeccomp),
    (e: unknown) => {
      assert.ok(e instanceof BrigError);
      assert.equal(e.code, 'INVALID_CONFIG');
      assert.match(e.field ?? '', field);
      assert.ok(e.message.startsWith(`${e.field}: `), e.message);
      return true;
    },
  );
}

// --- argument operators --------------------------------------------------------------------

const U64 = (1n << 64n) - 1n;
const reference: Record<SeccompOperator, (x: bigint, v: bigint, v2: bigint) => boolean> = {
  SCMP_CMP_EQ: (x, v) => x === v,
  SCMP_CMP_NE: (x, v) => x !== v,
  SCMP_CMP_LT: (x, v) => x < v,
  SCMP_CMP_LE: (x, v) => x <= v,
  SCMP_CMP_GT: (x, v) => x > v,
  SCMP_CMP_GE: (x, v) => x >= v,
  SCMP_CMP_MASKED_EQ: (x, mask, datum) => (x & mask) === datum,
};

// Constants and probes chosen so that high halves and low halves disagree in every way.
const constants = [0n, 5n, 0xffffffffn, 0x1_00000005n, 0x1_00000000n, 0xffffffff_fffffffen, U64];
const probes = (v: bigint) =>
  [
    ...new Set([
      v,
      v + 1n,
      v - 1n,
      v + (1n << 32n),
      v - (1n << 32n),
      v & 0xffffffffn,
      0n,
      U64,
      0x2_00000000n,
    ]),
  ].filter((x) => x >= 0n && x <= U64);

for (const op of Object.keys(reference) as SeccompOperator[]) {
  test(`${op} compares all 64 bits of an argument`, () => {
    for (const value of constants) {
      // For MASKED_EQ: a datum inside the mask, and one with bits outside it (never matches).
      const datums =
        op === 'SCMP_CMP_MASKED_EQ' ? [value & 0xf0000000_0000000fn, 0xf0000000_0000000fn] : [0n];
      for (const valueTwo of datums) {
        const arg: LinuxSeccompArg = { index: 2, value, valueTwo, op };
        const { bytes } = compile({
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [arg] }],
        });
        for (const x of [...probes(value), valueTwo, valueTwo | 0x0fff0000_fff00000n]) {
          const want = reference[op](x, value, valueTwo) ? ALLOW : ERRNO(EPERM);
          const got = verdict(bytes, { nr: nr('ioctl'), args: [0, 0, x] });
          assert.equal(
            got,
            want,
            `${op} 0x${value.toString(16)}/0x${valueTwo.toString(16)} arg=0x${x.toString(16)}`,
          );
        }
      }
    }
  });
}

test('values that differ only in the high 32 bits are told apart', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0x1234n, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  assert.equal(verdict(bytes, { nr: nr('ioctl'), args: [0, 0x1234n] }), ALLOW);
  assert.equal(verdict(bytes, { nr: nr('ioctl'), args: [0, 0x1_00001234n] }), ERRNO(EPERM));
  assert.equal(verdict(bytes, { nr: nr('ioctl'), args: [0, 0xffffffff_00001234n] }), ERRNO(EPERM));
});

test('several args in one rule are ANDed, several rules for one syscall are ORed', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      {
        names: ['socket'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
          { index: 1, value: 1, op: 'SCMP_CMP_EQ' },
        ],
      },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      {
        names: ['socket'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 97,
        args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }],
      },
    ],
  });
  const socket = (...args: number[]) => verdict(bytes, { nr: nr('socket'), args });
  assert.equal(socket(2, 1), ALLOW); // AF_INET, SOCK_STREAM
  assert.equal(socket(2, 2), ERRNO(EPERM)); // second arg fails the AND
  assert.equal(socket(1, 5), ALLOW); // AF_UNIX via the second rule
  assert.equal(socket(40, 1), ERRNO(97)); // AF_VSOCK: its own action
  assert.equal(socket(10, 1), ERRNO(EPERM));
});

test('several equality rules on one argument become one membership test', () => {
  const values = [5n, 0x1_00000005n, 0x2_00000007n, 0xffffffffn, 0n];
  for (const abi of ['x86_64', 'i386'] as const) {
    const { bytes, instructions } = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [
        ...values.map((value) => ({
          names: ['ioctl'],
          action: 'SCMP_ACT_ALLOW' as const,
          args: [{ index: 3, value, op: 'SCMP_CMP_EQ' as const }],
        })),
        {
          names: ['ioctl'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 9,
          args: [{ index: 3, value: 6, op: 'SCMP_CMP_EQ' }],
        },
      ],
    });
    assert.ok(instructions < 60, `${instructions}`);
    const arch = abi === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
    const ioctl = (x: bigint) => run(bytes, { nr: nr('ioctl', abi), arch, args: [0, 0, 0, x] }).value;
    for (const x of [...values, 6n, 7n, 0x1_00000000n, 0x1_00000007n, 0x2_00000005n, U64]) {
      const low = x & 0xffffffffn;
      const member = abi === 'x86_64' ? values.includes(x) : values.some((v) => (v & 0xffffffffn) === low);
      const want = member ? ALLOW : (abi === 'x86_64' ? x : low) === 6n ? ERRNO(9) : ERRNO(EPERM);
      assert.equal(ioctl(x), want, `${abi} 0x${x.toString(16)}`);
    }
  }
});

test('on 32-bit ABIs only the low half of an argument is compared', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 7, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  const ioctl32 = nr('ioctl', 'i386');
  assert.equal(run(bytes, { nr: ioctl32, arch: AUDIT_ARCH_I386, args: [7] }).value, ALLOW);
  assert.equal(run(bytes, { nr: ioctl32, arch: AUDIT_ARCH_I386, args: [0x5_00000007n] }).value, ALLOW);
  assert.equal(run(bytes, { nr: ioctl32, arch: AUDIT_ARCH_I386, args: [8] }).value, ERRNO(EPERM));
});

// --- actions ---------------------------------------------------------------------------------

test('every action encodes its SECCOMP_RET value and data', () => {
  const cases: [LinuxSeccomp['defaultAction'], number | undefined, number][] = [
    ['SCMP_ACT_ALLOW', undefined, 0x7fff0000],
    ['SCMP_ACT_ERRNO', undefined, 0x00050001],
    ['SCMP_ACT_ERRNO', 13, 0x0005000d],
    ['SCMP_ACT_ERRNO', 0, 0x00050000],
    ['SCMP_ACT_KILL', undefined, 0x00000000],
    ['SCMP_ACT_KILL_THREAD', undefined, 0x00000000],
    ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
    ['SCMP_ACT_TRAP', undefined, 0x00030000],
    ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
    ['SCMP_ACT_TRACE', 0x1234, 0x7ff01234],
    ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
    ['SCMP_ACT_NOTIFY', undefined, 0x7fc00000],
  ];
  for (const [action, errnoRet, want] of cases) {
    const c = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      syscalls: [{ names: ['getppid'], action, ...(errnoRet === undefined ? {} : { errnoRet }) }],
    });
    assert.equal(verdict(c.bytes, { nr: nr('getppid') }), want, `${action} ${errnoRet}`);
    assert.equal(verdict(c.bytes, { nr: nr('getpid') }), ALLOW);
    assert.equal(c.notify, action === 'SCMP_ACT_NOTIFY');
  }
});

test('the default action takes defaultErrnoRet', () => {
  const { bytes } = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 22, syscalls: [] });
  assert.equal(verdict(bytes, { nr: nr('read') }), ERRNO(22));
  const trace = compile({ defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 7 });
  assert.equal(verdict(trace.bytes, { nr: nr('read') }), 0x7ff00007);
});

test('flags map to SECCOMP_FILTER_FLAG_* and NOTIFY implies NEW_LISTENER', () => {
  const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  assert.equal(compile(base).flags, 0);
  assert.equal(
    compile({
      ...base,
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    }).flags,
    1 | 2 | 4,
  );
  const notify: LinuxSeccomp = {
    ...base,
    listenerPath: '/run/agent.sock',
    syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }],
  };
  assert.equal(compile(notify).flags, 8);
  assert.equal(compile({ ...notify, flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }).flags, 8 | 32);
  // TSYNC with a listener needs TSYNC_ESRCH, or the kernel refuses the combination.
  assert.equal(compile({ ...notify, flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }).flags, 1 | 8 | 16);
});

// --- architectures ---------------------------------------------------------------------------

test('a syscall from an ABI the profile does not list kills the process', () => {
  const { bytes } = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
  assert.equal(run(bytes, { nr: 20, arch: AUDIT_ARCH_I386 }).value, KILL_PROCESS);
  assert.equal(run(bytes, { nr: 20, arch: AUDIT_ARCH_AARCH64 }).value, KILL_PROCESS);
  assert.equal(run(bytes, { nr: 20, arch: AUDIT_ARCH_X86_64 }).value, ALLOW);
});

test('i386 is its own section, with i386 numbers', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.equal(run(bytes, { nr: nr('getpid', 'i386'), arch: AUDIT_ARCH_I386 }).value, ALLOW);
  assert.equal(run(bytes, { nr: nr('getpid'), arch: AUDIT_ARCH_X86_64 }).value, ALLOW);
  // The same numbers mean other syscalls in the other ABI: 20 is writev on x86_64, 39 mkdir on i386.
  assert.equal(run(bytes, { nr: 20, arch: AUDIT_ARCH_X86_64 }).value, ERRNO(EPERM));
  assert.equal(run(bytes, { nr: 39, arch: AUDIT_ARCH_I386 }).value, ERRNO(EPERM));
});

test('the x32 range is refused on x86_64 unless x32 is listed', () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }],
  };
  const without = compile(profile).bytes;
  assert.equal(verdict(without, { nr: nr('getpid', 'x32') }), KILL_PROCESS);
  assert.equal(verdict(without, { nr: 0xffffffff }), KILL_PROCESS);
  const withX32 = compile({ ...profile, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] }).bytes;
  assert.equal(verdict(withX32, { nr: nr('getpid', 'x32') }), ALLOW);
  assert.equal(verdict(withX32, { nr: nr('read', 'x32') }), ERRNO(EPERM));
  assert.equal(verdict(withX32, { nr: 0x40000000 + 2000 }), ERRNO(ENOSYS));
  assert.equal(verdict(withX32, { nr: nr('getpid') }), ALLOW);
});

test('aarch64 hosts cover aarch64 and arm; x86 architectures are ignored there', () => {
  const { bytes } = compile(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_S390X'],
      syscalls: [{ names: ['getpid', 'cacheflush'], action: 'SCMP_ACT_ALLOW' }],
    },
    'aarch64',
  );
  assert.equal(run(bytes, { nr: nr('getpid', 'aarch64'), arch: AUDIT_ARCH_AARCH64 }).value, ALLOW);
  assert.equal(run(bytes, { nr: nr('getpid', 'arm'), arch: AUDIT_ARCH_ARM }).value, ALLOW);
  assert.equal(run(bytes, { nr: nr('cacheflush', 'arm'), arch: AUDIT_ARCH_ARM }).value, ALLOW);
  assert.equal(run(bytes, { nr: nr('getpid'), arch: AUDIT_ARCH_X86_64 }).value, KILL_PROCESS);
});

// --- names and numbers -----------------------------------------------------------------------

test('names an ABI does not have are skipped', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86'],
    // arch_prctl is x86_64-only, socketcall i386-only, frobnicate nobody's.
    syscalls: [{ names: ['arch_prctl', 'socketcall', 'frobnicate', 'getpid'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.equal(verdict(bytes, { nr: nr('arch_prctl') }), ALLOW);
  assert.equal(run(bytes, { nr: nr('socketcall', 'i386'), arch: AUDIT_ARCH_I386 }).value, ALLOW);
  assert.equal(verdict(bytes, { nr: nr('getpid') }), ALLOW);
});

test('numbers above the table get ENOSYS unless the default allows', () => {
  const highest = Math.max(...['cachestat', 'file_setattr', 'set_mempolicy_home_node'].map((n) => nr(n)));
  const denying = compile({ defaultAction: 'SCMP_ACT_ERRNO' }).bytes;
  assert.equal(verdict(denying, { nr: highest }), ERRNO(EPERM));
  assert.equal(verdict(denying, { nr: highest + 1 }), ERRNO(ENOSYS));
  assert.equal(verdict(denying, { nr: 0x3fffffff }), ERRNO(ENOSYS));
  // A hole inside the table (x86_64 has none between 335 and 423) keeps the default.
  assert.equal(verdict(denying, { nr: 400 }), ERRNO(EPERM));
  const killing = compile({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }).bytes;
  assert.equal(verdict(killing, { nr: highest + 1 }), ERRNO(ENOSYS));
  assert.equal(verdict(killing, { nr: 0 }), KILL_PROCESS);
  const allowing = compile({ defaultAction: 'SCMP_ACT_ALLOW' }).bytes;
  assert.equal(verdict(allowing, { nr: highest + 1 }), ALLOW);
  const logging = compile({ defaultAction: 'SCMP_ACT_LOG' }).bytes;
  assert.equal(verdict(logging, { nr: highest + 1 }), 0x7ffc0000);
});

test('on arm, numbers between the table and the private syscalls are newer than brig: ENOSYS', () => {
  const { bytes } = compile(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_ARM'],
      syscalls: [{ names: ['set_tls'], action: 'SCMP_ACT_ALLOW' }],
    },
    'aarch64',
  );
  const arm = (n: number) => run(bytes, { nr: n, arch: AUDIT_ARCH_ARM }).value;
  assert.equal(arm(nr('getpid', 'arm')), ERRNO(EPERM));
  assert.equal(arm(470), ERRNO(ENOSYS));
  assert.equal(arm(0x0effff), ERRNO(ENOSYS));
  assert.equal(arm(nr('cacheflush', 'arm')), ERRNO(EPERM)); // known, not mentioned: the default
  assert.equal(arm(nr('set_tls', 'arm')), ALLOW);
  assert.equal(arm(0x0f0100), ERRNO(ENOSYS));
});

test('syscalls without argument rules are plain ALLOW leaves', () => {
  // Plain leaves keep the kernel's constant-action cache: such a syscall never reads args.
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'write', 'openat'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
      // Redundant: the unconditional rule already allows write.
      { names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  const loadsArgs = (name: string) => {
    const trace: number[] = [];
    // Arguments the filter would read are poisoned: any read of them changes the verdict path.
    for (const arg of [0n, 1n, 0x5401n, U64]) trace.push(verdict(bytes, { nr: nr(name), args: [arg, arg] }));
    return new Set(trace).size > 1;
  };
  assert.equal(loadsArgs('read'), false);
  assert.equal(loadsArgs('write'), false);
  assert.equal(loadsArgs('ioctl'), true);
});

// --- validation ------------------------------------------------------------------------------

test('validation errors name the JSON path', () => {
  invalid(null, /^linux\.seccomp$/);
  invalid({ defaultAction: 'SCMP_ACT_MAYBE' }, /^linux\.seccomp\.defaultAction$/);
  invalid({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, /^linux\.seccomp\.defaultAction$/);
  invalid({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }, /^linux\.seccomp\.defaultErrnoRet$/);
  invalid(
    { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_Z80'] },
    /^linux\.seccomp\.architectures\[0\]$/,
  );
  invalid(
    { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_FAST'] },
    /^linux\.seccomp\.flags\[0\]$/,
  );
  invalid(
    { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] },
    /^linux\.seccomp\.flags$/,
  );
  const rules = (s: unknown) => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: s });
  invalid(rules({}), /^linux\.seccomp\.syscalls$/);
  invalid(rules([{ names: [], action: 'SCMP_ACT_ALLOW' }]), /^linux\.seccomp\.syscalls\[0\]\.names$/);
  invalid(
    rules([
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['read', 42], action: 'SCMP_ACT_ALLOW' },
    ]),
    /^linux\.seccomp\.syscalls\[1\]\.names\[1\]$/,
  );
  invalid(rules([{ names: ['read'], action: 'ALLOW' }]), /^linux\.seccomp\.syscalls\[0\]\.action$/);
  invalid(
    rules([{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }]),
    /^linux\.seccomp\.syscalls\[0\]\.errnoRet$/,
  );
  const arg = (a: unknown) =>
    rules([
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, a] },
    ]);
  invalid(arg({ index: 0, value: 1, op: 'SCMP_CMP_FOO' }), /^linux\.seccomp\.syscalls\[1\]\.args\[1\]\.op$/);
  invalid(
    arg({ index: 6, value: 1, op: 'SCMP_CMP_EQ' }),
    /^linux\.seccomp\.syscalls\[1\]\.args\[1\]\.index$/,
  );
  invalid(
    arg({ index: 0, value: -1, op: 'SCMP_CMP_EQ' }),
    /^linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value$/,
  );
  invalid(
    arg({ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }),
    /^linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value$/,
  );
  invalid(
    arg({ index: 0, value: 1, valueTwo: 'x', op: 'SCMP_CMP_MASKED_EQ' }),
    /^linux\.seccomp\.syscalls\[1\]\.args\[1\]\.valueTwo$/,
  );
  invalid(rules([{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }]), /^linux\.seccomp\.listenerPath$/);
});

test('a second unconditional rule for a syscall does not override the first (libseccomp, podman profiles)', () => {
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'setns'], action: 'SCMP_ACT_ALLOW' },
      { names: ['setns'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    ],
  });
  assert.equal(verdict(bytes, { nr: nr('setns') }), ALLOW);
  assert.equal(verdict(bytes, { nr: nr('read') }), ALLOW);
});

test('bigint argument values beyond 2^53 are accepted', () => {
  const big = 0xdead_beef_0000_0001n;
  const { bytes } = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: big, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  assert.equal(verdict(bytes, { nr: nr('ioctl'), args: [big] }), ALLOW);
  assert.equal(verdict(bytes, { nr: nr('ioctl'), args: [big - 1n] }), ERRNO(EPERM));
});

// --- size, jumps, cache ----------------------------------------------------------------------

test('large profiles get trampolines for long jumps and stay correct', () => {
  // Every syscall with its own argument rule: leaves far apart, subtrees far over 255 instructions.
  const names = ['read', 'write', 'openat', 'close', 'mmap', 'ioctl', 'getpid', 'getppid'];
  const all = [...Array(200).keys()];
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: all.map((i) => ({
      names: [names[i % names.length]!],
      action: 'SCMP_ACT_ERRNO' as const,
      errnoRet: 100 + i,
      args: [{ index: i % 6, value: BigInt(i) << 20n, op: 'SCMP_CMP_EQ' as const }],
    })),
  };
  const c = compile(profile);
  assert.ok(c.instructions > 1000, `only ${c.instructions} instructions`);
  assert.ok(c.instructions <= BPF_MAXINSNS);
  for (const i of all) {
    const args = [0, 0, 0, 0, 0, 0].map(() => 0n);
    args[i % 6] = BigInt(i) << 20n;
    const name = names[i % names.length]!;
    // The first rule in profile order that matches decides (rule 0 matches any read with arg0 0).
    const first = all.find((j) => j % names.length === i % names.length && args[j % 6] === BigInt(j) << 20n)!;
    assert.equal(verdict(c.bytes, { nr: nr(name), args }), ERRNO(100 + first), `rule ${i}`);
    assert.equal(
      run(c.bytes, { nr: nr(name, 'i386'), arch: AUDIT_ARCH_I386, args }).value,
      ERRNO(100 + first),
    );
  }
});

test('a profile that compiles past BPF_MAXINSNS is refused with SECCOMP_TOO_LARGE', () => {
  const syscalls = [...Array(1100).keys()].map((i) => ({
    names: ['ioctl'],
    action: 'SCMP_ACT_ALLOW' as const,
    args: [{ index: 1, value: i + 1, op: 'SCMP_CMP_GE' as const }],
  }));
  assert.throws(
    () => compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }),
    (e: unknown) => e instanceof BrigError && e.code === 'SECCOMP_TOO_LARGE' && /4096/.test(e.message),
  );
});

test('compileSeccomp caches by content and hands out copies', () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  };
  const a = compileSeccomp(profile, { nativeArch: 'x86_64' });
  a.bytes.fill(0);
  const reordered = {
    syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['read'] }],
    defaultAction: 'SCMP_ACT_ERRNO',
  };
  const b = compileSeccomp(reordered as LinuxSeccomp, { nativeArch: 'x86_64' });
  assert.deepEqual(b.bytes, compile(profile).bytes);
  assert.notDeepEqual(compileSeccomp(profile, { nativeArch: 'aarch64' }).bytes, b.bytes);
});
