/**
 * A strict, streaming tar reader for image layers: POSIX ustar, pax extended headers
 * (path, linkpath, size, uid/gid, mtime, `SCHILY.xattr.*`) and GNU long names/links.
 *
 * Layers are hostile input, so the reader checks every header checksum, refuses entry
 * types it does not understand (sparse files, multi-volume archives), names that are not
 * valid UTF-8 or contain NUL, oversized pax/long-name records, and counts every byte and
 * entry against limits so a decompression bomb stops early. Path safety (absolute names,
 * `..`) is the unpacker's job: the reader reports names exactly as the archive gives them.
 */
import type { Hash } from 'node:crypto';
import { BrigError } from '../../errors/index.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional with pax). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data, in chunks. Whatever is not read is skipped before the next entry. */
  body: () => AsyncGenerator<Buffer>;
}

export interface TarLimits {
  /** Most bytes the (uncompressed) archive may hold. Default 64 GiB. */
  maxBytes?: number;
  /** Most entries. Default 1,000,000. */
  maxEntries?: number;
  /**
   * Most bytes of entry names and link targets in all: what a consumer keeps per entry
   * (the applier remembers every path it wrote) stays bounded. Default 128 MiB.
   */
  maxNameBytes?: number;
}

const BLOCK = 512;
const MAX_PAX = 1 << 20;
const MAX_LONGNAME = 64 << 10;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_NAME_BYTES = 128 << 20;

function tarError(message: string, entry?: string): BrigError {
  return new BrigError('INVALID_TAR', entry === undefined ? message : `entry "${entry}": ${message}`, {
    path: entry,
  });
}

/** Pulls exact byte counts out of an async chunk source, hashing and counting what it pulls. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  total = 0;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly maxBytes: number,
    private readonly hash: Hash | undefined,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done === true) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.total += chunk.length;
    if (this.total > this.maxBytes) {
      throw new BrigError('LAYER_TOO_LARGE', `layer is larger than the limit of ${this.maxBytes} bytes`, {
        hint: 'raise the unpack size limit if this image is trusted',
      });
    }
    this.hash?.update(chunk);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes, or null at a clean end of input before any byte. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw tarError(`archive truncated (wanted ${n} bytes, ${this.buf.length} left)`);
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Yields exactly n bytes as they arrive. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw tarError('archive truncated inside an entry');
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n));
  }

  /** Reads and discards the rest, so the hash covers the whole stream. */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}

function cstring(b: Buffer, field: string, entry?: string): string {
  const nul = b.indexOf(0);
  const raw = nul >= 0 ? b.subarray(0, nul) : b;
  return utf8(raw, field, entry);
}

function utf8(raw: Buffer, field: string, entry?: string): string {
  const s = raw.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(raw)) throw tarError(`${field} is not valid UTF-8`, entry ?? s);
  return s;
}

