/**
 * Encodes a LaunchPlan into the helper's wire format (native/helper/plan.c decodes it):
 *   "BRIGPLAN" u32 version u32 nops, then per op: u32 code u32 nargs, then per argument
 *   u8 kind and its payload: 1 = u64, 2 = u32 length + bytes (strings carry their NUL),
 *   3 = u32 count + that many strings. Little-endian throughout.
 */
import { type LaunchPlan, OP_TABLE, type Op } from '../runtime/plan/ops.js';

const enc = new TextEncoder();

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  u8(v: number) {
    this.push(Uint8Array.of(v));
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  u64(v: bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.push(b);
  }
  bytes(v: Uint8Array) {
    this.u32(v.length);
    this.push(v);
  }
  cstr(s: string) {
    const b = enc.encode(s);
    if (b.includes(0)) throw new Error(`NUL byte in plan string ${JSON.stringify(s)}`);
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    this.bytes(out);
  }
  push(b: Uint8Array) {
    this.chunks.push(b);
    this.size += b.length;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export function encodePlan(plan: LaunchPlan): Uint8Array {
  const w = new Writer();
  w.push(enc.encode('BRIGPLAN'));
  w.u32(plan.version);
  w.u32(plan.ops.length);
  for (const o of plan.ops) encodeOp(w, o);
  return w.finish();
}

function encodeOp(w: Writer, o: Op) {
  const spec = OP_TABLE[o.op];
  const entries = Object.entries(spec.args) as [string, 'int' | 'str' | 'bytes' | 'strs'][];
  w.u32(spec.code);
  w.u32(entries.length);
  const rec = o as unknown as Record<string, unknown>;
  for (const [name, kind] of entries) {
    const v = rec[name];
    switch (kind) {
      case 'int':
        w.u8(1);
        w.u64(BigInt(v as number | bigint));
        break;
      case 'str':
        w.u8(2);
        w.cstr(v as string);
        break;
      case 'bytes':
        w.u8(2);
        if (typeof v === 'string') w.cstr(v);
        else {
          // Raw bytes also carry a trailing NUL so the helper's length rule is uniform.
          const b = new Uint8Array((v as Uint8Array).length + 1);
          b.set(v as Uint8Array);
          w.bytes(b);
        }
        break;
      case 'strs':
        w.u8(3);
        w.u32((v as string[]).length);
        for (const s of v as string[]) w.cstr(s);
        break;
    }
  }
}
