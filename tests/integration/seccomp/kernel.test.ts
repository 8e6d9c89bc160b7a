/**
 * Filters compiled by brig, loaded into the real kernel by a tiny probe (no native helper
 * needed, no root: PR_SET_NO_NEW_PRIVS makes seccomp available to anyone).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { syscallNumber } from '../../../src/runtime/seccomp/arch.js';
import { compileUncached } from '../../../src/runtime/seccomp/compile.js';
import { defaultSeccompProfile } from '../../../src/runtime/seccomp/default-profile.js';
import type { LinuxSeccomp, NativeArch } from '../../../src/runtime/seccomp/types.js';
import { requires } from '../../support/requires.js';
import { DEFAULT_CAPS } from '../../unit/seccomp/fixtures.js';
import { buildProbes, callResult, needsCc, type Probes } from './probe.js';

const native: NativeArch | undefined =
  process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
const skip = native === undefined ? `unsupported host architecture ${process.arch}` : needsCc();

const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

describe('seccomp filters in the kernel', { skip }, () => {
  const arch = native ?? 'x86_64';
  const nr = (name: string) => {
    const n = syscallNumber(arch, name);
    assert.ok(n !== undefined, name);
    return String(n);
  };
  const compile = (p: LinuxSeccomp) => compileUncached(p, { nativeArch: arch });
  const defaults = () => compile(defaultSeccompProfile({ capabilities: DEFAULT_CAPS, arch }));
  let probes: Probes;
  before(() => {
    probes = buildProbes();
  });
  after(() => probes?.cleanup());

  test('the process runs in filter mode (Seccomp: 2)', () => {
    const r = probes.run(defaults(), ['/bin/busybox', 'cat', '/proc/self/status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
  });

  test('a denied syscall returns the configured errno', () => {
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: EACCES }],
    });
    assert.deepEqual(callResult(probes.run(f, [probes.call, nr('getppid')])), { ret: -1, errno: EACCES });
    assert.equal(callResult(probes.run(f, [probes.call, nr('getpid')])).errno, 0);
  });

  test('SCMP_ACT_KILL_PROCESS kills with SIGSYS', () => {
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_KILL_PROCESS' }],
    });
    const r = probes.run(f, [probes.call, nr('getppid')]);
    assert.equal(r.signal, 'SIGSYS');
    assert.equal(r.stdout, '');
  });

  test('an argument condition allows one value and refuses another, high half included', () => {
    // getppid ignores its registers, but the filter sees them: a clean way to test arg checks.
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['getppid'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: EPERM,
          args: [{ index: 1, value: 0x1_0000_0007n, op: 'SCMP_CMP_NE' }],
        },
      ],
    });
    const call = (v: string) => callResult(probes.run(f, [probes.call, nr('getppid'), '0', v]));
    assert.equal(call('0x100000007').errno, 0);
    assert.ok(call('0x100000007').ret > 0);
    assert.deepEqual(call('0x7'), { ret: -1, errno: EPERM });
    assert.deepEqual(call('0x200000007'), { ret: -1, errno: EPERM });
  });

  test('NOTIFY loads with a listener (NEW_LISTENER, TSYNC_ESRCH, WAIT_KILLABLE_RECV)', () => {
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/nonexistent/agent.sock',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }],
    });
    assert.equal(f.flags, 1 | 8 | 16 | 32);
    // The listener fd is close-on-exec; with no supervisor left the kernel answers ENOSYS.
    assert.deepEqual(callResult(probes.run(f, [probes.call, nr('getppid')])), { ret: -1, errno: ENOSYS });
  });

  test('LOG and SPEC_ALLOW flags are accepted by the kernel', () => {
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_LOG' }],
    });
    const r = probes.run(f, [probes.call, nr('getppid')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(callResult(r).ret > 0);
  });

  describe('the i386 gate (int 0x80)', { skip: arch === 'x86_64' ? false : 'x86_64 only' }, () => {
    const I386_GETPID = '20';
    test('cannot bypass an x86_64-only filter', (t) => {
      const plain = spawnSync(probes.call, ['--int80', I386_GETPID]);
      if (plain.signal !== null) {
        t.skip('the kernel has no IA32 emulation (int 0x80 faults)');
        return;
      }
      const profile: LinuxSeccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }],
      };
      // Only x86_64 listed: an i386 syscall is from an ABI the filter does not cover.
      const killed = probes.run(compile(profile), [probes.call, '--int80', I386_GETPID]);
      assert.equal(killed.signal, 'SIGSYS');
      // With the i386 section, its own numbers apply.
      const both = compile({ ...profile, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] });
      assert.deepEqual(callResult(probes.run(both, [probes.call, '--int80', I386_GETPID])), {
        ret: -1,
        errno: EPERM,
      });
      // i386 keyctl under the default profile is refused like the x86_64 one.
      const I386_KEYCTL = '288';
      assert.deepEqual(
        callResult(probes.run(defaults(), [probes.call, '--int80', I386_KEYCTL, '0', '0xfffffffd'])),
        {
          ret: -1,
          errno: EPERM,
        },
      );
    });
  });

  test('x32 numbers are refused unless x32 is listed', {
    skip: arch === 'x86_64' ? false : 'x86_64 only',
  }, () => {
    const X32_GETPID = String(syscallNumber('x32', 'getpid'));
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: EACCES }],
    };
    assert.equal(probes.run(compile(profile), [probes.call, X32_GETPID]).signal, 'SIGSYS');
    const withX32 = compile({ ...profile, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] });
    assert.deepEqual(callResult(probes.run(withX32, [probes.call, X32_GETPID])), { ret: -1, errno: EACCES });
  });

  test('the kernel accepts a program with trampolined long jumps', () => {
    // 150 argument rules on one syscall: the fallback ret sits far beyond 255 instructions.
    const f = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        ...[...Array(150).keys()].map((i) => ({
          names: ['getppid'],
          action: 'SCMP_ACT_ERRNO' as const,
          errnoRet: 100 + i,
          args: [{ index: 0, value: i + 1, op: 'SCMP_CMP_EQ' as const }],
        })),
      ],
    });
    assert.ok(f.instructions > 600, `${f.instructions}`);
    assert.deepEqual(callResult(probes.run(f, [probes.call, nr('getppid'), '150'])), { ret: -1, errno: 249 });
    assert.deepEqual(callResult(probes.run(f, [probes.call, nr('getppid'), '1'])), { ret: -1, errno: 100 });
    assert.ok(callResult(probes.run(f, [probes.call, nr('getppid'), '0x100000001'])).ret > 0);
  });

  describe('the default profile', () => {
    test('busybox applets run', { skip: requires('busybox') }, () => {
      const r = probes.run(defaults(), [
        '/bin/busybox',
        'sh',
        '-c',
        'ls / >/dev/null && cat /etc/hostname && echo ok',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ok\n$/);
    });

    test('node -e runs', () => {
      const r = probes.run(defaults(), [
        process.execPath,
        '-e',
        'require("fs").readdirSync("/"); console.log("ok")',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'ok\n');
    });

    test('keyctl, bpf and unshare(CLONE_NEWUSER) are refused with EPERM', () => {
      const KEYCTL_GET_KEYRING_ID = '0';
      const KEY_SPEC_USER_KEYRING = '0xfffffffc';
      const free = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
      const cases: [string, string[]][] = [
        ['keyctl', [KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING]],
        ['bpf', ['0', '0', '0']],
        ['unshare', ['0x10000000']],
        ['clone3', ['0', '0']],
        ['mount', ['0', '0', '0']],
        ['personality', ['0x0040000']],
      ];
      for (const [name, args] of cases) {
        const refused = callResult(probes.run(defaults(), [probes.call, nr(name), ...args]));
        const want = name === 'clone3' ? ENOSYS : EPERM;
        assert.deepEqual(refused, { ret: -1, errno: want }, name);
        // Without the filter the kernel itself answers otherwise (as root), so the refusal is the filter's.
        if (name !== 'clone3' && process.getuid?.() === 0) {
          const allowed = callResult(probes.run(free, [probes.call, nr(name), ...args]));
          assert.notDeepEqual(allowed, { ret: -1, errno: want }, `${name} without the filter`);
        }
      }
    });

    const unshare = existsSync('/usr/bin/unshare') ? requires('busybox') : 'util-linux unshare not installed';
    test('unshare -U fails under it', { skip: unshare }, () => {
      const r = probes.run(defaults(), ['/usr/bin/unshare', '-U', '/bin/busybox', 'true']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Operation not permitted/);
    });
  });
});
