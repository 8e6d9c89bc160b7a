/**
 * Classic BPF, the instruction set seccomp filters are written in (linux/filter.h,
 * Documentation/networking/filter.rst), and a small assembler with symbolic labels.
 *
 * Only forward jumps exist. A conditional jump carries two 8-bit offsets (jt, jf) counted
 * from the next instruction; `ja` carries a 32-bit one in k. The assembler lets code name
 * its targets with labels and, when a conditional target lands more than 255 instructions
 * away, routes that edge through a `ja` trampoline placed right after the jump (control never
 * falls through a conditional jump, so the spot is free); a far `ret` is copied there
 * instead. Inserting trampolines can push
 * other jumps out of range, so resolution repeats until nothing changes; it only ever grows
 * distances, so it terminates.
 */

// instruction classes
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
// ld/ldx size and mode
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
// alu operations
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
// jump operations
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
// operand source
export const BPF_K = 0x00;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** One struct sock_filter. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export type JumpOp = 'jeq' | 'jgt' | 'jge' | 'jset';

const JUMP_CODES: Record<JumpOp, number> = {
  jeq: BPF_JMP | BPF_JEQ | BPF_K,
  jgt: BPF_JMP | BPF_JGT | BPF_K,
  jge: BPF_JMP | BPF_JGE | BPF_K,
  jset: BPF_JMP | BPF_JSET | BPF_K,
};

export interface Label {
  readonly id: number;
  readonly name: string;
}

type Item =
  | { kind: 'plain'; code: number; k: number }
  | { kind: 'cond'; code: number; k: number; jt: Label; jf: Label }
  | { kind: 'ja'; target: Label }
  | { kind: 'bind'; label: Label };

export class Assembler {
  #items: Item[] = [];
  #labels = 0;
  #bound = new Set<number>();

