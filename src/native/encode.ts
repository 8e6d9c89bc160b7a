/**
 * Encodes a plan into the native wire format (native/plan/plan.c decodes it), shared by the
 * helper's LaunchPlan ("BRIGPLAN") and the monitor's plan ("BRIGMONP"):
 *   MAGIC(8) u32 version u32 nops, then per op: u32 code u32 nargs, then per argument
 *   u8 kind and its payload: 1 = u64, 2 = u32 length + bytes (strings carry their NUL),
 *   3 = u32 count + that many strings. Little-endian throughout.
 *
 * Two passes (size, then write into one buffer): this runs on every container start.
 */
import { type LaunchPlan, OP_TABLE } from '../runtime/plan/ops.js';

type Kind = 'int' | 'str' | 'bytes' | 'strs';

function strBytes(s: string): number {
  if (s.includes('\0')) throw new Error(`NUL byte in plan string ${JSON.stringify(s)}`);
  return Buffer.byteLength(s) + 1;
}

function argSize(kind: Kind, v: unknown): number {
  switch (kind) {
    case 'int':
      return 1 + 8;
    case 'str':
      return 1 + 4 + strBytes(v as string);
    case 'bytes':
      return 1 + 4 + (typeof v === 'string' ? strBytes(v) : (v as Uint8Array).length + 1);
    case 'strs':
      return 1 + 4 + (v as string[]).reduce((n, s) => n + 4 + strBytes(s), 0);
  }
}

/** An op table: wire code and positional argument kinds per op name. */
export type WireTable = Record<string, { code: number; args: Record<string, Kind> }>;

export function encodePlan(plan: LaunchPlan): Uint8Array {
  return encodeOps('BRIGPLAN', plan.version, plan.ops, OP_TABLE);
}

export function encodeOps(magic: string, version: number, planOps: readonly { op: string }[], table: WireTable): Uint8Array {
  if (Buffer.byteLength(magic, 'latin1') !== 8) throw new Error(`plan magic must be 8 bytes: ${magic}`);
  const ops = planOps.map((o) => ({
    o,
    spec: table[o.op]!,
    args: Object.entries(table[o.op]!.args) as [string, Kind][],
  }));
  let size = 16;
  for (const { o, args } of ops) {
    size += 8;
    for (const [name, kind] of args) size += argSize(kind, (o as unknown as Record<string, unknown>)[name]);
  }
  const buf = Buffer.alloc(size);
  let at = buf.write(magic, 0, 'latin1');
  at = buf.writeUInt32LE(version, at);
  at = buf.writeUInt32LE(planOps.length, at);
  const cstr = (s: string) => {
    const n = Buffer.byteLength(s) + 1;
    at = buf.writeUInt32LE(n, at);
    at += buf.write(s, at) + 1; // the NUL is already there: Buffer.alloc zero-fills
  };
  for (const { o, spec, args } of ops) {
    at = buf.writeUInt32LE(spec.code, at);
    at = buf.writeUInt32LE(args.length, at);
    const rec = o as unknown as Record<string, unknown>;
    for (const [name, kind] of args) {
      const v = rec[name];
      switch (kind) {
        case 'int':
          at = buf.writeUInt8(1, at);
          at = buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as number | bigint)), at);
          break;
        case 'str':
          at = buf.writeUInt8(2, at);
          cstr(v as string);
          break;
        case 'bytes':
          at = buf.writeUInt8(2, at);
          if (typeof v === 'string') cstr(v);
          else {
            // Raw bytes also carry a trailing NUL so the helper's length rule is uniform.
            const b = v as Uint8Array;
            at = buf.writeUInt32LE(b.length + 1, at);
            buf.set(b, at);
            at += b.length + 1;
          }
          break;
        case 'strs':
          at = buf.writeUInt8(3, at);
          at = buf.writeUInt32LE((v as string[]).length, at);
          for (const s of v as string[]) cstr(s);
          break;
      }
    }
  }
  return buf;
}
