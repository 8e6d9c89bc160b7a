import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Assembler, decode, disassemble, encode } from '../../../src/runtime/seccomp/bpf.js';
import { longestPath, run } from '../../support/bpf-interp.js';

const data = (nr: number) => ({ nr, arch: 0 });

test('labels resolve to forward offsets and encode as little-endian sock_filter', () => {
  const asm = new Assembler();
  const yes = asm.label('yes');
  const no = asm.label('no');
  asm.ldAbs(0);
  asm.jump('jeq', 7, yes, no);
  asm.bind(no);
  asm.ret(1);
  asm.bind(yes);
  asm.ret(2);
  const program = asm.assemble();
  assert.deepEqual(program[1], { code: 0x15, jt: 1, jf: 0, k: 7 });
  const bytes = encode(program);
  assert.equal(bytes.length, 32);
  assert.deepEqual([...bytes.subarray(8, 16)], [0x15, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00]);
  assert.deepEqual(decode(bytes), program);
  assert.equal(run(bytes, data(7)).value, 2);
  assert.equal(run(bytes, data(8)).value, 1);
  assert.match(disassemble(program), /1: jeq #0x7 jt 3 jf 2/);
});

test('conditional jumps farther than 255 instructions go through trampolines', () => {
  for (const distance of [254, 255, 256, 300, 1000]) {
    const asm = new Assembler();
    const far = asm.label('far');
    const near = asm.label('near');
    asm.ldAbs(0);
    asm.jump('jeq', 1, far, near);
    asm.bind(near);
    // A second far jump from further down, so one trampoline can push another out of range.
    const far2 = asm.label('far2');
    const near2 = asm.label('near2');
    asm.jump('jgt', 5, far2, near2);
    asm.bind(near2);
    for (let i = 0; i < distance; i++) asm.ret(100 + i);
    asm.bind(far);
    asm.ldAbs(0);
    asm.ret(42);
    asm.bind(far2);
    asm.ret(43);
    const program = asm.assemble();
    for (const insn of program) {
      assert.ok(insn.jt <= 255 && insn.jf <= 255);
    }
    assert.equal(run(program, data(1)).value, 42, `distance ${distance}`);
    assert.equal(run(program, data(6)).value, 43, `distance ${distance}`);
    assert.equal(run(program, data(2)).value, 100, `distance ${distance}`);
  }
});

test('a far target that is a ret is copied rather than jumped to', () => {
  const asm = new Assembler();
  const far = asm.label('far');
  const near = asm.label('near');
  asm.ldAbs(0);
  asm.jump('jeq', 1, far, near);
  asm.bind(near);
  for (let i = 0; i < 300; i++) asm.ret(i);
  asm.bind(far);
  asm.ret(999);
  const program = asm.assemble();
  assert.deepEqual(program[2], { code: 0x06, jt: 0, jf: 0, k: 999 });
  assert.deepEqual(run(program, data(1)), { value: 999, steps: 3 });
});

test('backward jumps and unbound labels are refused', () => {
  const asm = new Assembler();
  const back = asm.label('back');
  asm.bind(back);
  asm.ret(0);
  asm.ja(back);
  assert.throws(() => asm.assemble(), /backward jump/);
  const asm2 = new Assembler();
  asm2.ja(asm2.label('nowhere'));
  assert.throws(() => asm2.assemble(), /never bound/);
});

test('the interpreter reports running off the end and measures the longest path', () => {
  const asm = new Assembler();
  const a = asm.label('a');
  const b = asm.label('b');
  asm.ldAbs(0);
  asm.jump('jset', 1, a, b);
  asm.bind(b);
  asm.ret(0);
  asm.bind(a);
  asm.andK(0xff);
  asm.ret(1);
  const program = asm.assemble();
  assert.equal(longestPath(program), 4);
  assert.throws(() => run(program.slice(0, 3), data(1)), /fell off the end|out of the program/);
});
