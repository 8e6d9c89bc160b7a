/**
 * cgroup v2 has no devices.allow: device access is decided by an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This file compiles the normalised
 * device policy (../devices.ts) into that program's bytes; the native helper only loads
 * (bpf(BPF_PROG_LOAD)) and attaches it (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE,
 * BPF_F_ALLOW_MULTI). The shape follows runc's devicefilter:
 *
 *   r1 = struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
 *   r2 = access_type & 0xffff      device type: BPF_DEVCG_DEV_BLOCK=1, CHAR=2
 *   r3 = access_type >> 16         access: MKNOD=1, READ=2, WRITE=4
 *   r4 = major, r5 = minor
 *   one block per exception:  if type/major/minor/access do not match, jump to the next
 *                             block; else return the exception's verdict
 *   last block:               return the default verdict
 *
 * Access matching: an *allow* exception matches when the request is a subset of what it
 * allows (open O_RDWR needs both r and w allowed); a *deny* exception matches when the
 * request overlaps what it denies — the v1 kernel's rule for a blacklist. (runc uses the
 * subset test for both, which lets O_RDWR through a "deny w" rule.)
 *
 * Only instructions every kernel since 4.15 accepts: LDX W, ALU32 AND/RSH/MOV, JMP
 * JNE/JEQ (imm and reg), EXIT. Device numbers are < 2^31 (checked in devices.ts), so the
 * 64-bit compare with a sign-extended 32-bit immediate is exact.
 */
import { ACC_ALL, type DeviceException, type DevicePolicy } from '../devices.js';

export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

// Opcodes (include/uapi/linux/bpf_common.h + bpf.h)
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNE_X: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export interface DeviceProgram {
  /** struct bpf_insn[], 8 bytes each, little-endian. */
  insns: Uint8Array;
  /** Passed to BPF_PROG_LOAD; the program calls no GPL-only helpers. */
  license: string;
  /** sha256 of insns, for the helper's load cache and for logs. */
  sha256: string;
}

const NEXT = Number.NaN; // placeholder offset: "jump to the next block", fixed up below

function ins(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

function block(e: DeviceException, allow: boolean): Insn[] {
  const out: Insn[] = [ins(OP.JNE_K, 2, 0, NEXT, e.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR)];
  if (e.access !== ACC_ALL) {
    out.push(ins(OP.MOV32_X, 1, 3, 0, 0), ins(OP.AND32_K, 1, 0, 0, e.access));
    // allow: (req & acc) != req → no match.  deny: (req & acc) == 0 → no match.
    out.push(allow ? ins(OP.JNE_X, 1, 3, NEXT, 0) : ins(OP.JEQ_K, 1, 0, NEXT, 0));
  }
  if (e.major !== -1) out.push(ins(OP.JNE_K, 4, 0, NEXT, e.major));
  if (e.minor !== -1) out.push(ins(OP.JNE_K, 5, 0, NEXT, e.minor));
  out.push(ins(OP.MOV32_K, 0, 0, 0, allow ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0));
  return out;
}

export function deviceProgramInsns(policy: DevicePolicy): Insn[] {
  const prog: Insn[] = [
    ins(OP.LDXW, 2, 1, 0, 0),
    ins(OP.AND32_K, 2, 0, 0, 0xffff),
    ins(OP.LDXW, 3, 1, 0, 0),
    ins(OP.RSH32_K, 3, 0, 0, 16),
    ins(OP.LDXW, 4, 1, 4, 0),
    ins(OP.LDXW, 5, 1, 8, 0),
  ];
  // All exceptions carry the same verdict, so order does not change the result; reverse
  // order keeps "later rule first" should that ever change (as runc).
  for (const e of [...policy.exceptions].reverse()) {
    const b = block(e, !policy.defaultAllow);
    const next = prog.length + b.length;
    for (const [i, x] of b.entries()) if (Number.isNaN(x.off)) x.off = next - (prog.length + i + 1);
    prog.push(...b);
  }
  prog.push(ins(OP.MOV32_K, 0, 0, 0, policy.defaultAllow ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0));
  return prog;
}

export function encodeInsns(prog: readonly Insn[]): Uint8Array {
  const buf = new Uint8Array(prog.length * 8);
  const view = new DataView(buf.buffer);
  for (const [i, x] of prog.entries()) {
    view.setUint8(i * 8, x.code);
    view.setUint8(i * 8 + 1, (x.dst & 0xf) | ((x.src & 0xf) << 4));
    view.setInt16(i * 8 + 2, x.off, true);
    view.setInt32(i * 8 + 4, x.imm | 0, true);
  }
  return buf;
}

export function compileDeviceProgram(policy: DevicePolicy): DeviceProgram {
  const insns = encodeInsns(deviceProgramInsns(policy));
  return { insns, license: 'Apache', sha256: (process.getBuiltinModule('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(insns).digest('hex') };
}
