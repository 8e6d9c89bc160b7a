/**
 * A classic-BPF interpreter for the subset seccomp filters use, run over a synthetic
 * struct seccomp_data. It follows the kernel's checker where it matters to tests: only
 * aligned 32-bit loads inside the 64-byte struct, forward jumps inside the program, and the
 * program must end in a return on every path (running off the end is an error).
 */
import { decode, type Insn } from '../../src/runtime/seccomp/bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six u64 arguments; missing ones are 0. */
  args?: (bigint | number)[];
}

export interface RunResult {
  /** The u32 the filter returned. */
  value: number;
  /** How many instructions ran, the per-syscall cost. */
  steps: number;
}

function layout(d: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(64));
  view.setUint32(0, d.nr >>> 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, d.instructionPointer ?? 0n, true);
  for (let i = 0; i < 6; i++)
    view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return view;
}

export interface RunOptions {
  /**
   * Emulate the kernel's constant-action check (kernel/seccomp.c seccomp_is_const_allow,
   * Linux 5.11+): it runs the filter at load time for each syscall number with the
   * arguments unknown and caches "always ALLOW" when the result cannot depend on them.
   * Loading args[], instruction_pointer or anything but the simplest ops throws here.
   */
  constantOnly?: boolean;
}

export function run(
  program: Uint8Array | readonly Insn[],
  data: SeccompData,
  opts: RunOptions = {},
): RunResult {
  const insns = program instanceof Uint8Array ? decode(program) : program;
  const mem = layout(data);
  let a = 0;
  let pc = 0;
  let steps = 0;
  const scratch = new Uint32Array(16);
  let x = 0;
  for (;;) {
    const insn = insns[pc];
    if (!insn) throw new Error(`bpf: fell off the end at ${pc}`);
    steps += 1;
    const { code, k, jt, jf } = insn;
    let next = pc + 1;
    if (
      opts.constantOnly &&
      (![0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06].includes(code) || (code === 0x20 && k > 4))
    ) {
      throw new Error(
        `bpf: instruction ${pc} (code 0x${code.toString(16)} k ${k}) depends on more than nr and arch`,
      );
    }
    switch (code) {
      case 0x20: // ld w abs
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bpf: bad load offset ${k} at ${pc}`);
        a = mem.getUint32(k, true);
        break;
      case 0x00: // ld imm
        a = k;
        break;
      case 0x60: // ld mem
        a = scratch[k] ?? 0;
        break;
      case 0x02: // st
        scratch[k] = a;
        break;
      case 0x01: // ldx imm
        x = k;
        break;
      case 0x54: // and k
        a = (a & k) >>> 0;
        break;
      case 0x44: // or k
        a = (a | k) >>> 0;
        break;
      case 0x05: // ja
        next = pc + 1 + k;
        break;
      case 0x15: // jeq k
        next = pc + 1 + (a === k ? jt : jf);
        break;
      case 0x25: // jgt k
        next = pc + 1 + (a > k ? jt : jf);
        break;
      case 0x35: // jge k
        next = pc + 1 + (a >= k ? jt : jf);
        break;
      case 0x45: // jset k
        next = pc + 1 + ((a & k) !== 0 ? jt : jf);
        break;
      case 0x06: // ret k
        return { value: k >>> 0, steps };
      case 0x16: // ret a
        return { value: a >>> 0, steps };
      default:
        throw new Error(`bpf: unsupported opcode 0x${code.toString(16)} at ${pc} (x=${x})`);
    }
    if (next >= insns.length) throw new Error(`bpf: jump out of the program at ${pc}`);
    pc = next;
  }
}

/** The worst-case number of instructions any input can run (longest path; the graph is a DAG). */
export function longestPath(program: Uint8Array | readonly Insn[]): number {
  const insns = program instanceof Uint8Array ? decode(program) : program;
  const memo = new Array<number>(insns.length).fill(0);
  for (let pc = insns.length - 1; pc >= 0; pc--) {
    const { code, k, jt, jf } = insns[pc]!;
    const at = (i: number) => memo[i] ?? 0;
    if (code === 0x06 || code === 0x16) memo[pc] = 1;
    else if (code === 0x05) memo[pc] = 1 + at(pc + 1 + k);
    else if ((code & 0x07) === 0x05) memo[pc] = 1 + Math.max(at(pc + 1 + jt), at(pc + 1 + jf));
    else memo[pc] = 1 + at(pc + 1);
  }
  return memo[0] ?? 0;
}