  label(name = 'L'): Label {
    this.#labels += 1;
    return { id: this.#labels, name: `${name}#${this.#labels}` };
  }

  /** Places `label` at the next instruction emitted. */
  bind(label: Label): void {
    if (this.#bound.has(label.id)) throw new Error(`bpf: label ${label.name} bound twice`);
    this.#bound.add(label.id);
    this.#items.push({ kind: 'bind', label });
  }

  /** A = *(u32 *)(data + offset) */
  ldAbs(offset: number): void {
    this.#plain(BPF_LD | BPF_W | BPF_ABS, offset);
  }

  /** A &= k */
  andK(k: number): void {
    this.#plain(BPF_ALU | BPF_AND | BPF_K, k);
  }

  ret(k: number): void {
    this.#plain(BPF_RET | BPF_K, k);
  }

  ja(target: Label): void {
    this.#items.push({ kind: 'ja', target });
  }

  /** if (A <op> k) goto jt; else goto jf  (unsigned compares; jset tests A & k != 0) */
  jump(op: JumpOp, k: number, jt: Label, jf: Label): void {
    this.#items.push({ kind: 'cond', code: JUMP_CODES[op], k: u32(k), jt, jf });
  }

  #plain(code: number, k: number): void {
    this.#items.push({ kind: 'plain', code, k: u32(k) });
  }

  /** Resolves labels (inserting trampolines where needed) and returns the program. */
  assemble(): Insn[] {
    let items = this.#items;
    for (;;) {
      const pos = positions(items);
      const rets = returnsAt(items);
      const far = (from: number, to: Label) => target(pos, to) - (from + 1) > 255;
      const next: Item[] = [];
      let changed = false;
      let index = 0;
      for (const item of items) {
        if (item.kind === 'bind') {
          next.push(item);
          continue;
        }
        if (item.kind === 'cond' && (far(index, item.jt) || far(index, item.jf))) {
          changed = true;
          const edges: Item[] = [];
          const hop = (to: Label): Label => {
            if (!far(index, to)) return to;
            const t = this.label(`tramp:${to.name}`);
            // A far `ret` is cheaper copied than jumped to.
            const ret = rets.get(to.id);
            edges.push({ kind: 'bind', label: t }, ret ?? { kind: 'ja', target: to });
            return t;
          };
          const jt = hop(item.jt);
          const jf = item.jf === item.jt ? jt : hop(item.jf);
          next.push({ ...item, jt, jf }, ...edges);
        } else {
          next.push(item);
        }
        index += 1;
      }
      items = next;
      if (!changed) break;
    }
    return emit(items);
  }
}

function positions(items: Item[]): Map<number, number> {
  const pos = new Map<number, number>();
  let index = 0;
  for (const item of items) {
    if (item.kind === 'bind') pos.set(item.label.id, index);
    else index += 1;
  }
  return pos;
}

/** Labels that sit on a `ret`, mapped to that instruction. */
function returnsAt(items: Item[]): Map<number, Item> {
  const out = new Map<number, Item>();
  let waiting: number[] = [];
  for (const item of items) {
    if (item.kind === 'bind') {
      waiting.push(item.label.id);
      continue;
    }
    if (item.kind === 'plain' && item.code === (BPF_RET | BPF_K)) for (const id of waiting) out.set(id, item);
    waiting = [];
  }
  return out;
}

function target(pos: Map<number, number>, label: Label): number {
  const at = pos.get(label.id);
  if (at === undefined) throw new Error(`bpf: label ${label.name} never bound`);
  return at;
}

function emit(items: Item[]): Insn[] {
  const pos = positions(items);
  const out: Insn[] = [];
  const offset = (to: Label) => {
    const d = target(pos, to) - (out.length + 1);
    if (d < 0) throw new Error(`bpf: backward jump to ${to.name}`);
    return d;
  };
  for (const item of items) {
    switch (item.kind) {
      case 'bind':
        break;
      case 'plain':
        out.push({ code: item.code, jt: 0, jf: 0, k: item.k });
        break;
      case 'ja':
        out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset(item.target) });
        break;
      case 'cond':
        out.push({ code: item.code, jt: offset(item.jt), jf: offset(item.jf), k: item.k });
        break;
    }
  }
  return out;
}

function u32(k: number): number {
  if (!Number.isInteger(k) || k < -0x80000000 || k > 0xffffffff) throw new Error(`bpf: k ${k} is not 32-bit`);
  return k >>> 0;
}

/** struct sock_filter[] as the kernel reads it on a little-endian machine. */
export function encode(program: readonly Insn[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k, true);
  });
  return bytes;
}

export function decode(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0)
    throw new Error(`bpf: ${bytes.length} bytes is not a whole number of instructions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    out.push({
      code: view.getUint16(at, true),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, true),
    });
  }
  return out;
}

/** One line per instruction, for plans printed with --dry-run and for test failures. */
export function disassemble(program: readonly Insn[]): string {
  const hex = (k: number) => `0x${k.toString(16)}`;
  return program
    .map((insn, i) => {
      const at = String(i).padStart(4, ' ');
      const op = Object.entries(JUMP_CODES).find(([, code]) => code === insn.code)?.[0];
      if (op) return `${at}: ${op} #${hex(insn.k)} jt ${i + 1 + insn.jt} jf ${i + 1 + insn.jf}`;
      switch (insn.code) {
        case BPF_LD | BPF_W | BPF_ABS:
          return `${at}: ld [${insn.k}]`;
        case BPF_ALU | BPF_AND | BPF_K:
          return `${at}: and #${hex(insn.k)}`;
        case BPF_JMP | BPF_JA:
          return `${at}: ja ${i + 1 + insn.k}`;
        case BPF_RET | BPF_K:
          return `${at}: ret #${hex(insn.k)}`;
        default:
          return `${at}: code ${hex(insn.code)} jt ${insn.jt} jf ${insn.jf} k ${hex(insn.k)}`;
      }
    })
    .join('\n');
}
