/**
 * docker's "local" driver records: a protobuf LogEntry between two big-endian uint32
 * lengths, `be32(n) LogEntry be32(n)`, in <container>/local-logs/container.log. The schema
 * (moby daemon/logger/internal/logdriver/entry.proto):
 *
 *   LogEntry { string source = 1; int64 time_nano = 2; bytes line = 3; bool partial = 4;
 *              PartialLogEntryMetadata partial_log_metadata = 5; repeated LogAttr attrs = 6; }
 *   PartialLogEntryMetadata { bool last = 1; string id = 2; int32 ordinal = 3; }
 *   LogAttr { string key = 1; string value = 2; }
 *
 * The line is kept without its newline; a reader adds it back unless the record is a piece
 * of a longer line that is not its last (docker's decoder does the same). The monitor writes
 * the records (native/monitor/local.c); the attrs, the same for every record, are encoded
 * here once (sorted by key, then value, as moby sorts them) and copied in by the monitor.
 */
import type { FileHandle } from 'node:fs/promises';
import type { LogEntry, LogFormat } from './format.js';
import { goKeyOrder } from './json-file.js';
import { formatNs } from './line.js';

/** docker's limit on one record (local/read.go maxMsgLen): a longer length means a damaged file. */
const MAX_RECORD = 1_000_000;

function varint(v: bigint): number[] {
  const out: number[] = [];
  for (let x = BigInt.asUintN(64, v); ; x >>= 7n) {
    if (x < 0x80n) return [...out, Number(x)];
    out.push(Number(x & 0x7fn) | 0x80);
  }
}

function field(tag: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag, ...varint(BigInt(data.length))]), data]);
}

/** LogEntry field 6 records for the plan: the same bytes end every record of the container. */
export function encodeLocalAttrs(attrs: Record<string, string>): Buffer {
  const sorted = Object.entries(attrs).sort(([ka, va], [kb, vb]) => goKeyOrder(ka, kb) || goKeyOrder(va, vb));
  return Buffer.concat(sorted.map(([k, v]) => field(0x32, Buffer.concat([k ? field(0x0a, Buffer.from(k)) : Buffer.alloc(0), v ? field(0x12, Buffer.from(v)) : Buffer.alloc(0)]))));
}

/** One framed record, as docker's local driver writes it (for tests and fixtures; the monitor is the writer). */
export function encodeLocalRecord(e: { source: string; timeNano: bigint; line: Buffer; partial?: { last: boolean; id: string; ordinal: number }; attrs?: Record<string, string> }): Buffer {
  const parts = [field(0x0a, Buffer.from(e.source)), Buffer.from([0x10, ...varint(e.timeNano)])];
  if (e.line.length) parts.push(field(0x1a, e.line));
  if (e.partial) {
    const md = Buffer.concat([e.partial.last ? Buffer.from([0x08, 1]) : Buffer.alloc(0), field(0x12, Buffer.from(e.partial.id)), Buffer.from([0x18, ...varint(BigInt(e.partial.ordinal))])]);
    parts.push(Buffer.from([0x20, 1]), field(0x2a, md));
  }
  parts.push(encodeLocalAttrs(e.attrs ?? {}));
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body, len]);
}

/** A protobuf message's fields: number, wire type, value (varint as bigint, length-delimited as bytes). */
function* fields(b: Buffer): Generator<{ num: number; v: bigint | Buffer }> {
  let at = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= b.length || shift > 63n) throw new Error('bad varint');
      const byte = b[at++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  };
  while (at < b.length) {
    const key = readVarint();
    const num = Number(key >> 3n);
    switch (Number(key & 7n)) {
      case 0:
        yield { num, v: readVarint() };
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const n = Number(readVarint());
        if (at + n > b.length) throw new Error('truncated field');
        yield { num, v: b.subarray(at, at + n) };
        at += n;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error('bad wire type');
    }
  }
}