/** A numeric header field: octal, or GNU base-256 (high bit set). */
export function numeric(b: Buffer, field: string): number {
  if ((b[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian, high bit set; negative values (0xff prefix) are refused.
    if (b[0] === 0xff) throw tarError(`header field ${field} is negative`);
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) {
      v = v * 256 + b[i]!;
      if (!Number.isSafeInteger(v)) throw tarError(`header field ${field} is too large`);
    }
    return v;
  }
  const s = b.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw tarError(`header field ${field} is not octal: "${s}"`);
  return Number.parseInt(s, 8);
}

function checksumOk(block: Buffer): boolean {
  const want = numeric(block.subarray(148, 156), 'chksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

interface Pax {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  uname?: string;
  gname?: string;
  xattrs: Map<string, Buffer>;
}

function parsePax(data: Buffer): Pax {
  const out: Pax = { xattrs: new Map() };
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // some writers pad with NULs
    const sp = data.indexOf(0x20, off);
    if (sp < 0) throw tarError('pax header record without a length');
    const lenText = data.subarray(off, sp).toString('latin1');
    if (!/^[0-9]+$/.test(lenText)) throw tarError(`pax header record length "${lenText}" is not a number`);
    const len = Number(lenText);
    const end = off + len;
    if (len <= sp - off + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw tarError('pax header record length does not match its content');
    }
    const rec = data.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw tarError('pax header record without key=value');
    const key = utf8(rec.subarray(0, eq), 'pax key');
    const raw = rec.subarray(eq + 1);
    off = end;
    const int = (k: string): number => {
      const s = raw.toString('latin1');
      if (!/^[0-9]{1,16}$/.test(s)) throw tarError(`pax ${k}="${s}" is not a non-negative integer`);
      return Number(s);
    };
    switch (key) {
      case 'path':
        out.path = utf8(raw, 'pax path');
        break;
      case 'linkpath':
        out.linkpath = utf8(raw, 'pax linkpath');
        break;
      case 'size':
        out.size = int(key);
        break;
      case 'uid':
        out.uid = int(key);
        break;
      case 'gid':
        out.gid = int(key);
        break;
      case 'uname':
        out.uname = utf8(raw, 'pax uname');
        break;
      case 'gname':
        out.gname = utf8(raw, 'pax gname');
        break;
      case 'mtime': {
        const s = raw.toString('latin1');
        if (!/^-?[0-9]{1,16}(\.[0-9]{0,9})?$/.test(s)) throw tarError(`pax mtime="${s}" is not a time`);
        out.mtime = Number(s);
        break;
      }
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          // GNU tar writes "=" and "%" in a name as %3D and %25 (a pax key ends at the first "=").
          const name = key.slice('SCHILY.xattr.'.length).replace(/%3D|%25/gi, (m) => (m === '%25' ? '%' : '='));
          out.xattrs.set(name, Buffer.from(raw));
        } else if (key.startsWith('GNU.sparse.')) {
          throw tarError('sparse files (GNU.sparse pax records) are not supported');
        }
      // atime, ctime, comment, charset and vendor records carry nothing brig applies.
    }
  }
  return out;
}

/**
 * Reads entries from an uncompressed tar stream. Pass `hash` to get the digest of every
 * byte of the stream (the layer's diffID), including padding after the end marker.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  opts: TarLimits & { hash?: Hash } = {},
): AsyncGenerator<TarEntry> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxNameBytes = opts.maxNameBytes ?? DEFAULT_MAX_NAME_BYTES;
  let nameBytes = 0;
  const src = new ByteSource(source, maxBytes, opts.hash);
  let pax: Pax | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let entries = 0;
  let lastName = '(start of archive)';

  for (;;) {
    const block = await src.read(BLOCK);
    if (block === null) {
      // EOF without an end marker, at an entry boundary: what Go's archive/tar accepts too.
      if (pax !== undefined || longName !== undefined || longLink !== undefined) {
        throw tarError('archive ends after an extended header without its entry');
      }
      return;
    }
    if (block.every((b) => b === 0)) {
      const second = await src.read(BLOCK);
      if (second !== null && !second.every((b) => b === 0)) {
        throw tarError(`a lone zero block after "${lastName}" is followed by data`);
      }
      await src.drain();
      return;
    }
    if (!checksumOk(block)) throw tarError(`header checksum mismatch after "${lastName}"`);
    const magic = block.subarray(257, 263).toString('latin1');
    const posix = magic === 'ustar\0';
    const gnu = magic === 'ustar ';
    const typeflag = String.fromCharCode(block[156]!);
    let name = cstring(block.subarray(0, 100), 'name');
    if (posix) {
      const prefix = cstring(block.subarray(345, 500), 'prefix', name);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    const size = numeric(block.subarray(124, 136), 'size');
    const shown = pax?.path ?? longName ?? name;

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const limit = typeflag === 'L' || typeflag === 'K' ? MAX_LONGNAME : MAX_PAX;
      if (size > limit)
        throw tarError(`extended header of ${size} bytes is over the ${limit}-byte limit`, shown);
      const data = size === 0 ? Buffer.alloc(0) : await src.read(size);
      if (data === null) throw tarError('archive truncated inside an extended header', shown);
      await src.skip((BLOCK - (size % BLOCK)) % BLOCK);
      if (typeflag === 'x') {
        if (pax !== undefined) throw tarError('two pax headers for one entry', shown);
        pax = parsePax(data);
      } else if (typeflag === 'g') {
        parsePax(data); // validated; global defaults are not applied to layer entries
      } else {
        const nul = data.indexOf(0);
        const text = utf8(nul >= 0 ? data.subarray(0, nul) : data, 'GNU long name');
        if (typeflag === 'L') longName = text;
        else longLink = text;
      }
      continue;
    }

    const type = TYPES[typeflag];
    if (type === undefined) {
      const what =
        typeflag === 'S' ? 'sparse file' : typeflag === 'V' || typeflag === 'M' ? 'multi-volume' : 'unknown';
      throw tarError(`${what} entry type "${typeflag}" is not supported`, shown);
    }
    if (!posix && !gnu && magic !== '\0\0\0\0\0\0') throw tarError(`unknown header magic`, shown);
    entries++;
    if (entries > maxEntries) {
      throw new BrigError('LAYER_TOO_LARGE', `entry "${shown}": layer has more than ${maxEntries} entries`, {
        path: shown,
        hint: 'raise the unpack entry limit if this image is trusted',
      });
    }
    const header: TarHeader = {
      name: pax?.path ?? longName ?? name,
      type,
      mode: numeric(block.subarray(100, 108), 'mode') & 0o7777,
      uid: pax?.uid ?? numeric(block.subarray(108, 116), 'uid'),
      gid: pax?.gid ?? numeric(block.subarray(116, 124), 'gid'),
      size: pax?.size ?? size,
      mtime: pax?.mtime ?? numeric(block.subarray(136, 148), 'mtime'),
      linkname: pax?.linkpath ?? longLink ?? cstring(block.subarray(157, 257), 'linkname', shown),
      uname: pax?.uname ?? (posix || gnu ? cstring(block.subarray(265, 297), 'uname', shown) : ''),
      gname: pax?.gname ?? (posix || gnu ? cstring(block.subarray(297, 329), 'gname', shown) : ''),
      devmajor: posix || gnu ? numeric(block.subarray(329, 337), 'devmajor') : 0,
      devminor: posix || gnu ? numeric(block.subarray(337, 345), 'devminor') : 0,
      xattrs: pax?.xattrs ?? new Map(),
    };
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    lastName = header.name;
    if (header.name.includes('\0') || header.linkname.includes('\0')) {
      throw tarError('name contains a NUL byte', header.name);
    }
    nameBytes += header.name.length + header.linkname.length;
    if (nameBytes > maxNameBytes) {
      throw new BrigError('LAYER_TOO_LARGE', `entry "${header.name}": names in the layer pass ${maxNameBytes} bytes`, {
        path: header.name,
        hint: 'the layer is malformed or malicious',
      });
    }
    // Header-only types carry no data whatever their size field says (as Go's reader does).
    const dataSize = type === 'file' ? header.size : 0;
    if (src.total + dataSize > maxBytes) {
      throw new BrigError(
        'LAYER_TOO_LARGE',
        `entry "${header.name}": ${dataSize} bytes would take the layer over the limit of ${maxBytes} bytes`,
        { path: header.name, hint: 'raise the unpack size limit if this image is trusted' },
      );
    }
    let started = false;
    let left = dataSize;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (started) throw tarError('entry body read twice', header.name);
      started = true;
      for await (const chunk of src.stream(dataSize)) {
        left -= chunk.length;
        yield chunk;
      }
    };
    yield { header, body };
    // Skip whatever the consumer did not read (all of it, if it never asked).
    await src.skip(left);
    await src.skip((BLOCK - (dataSize % BLOCK)) % BLOCK);
  }
}
