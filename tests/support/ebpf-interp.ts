/**
 * A small eBPF interpreter for tests: runs the bytes brig hands to BPF_PROG_LOAD against a
 * synthetic context and returns r0. It covers the instructions brig emits (and their close
 * relatives) and checks what the kernel's verifier would: registers read before written,
 * context reads out of bounds, backward jumps, falling off the end.
 */

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

export class BpfError extends Error {}

export interface RunResult {
  r0: bigint;
  /** Instructions executed. */
  steps: number;
}

function signExtend32(imm: number): bigint {
  return BigInt.asUintN(64, BigInt(imm | 0));
}

/** Runs `insns` (struct bpf_insn[] bytes) with r1 pointing at `ctx`. */
export function runBpf(insns: Uint8Array, ctx: Uint8Array): RunResult {
  if (insns.length === 0 || insns.length % 8 !== 0)
    throw new BpfError(`program size ${insns.length} is not a multiple of 8`);
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const ctxView = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  const n = insns.length / 8;
  const regs: (bigint | undefined)[] = new Array(11).fill(undefined);
  const CTX = 1n << 40n; // r1 holds an opaque pointer; only ctx+off loads are allowed
  regs[1] = CTX;
  const get = (r: number, pc: number): bigint => {
    const v = regs[r];
    if (v === undefined) throw new BpfError(`pc ${pc}: r${r} read before it was written`);
    return v;
  };
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc < 0 || pc >= n) throw new BpfError(`pc ${pc}: jumped or fell out of the program (${n} insns)`);
    if (++steps > 4096) throw new BpfError('too many steps');
    const code = view.getUint8(pc * 8);
    const regByte = view.getUint8(pc * 8 + 1);
    const dst = regByte & 0xf;
    const src = regByte >> 4;
    const off = view.getInt16(pc * 8 + 2, true);
    const imm = view.getInt32(pc * 8 + 4, true);
    if (dst > 10 || src > 10) throw new BpfError(`pc ${pc}: bad register`);
    const cls = code & 0x07;
    switch (cls) {
      case 0x01: {
        // LDX: dst = *(size *)(src + off)
        if (regs[src] !== CTX) throw new BpfError(`pc ${pc}: load through r${src}, which is not the context`);
        const size = code & 0x18;
        const width = size === 0x00 ? 4 : size === 0x08 ? 2 : size === 0x10 ? 1 : 8;
        if ((code & 0xe0) !== 0x60)
          throw new BpfError(`pc ${pc}: unsupported load mode 0x${code.toString(16)}`);
        if (off < 0 || off + width > ctx.length || off % width !== 0) {
          throw new BpfError(`pc ${pc}: context access off=${off} size=${width} out of bounds`);
        }
        regs[dst] =
          width === 4
            ? BigInt(ctxView.getUint32(off, true))
            : width === 2
              ? BigInt(ctxView.getUint16(off, true))
              : width === 1
                ? BigInt(ctxView.getUint8(off))
                : ctxView.getBigUint64(off, true);
        if (dst === 10) throw new BpfError(`pc ${pc}: r10 is read-only`);
        pc++;
        break;
      }
      case 0x04:
      case 0x07: {
        // ALU (32-bit) / ALU64
        const is64 = cls === 0x07;
        const op = code & 0xf0;
        const useReg = (code & 0x08) !== 0;
        if (dst === 10) throw new BpfError(`pc ${pc}: r10 is read-only`);
        const operand = useReg ? get(src, pc) : signExtend32(imm);
        const a = op === 0xb0 ? 0n : get(dst, pc);
        const mask = is64 ? MASK64 : MASK32;
        const x = a & mask;
        const y = operand & mask;
        const shift = Number(y & (is64 ? 63n : 31n));
        let r: bigint;
        switch (op) {
          case 0x00:
            r = x + y;
            break;
          case 0x10:
            r = x - y;
            break;
          case 0x40:
            r = x | y;
            break;
          case 0x50:
            r = x & y;
            break;
          case 0x60:
            r = x << BigInt(shift);
            break;
          case 0x70:
            r = x >> BigInt(shift);
            break;
          case 0xa0:
            r = x ^ y;
            break;
          case 0xb0:
            r = y;
            break;
          default:
            throw new BpfError(`pc ${pc}: unsupported ALU op 0x${code.toString(16)}`);
        }
        regs[dst] = r & mask; // 32-bit ops zero the upper half
        pc++;
        break;
      }
      case 0x05:
      case 0x06: {
        // JMP / JMP32
        const op = code & 0xf0;
        if (op === 0x90) {
          if (cls !== 0x05) throw new BpfError(`pc ${pc}: bad exit`);
          return { r0: get(0, pc), steps };
        }
        if (op === 0x00) {
          if (off < 0) throw new BpfError(`pc ${pc}: backward jump`);
          pc += 1 + off;
          break;
        }
        const mask = cls === 0x05 ? MASK64 : MASK32;
        const a = get(dst, pc) & mask;
        const b = ((code & 0x08) !== 0 ? get(src, pc) : signExtend32(imm)) & mask;
        let taken: boolean;
        switch (op) {
          case 0x10:
            taken = a === b;
            break;
          case 0x50:
            taken = a !== b;
            break;
          case 0x20:
            taken = a > b;
            break;
          case 0x30:
            taken = a >= b;
            break;
          case 0xa0:
            taken = a < b;
            break;
          case 0xb0:
            taken = a <= b;
            break;
          case 0x40:
            taken = (a & b) !== 0n;
            break;
          default:
            throw new BpfError(`pc ${pc}: unsupported jump 0x${code.toString(16)}`);
        }
        if (off < 0) throw new BpfError(`pc ${pc}: backward jump`);
        pc += taken ? 1 + off : 1;
        break;
      }
      default:
        throw new BpfError(`pc ${pc}: unsupported instruction class 0x${code.toString(16)}`);
    }
  }
}

/** struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } */
export function devCtx(type: 'b' | 'c', access: number, major: number, minor: number): Uint8Array {
  const buf = new Uint8Array(12);
  const v = new DataView(buf.buffer);
  v.setUint32(0, ((access & 0xffff) << 16) | (type === 'b' ? 1 : 2), true);
  v.setUint32(4, major, true);
  v.setUint32(8, minor, true);
  return buf;
}