function decode(record: Buffer): LogEntry | undefined {
  let source = '';
  let ns = 0n;
  let line: Buffer = Buffer.alloc(0);
  let partial = false;
  let last = false;
  const attrs: Record<string, string> = {};
  try {
    for (const f of fields(record)) {
      if (f.num === 1 && Buffer.isBuffer(f.v)) source = f.v.toString('utf8');
      else if (f.num === 2 && typeof f.v === 'bigint') ns = BigInt.asIntN(64, f.v);
      else if (f.num === 3 && Buffer.isBuffer(f.v)) line = f.v;
      else if (f.num === 4 && typeof f.v === 'bigint') partial = f.v !== 0n;
      else if (f.num === 5 && Buffer.isBuffer(f.v)) {
        for (const m of fields(f.v)) if (m.num === 1 && typeof m.v === 'bigint') last = m.v !== 0n;
      } else if (f.num === 6 && Buffer.isBuffer(f.v)) {
        let k = '';
        let v = '';
        for (const a of fields(f.v)) {
          if (a.num === 1 && Buffer.isBuffer(a.v)) k = a.v.toString('utf8');
          else if (a.num === 2 && Buffer.isBuffer(a.v)) v = a.v.toString('utf8');
        }
        attrs[k] = v;
      }
    }
  } catch {
    return undefined;
  }
  if (source !== 'stdout' && source !== 'stderr') return undefined;
  const log = line.toString('utf8') + (!partial || last ? '\n' : '');
  return { line: { stream: source, log, time: formatNs(ns), ...(Object.keys(attrs).length ? { attrs } : {}) }, ns };
}

export const local: LogFormat = {
  driver: 'local',
  split(buf) {
    const records: Buffer[] = [];
    let used = 0;
    while (buf.length - used >= 4) {
      const n = buf.readUInt32BE(used);
      if (n > MAX_RECORD) return { records, used, corrupt: true };
      if (buf.length - used < n + 8) break;
      if (buf.readUInt32BE(used + 4 + n) !== n) return { records, used, corrupt: true };
      records.push(buf.subarray(used + 4, used + 4 + n));
      used += n + 8;
    }
    return { records, used };
  },
  decode,
  async tail(file, size, n) {
    // Walk back by the trailing lengths (docker's getTailReader). The end may be a record the
    // monitor is still writing, and then the lengths do not agree: find the whole records
    // from the front instead.
    const at = backwards(file);
    let start = size;
    let found = 0;
    while (start >= 8 && found < n) {
      const m = await at(start - 4);
      if (m < 0 || m > MAX_RECORD || start - 8 - m < 0 || (await at(start - 8 - m)) !== m) return frontTail(file, size, n);
      start -= m + 8;
      found++;
    }
    if (start !== 0 && found < n) return frontTail(file, size, n);
    return { start, end: size, found };
  },
};

/** Big-endian uint32s read at falling offsets, through a 64 KiB window (one read per window, not per record). */
function backwards(file: FileHandle): (pos: number) => Promise<number> {
  const win = Buffer.alloc(64 * 1024);
  let from = 0;
  let to = 0;
  return async (pos) => {
    if (pos < 0) return -1;
    if (pos < from || pos + 4 > to) {
      from = Math.max(0, pos + 4 - win.length);
      to = from + (await file.read(win, 0, pos + 4 - from, from)).bytesRead;
      if (pos + 4 > to) return -1;
    }
    return win.readUInt32BE(pos - from);
  };
}

async function frontTail(file: FileHandle, size: number, n: number) {
  const starts: number[] = [];
  let at = 0;
  let buf: Buffer = Buffer.alloc(0);
  while (at + buf.length < size) {
    const chunk = Buffer.alloc(Math.min(256 * 1024, size - at - buf.length));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, at + buf.length);
    if (bytesRead === 0) break;
    buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
    const { records, used, corrupt } = local.split(buf);
    for (const r of records) {
      starts.push(at);
      at += r.length + 8;
    }
    buf = buf.subarray(used);
    if (corrupt) break;
  }
  const kept = starts.slice(-n);
  return { start: kept[0] ?? at, end: at, found: kept.length };
}
