/**
 * Tar headers as ustar, with a pax extended header when a value does not fit (long names
 * and link targets, large sizes or ids, xattrs) — what Go's archive/tar and docker write,
 * so layers brig creates read the same in every peer.
 */
import type { EntryType } from './tar-reader.js';

export interface WriteHeader {
  name: string;
  type: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const BLOCK = 512;
const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function octal(block: Buffer, off: number, len: number, value: number): boolean {
  const s = Math.trunc(value).toString(8);
  if (s.length > len - 1) return false;
  block.write(s.padStart(len - 1, '0'), off, 'latin1');
  block[off + len - 1] = 0;
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarBlock(
  h: WriteHeader,
  typeflag: string,
  size: number,
  name: Buffer,
  prefix: Buffer,
  link: Buffer,
): { block: Buffer; overflow: boolean } {
  const b = Buffer.alloc(BLOCK);
  name.copy(b, 0, 0, Math.min(100, name.length));
  let ok = true;
  ok = octal(b, 100, 8, h.mode ?? (h.type === 'dir' ? 0o755 : 0o644)) && ok;
  ok = octal(b, 108, 8, h.uid ?? 0) && ok;
  ok = octal(b, 116, 8, h.gid ?? 0) && ok;
  ok = octal(b, 124, 12, size) && ok;
  ok = octal(b, 136, 12, Math.max(0, h.mtime ?? 0)) && ok;
  b.write(typeflag, 156, 'latin1');
  link.copy(b, 157, 0, Math.min(100, link.length));
  b.write('ustar\x0000', 257, 'latin1');
  Buffer.from(h.uname ?? '').copy(b, 265, 0, 31);
  Buffer.from(h.gname ?? '').copy(b, 297, 0, 31);
  if (h.type === 'char' || h.type === 'block') {
    ok = octal(b, 329, 8, h.devmajor ?? 0) && ok;
    ok = octal(b, 337, 8, h.devminor ?? 0) && ok;
  }
  prefix.copy(b, 345, 0, Math.min(155, prefix.length));
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return { block: b, overflow: !ok };
}

/** Splits a long name into ustar prefix/name when possible. */
function splitName(full: Buffer): { name: Buffer; prefix: Buffer } | undefined {
  if (full.length <= 100) return { name: full, prefix: Buffer.alloc(0) };
  if (full.length > 256) return undefined;
  for (let i = full.length - 1; i > 0; i--) {
    if (full[i] !== 0x2f) continue;
    if (i <= 155 && full.length - i - 1 <= 100 && full.length - i - 1 > 0) {
      return { prefix: full.subarray(0, i), name: full.subarray(i + 1) };
    }
  }
  return undefined;
}

/** The header block(s) for one entry: a pax header first when needed. */
export function encodeHeader(h: WriteHeader): Buffer {
  const typeflag = TYPEFLAG[h.type];
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const fullName = Buffer.from(h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name);
  const link = Buffer.from(h.linkname ?? '');
  const records: Buffer[] = [];
  let split = splitName(fullName);
  if (split === undefined) {
    records.push(paxRecord('path', fullName));
    split = { name: fullName.subarray(0, 100), prefix: Buffer.alloc(0) };
  }
  if (link.length > 100) records.push(paxRecord('linkpath', link));
  const trial = ustarBlock(h, typeflag, size, split.name, split.prefix, link);
  if (trial.overflow) {
    if (size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(size))));
    if ((h.uid ?? 0) > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
    if ((h.gid ?? 0) > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
    if ((h.mtime ?? 0) > 0o77777777777) records.push(paxRecord('mtime', Buffer.from(String(h.mtime))));
  }
  for (const [k, v] of h.xattrs ?? []) {
    // As GNU tar: a pax key ends at its first "=", so "=" (and "%", the escape) are encoded.
    records.push(paxRecord(`SCHILY.xattr.${k.replace(/%/g, '%25').replace(/=/g, '%3D')}`, v));
  }
  const clamp = (n: number | undefined, max: number) => Math.min(n ?? 0, max);
  const main = trial.overflow
    ? ustarBlock(
        {
          ...h,
          uid: clamp(h.uid, 0o7777777),
          gid: clamp(h.gid, 0o7777777),
          mtime: clamp(h.mtime, 0o77777777777),
        },
        typeflag,
        Math.min(size, 0o77777777777),
        split.name,
        split.prefix,
        link,
      ).block
    : trial.block;
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxName = Buffer.from(`PaxHeaders/${fullName.subarray(0, 80).toString('latin1')}`, 'latin1');
  const paxHeader = ustarBlock(
    { name: '', type: 'file', mode: 0o644 },
    'x',
    pax.length,
    paxName,
    Buffer.alloc(0),
    Buffer.alloc(0),
  );
  return Buffer.concat([paxHeader.block, pax, padding(pax.length), main]);
}
