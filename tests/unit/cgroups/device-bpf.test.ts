/**
 * The device policy and its eBPF program, run through the test interpreter on synthetic
 * contexts: last matching rule wins, default deny, r/w/m checked per access.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import {
  ACC_MKNOD,
  ACC_READ,
  ACC_WRITE,
  DEFAULT_ALLOWED_DEVICES,
  normalizeDeviceRules,
} from '../../../src/runtime/cgroups/devices.js';
import type { LinuxDeviceCgroup } from '../../../src/runtime/cgroups/resources.js';
import { compileDeviceProgram, deviceProgramInsns, OP } from '../../../src/runtime/cgroups/v2/device-bpf.js';
import { BpfError, devCtx, runBpf } from '../../support/ebpf-interp.js';

const R = ACC_READ;
const W = ACC_WRITE;
const M = ACC_MKNOD;

function allowed(rules: LinuxDeviceCgroup[]) {
  const prog = compileDeviceProgram(normalizeDeviceRules(rules));
  return (type: 'b' | 'c', access: number, major: number, minor: number): boolean => {
    const r0 = runBpf(prog.insns, devCtx(type, access, major, minor)).r0;
    assert.ok(r0 === 0n || r0 === 1n);
    return r0 === 1n;
  };
}

describe('device rules → eBPF', () => {
  test('no rules: everything denied (the default)', () => {
    const can = allowed([]);
    assert.equal(can('c', R, 1, 3), false);
    assert.equal(can('b', R | W, 8, 0), false);
  });

  test('the usual container list: deny all, then the default devices', () => {
    const can = allowed([{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES]);
    assert.equal(can('c', R | W, 1, 3), true, '/dev/null rw');
    assert.equal(can('c', M, 1, 9), true, 'mknod urandom');
    assert.equal(can('c', R | W, 136, 4), true, '/dev/pts/4 via wildcard minor');
    assert.equal(can('c', R, 10, 200), false, '/dev/net/tun not listed');
    assert.equal(can('b', R, 1, 3), false, 'block 1:3 is not char 1:3');
    assert.equal(can('b', R, 8, 0), false, '/dev/sda');
  });

  test('access is checked bit by bit: allowed "r" does not allow rw or m', () => {
    const can = allowed([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
    ]);
    assert.equal(can('b', R, 8, 0), true);
    assert.equal(can('b', W, 8, 0), false);
    assert.equal(can('b', R | W, 8, 0), false);
    assert.equal(can('b', M, 8, 0), false);
  });

  test('rules on the same device merge their access, like v1', () => {
    const can = allowed([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 4, minor: 1, access: 'r' },
      { allow: true, type: 'c', major: 4, minor: 1, access: 'w' },
    ]);
    assert.equal(can('c', R | W, 4, 1), true);
  });

  test('last rule wins: a later deny removes access an earlier allow gave', () => {
    const can = allowed([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    ]);
    assert.equal(can('c', R, 1, 3), true);
    assert.equal(can('c', W, 1, 3), false);
    assert.equal(can('c', R | W, 1, 3), false);
  });

  test('allow-all with denials: a deny matches any overlapping request (no O_RDWR hole)', () => {
    const can = allowed([
      { allow: true, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 200, access: 'w' },
      { allow: false, type: 'b', access: 'm' },
    ]);
    assert.equal(can('c', R, 10, 200), true);
    assert.equal(can('c', W, 10, 200), false);
    assert.equal(can('c', R | W, 10, 200), false, 'rw overlaps the denied w');
    assert.equal(can('b', M, 8, 0), false, 'mknod of any block device');
    assert.equal(can('b', R | W, 8, 0), true);
    assert.equal(can('c', R | W, 1, 3), true);
  });

  test('an "a" rule resets: earlier rules no longer count', () => {
    const can = allowed([
      { allow: true, type: 'c', major: 1, minor: 3 },
      { allow: false, type: 'a' },
    ]);
    assert.equal(can('c', R, 1, 3), false);
    const open = allowed([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'a', access: 'rwm' },
    ]);
    assert.equal(open('b', R | W | M, 8, 0), true);
  });

  test('a deny that punches a hole into a wildcard allow is refused, as runc does', () => {
    assert.throws(
      () =>
        normalizeDeviceRules([
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', access: 'm' },
          { allow: false, type: 'c', major: 1, minor: 3, access: 'm' },
        ]),
      (e: unknown) => e instanceof BrigError && e.code === 'CGROUP_INVALID' && /devices\[2\]/.test(e.message),
    );
  });

  test('bad rules name the field', () => {
    assert.throws(() => normalizeDeviceRules([{ allow: true, type: 'x' }]), /devices\[0\]\.type/);
    assert.throws(
      () => normalizeDeviceRules([{ allow: true, type: 'c', access: 'rx' }]),
      /devices\[0\]\.access/,
    );
    assert.throws(
      () => normalizeDeviceRules([{ allow: true, type: 'c', major: 2 ** 31 }]),
      /devices\[0\]\.major/,
    );
  });

  test('program shape: 8-byte instructions, forward jumps only, ends in exit', () => {
    const policy = normalizeDeviceRules([{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES]);
    const insns = deviceProgramInsns(policy);
    const prog = compileDeviceProgram(policy);
    assert.equal(prog.insns.length, insns.length * 8);
    assert.equal(insns.at(-1)?.code, OP.EXIT);
    for (const [i, x] of insns.entries()) {
      assert.ok(x.off >= 0, `insn ${i} jumps backwards`);
      assert.ok(i + 1 + x.off <= insns.length, `insn ${i} jumps past the end`);
    }
    // Same rules, same bytes (the helper caches by hash).
    assert.equal(compileDeviceProgram(policy).sha256, prog.sha256);
    // The first instruction: r2 = *(u32 *)(r1 + 0).
    assert.deepEqual([...prog.insns.slice(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
  });

  test('the interpreter refuses what the verifier would', () => {
    const bad = new Uint8Array(16);
    bad.set([0x61, 0x12, 12, 0, 0, 0, 0, 0]); // load past the 12-byte context
    assert.throws(() => runBpf(bad, devCtx('c', R, 1, 3)), BpfError);
    const noExit = new Uint8Array([0xb4, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => runBpf(noExit, devCtx('c', R, 1, 3)), /fell out/);
    const uninit = new Uint8Array([0xbf, 0x30, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => runBpf(uninit, devCtx('c', R, 1, 3)), /r3 read before/);
  });
});
