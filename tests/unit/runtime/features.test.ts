import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featuresDocument } from '../../../src/runtime/features.js';

test('features lists the seccomp actions, operators and architectures the compiler supports', () => {
  const f = featuresDocument({ version: 't', capLastCap: 40, cgroupLayout: 'hybrid', kernel: '6.18.0' });
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_KILL_PROCESS'));
  assert.deepEqual(f.linux.seccomp.operators, [
    'SCMP_CMP_EQ',
    'SCMP_CMP_GE',
    'SCMP_CMP_GT',
    'SCMP_CMP_LE',
    'SCMP_CMP_LT',
    'SCMP_CMP_MASKED_EQ',
    'SCMP_CMP_NE',
  ]);
  assert.deepEqual(f.linux.seccomp.archs, [
    'SCMP_ARCH_AARCH64',
    'SCMP_ARCH_ARM',
    'SCMP_ARCH_X32',
    'SCMP_ARCH_X86',
    'SCMP_ARCH_X86_64',
  ]);
  assert.equal(f.linux.capabilities.length, 41);
  assert.ok(f.mountOptions.includes('rro'));
});

test('supported filter flags follow the kernel version', () => {
  const old = featuresDocument({ version: 't', capLastCap: 37, cgroupLayout: 'legacy', kernel: '4.15.0' });
  assert.deepEqual(old.linux.seccomp.supportedFlags, [
    'SECCOMP_FILTER_FLAG_LOG',
    'SECCOMP_FILTER_FLAG_TSYNC',
  ]);
  assert.equal(old.linux.capabilities.at(-1), 'CAP_AUDIT_READ');
});

test('nothing is claimed that the runtime refuses', () => {
  const f = featuresDocument({ version: 't', capLastCap: 40, cgroupLayout: 'hybrid', kernel: '6.18.0' });
  assert.equal(f.hooks.length, 6);
  assert.equal(f.linux.cgroup.systemd, false);
  assert.equal(f.linux.mountExtensions.idmap.enabled, true);
});
