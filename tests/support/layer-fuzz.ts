/**
 * The fuzz target for the tar reader and the layer applier (tests/integration/image/
 * fuzz.test.ts drives it in a worker thread, which it can stop when a case hangs).
 *
 * Each case is an archive made from a seed: either generated from a grammar of hostile
 * entries (traversal names, symlinks and hard links out of the root, whiteouts of every
 * kind, devices, fifos, pax xattrs including kernel-read ones, huge sizes) or a valid
 * archive mutated (bit flips, random bytes, truncation, duplicated and swapped blocks,
 * header fields overwritten with the checksum fixed), sometimes gzip-compressed before or
 * after mutation. The applier runs on a directory next to an `outside` directory whose
 * content must never change; lower content holds symlinks that point outside.
 *
 * A case passes when it ends with success or a BrigError (a refusal), writes nothing
 * outside its target, and finishes (the driver's per-case timeout).
 */
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BrigError } from '../../src/errors/index.js';
import { rmTree } from '../../src/image/fs-util.js';
import { readTar } from '../../src/image/layers/tar-reader.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type WriteHeader } from '../../src/image/layers/tar-writer.js';
import { unpackLayer } from '../../src/image/layers/unpack.js';
import { chunks } from './image-tar.js';

/** mulberry32: small, fast, and the same sequence for a seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a', 'b', 'd', 'etc', 'x', '.wh.a', '.wh.b', '.wh.d', '.wh..wh..opq', 'é', 'n\u00ff', 'a=b'];
const HOSTILE_NAMES = ['..', '', '.', '.wh..wh.plnk', '.wh.', '.wh..', 'x/..'];
const LINKS = ['a', 'd/a', 'b', 'x', '.', 'etc', 'd', '../d/a', '/d/a'];
const HOSTILE_LINKS = ['../outside', '../../outside/secret', '/', '/etc', 'b/../..', 'outside', '/..'];
const XATTRS = ['user.a', 'user.a=b', 'user.p%q', 'trusted.overlay.opaque', 'trusted.overlay.redirect', 'security.capability', 'security.selinux', 'system.posix_acl_access', 'user.'];
const TYPES: WriteHeader['type'][] = ['file', 'file', 'file', 'dir', 'dir', 'symlink', 'symlink', 'link', 'fifo', 'char', 'block'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** How often a name or link target is outright hostile: chosen per case, so most cases get deep. */
let hostility = 0;

function randomName(r: () => number): string {
  const depth = 1 + Math.floor(r() * 3);
  const parts = Array.from({ length: depth }, () => pick(r, r() < hostility ? HOSTILE_NAMES : NAMES));
  if (r() < hostility) parts.unshift('');
  return parts.join('/') + (r() < 0.1 ? '/' : '');
}

/** A grammar-made archive of 1-30 hostile entries. */
export function generated(r: () => number): Buffer {
  const parts: Buffer[] = [];
  hostility = pick(r, [0, 0.005, 0.02, 0.1]);
  const seen: string[] = [];
  const n = 1 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const type = pick(r, TYPES);
    const h: WriteHeader = {
      name: randomName(r),
      type,
      mode: Math.floor(r() * 0o10000),
      uid: r() < 0.8 ? 0 : Math.floor(r() * 70000),
      gid: r() < 0.8 ? 0 : Math.floor(r() * 70000),
      mtime: Math.floor(r() * 2e9),
    };
    if (type === 'symlink' || type === 'link') {
      const earlier = r() < 0.5 && seen.length > 0 ? pick(r, seen) : undefined;
      h.linkname = earlier ?? (r() < 0.7 ? pick(r, r() < hostility * 4 ? HOSTILE_LINKS : LINKS) : randomName(r));
    }
    if (type === 'char' || type === 'block') {
      h.devmajor = Math.floor(r() * 300);
      h.devminor = Math.floor(r() * 300);
    }
    if (r() < 0.25) {
      h.xattrs = new Map();
      for (let k = Math.floor(r() * 3); k >= 0; k--) {
        const v = Buffer.alloc(Math.floor(r() * 30));
        for (let j = 0; j < v.length; j++) v[j] = Math.floor(r() * 256);
        if (r() < 0.3 && v.length >= 4) v.writeUInt32LE(pick(r, [0x02000000, 0x03000000, 0x01000000]), 0);
        h.xattrs.set(pick(r, XATTRS), v);
      }
    }
    const data = type === 'file' ? Buffer.alloc(r() < 0.8 ? Math.floor(r() * 2000) : Math.floor(r() * 200_000), i) : Buffer.alloc(0);
    h.size = data.length;
    parts.push(encodeHeader(h), data, padding(data.length));
    seen.push(h.name);
  }
  if (r() < 0.9) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

function fixChecksum(buf: Buffer, off: number): void {
  if (off + 512 > buf.length) return;
  buf.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + 512; i++) sum += buf[i]!;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, off + 148, 'latin1');
}

/** A valid archive, damaged. */
export function mutated(r: () => number): Buffer {
  let b = Buffer.from(generated(r));
  const rounds = 1 + Math.floor(r() * 4);
  for (let k = 0; k < rounds && b.length > 0; k++) {
    const op = Math.floor(r() * 6);
    const at = Math.floor(r() * b.length);
    if (op === 0) b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
    else if (op === 1) for (let i = at; i < Math.min(b.length, at + 1 + Math.floor(r() * 64)); i++) b[i] = Math.floor(r() * 256);
    else if (op === 2) b = b.subarray(0, at);
    else if (op === 3) {
      const blk = Math.floor(at / 512) * 512;
      b = Buffer.concat([b.subarray(0, blk), b.subarray(blk, blk + 512), b.subarray(blk)]);
    } else {
      // A header field overwritten with a plausible value, checksum fixed so the reader gets past it.
      const blk = Math.floor(at / 512) * 512;
      const fields: [number, number][] = [[100, 8], [124, 12], [156, 1], [157, 100], [329, 8], [0, 100], [345, 155]];
      const [off, len] = pick(r, fields);
      const value = pick(r, ['77777777777', '0', 'x', '1', '2', '5', '7', 'S', 'L', 'g', '../../x', '/etc/passwd', '\xff\xff\xff\xff', '-1']);
      if (blk + off + len <= b.length) {
        b.fill(0, blk + off, blk + off + len);
        b.write(value.slice(0, len), blk + off, 'latin1');
        fixChecksum(b, blk);
      }
    }
  }
  return b;
}

export function makeCase(seed: number): Buffer {
  const r = rng(seed);
  let b = r() < 0.5 ? generated(r) : mutated(r);
  if (r() < 0.3) {
    b = gzipSync(b);
    const at = Math.floor(r() * b.length);
    if (r() < 0.3) b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
  }
  return b;
}

/**
 * Host paths a case could create only by escaping through the lower `etc -> /` symlink
 * (the fuzzer's names under / and /etc), minus any that exist already.
 */
const hostCanaries = [...NAMES, ...HOSTILE_NAMES]
  .filter((n) => /^[^./][^/]*$/.test(n))
  .flatMap((n) => [`/${n}`, `/etc/${n}`])
  .filter((p) => !existsSync(p));

async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  for (const n of (await fs.readdir(dir, { recursive: true })).map(String).sort()) {
    const st = await fs.lstat(join(dir, n));
    out.push(`${n}:${st.mode}:${st.size}:${st.isFile() ? (await fs.readFile(join(dir, n))).toString('hex') : ''}`);
  }
  return out.join('\n');
}

/** The reader alone: every entry, every body, to the end. Returns 'ok' or the refusal's code. */
export async function readerCase(seed: number): Promise<string> {
  try {
    for await (const e of readTar(chunks(makeCase(seed), 1 + (seed % 9000)), { maxEntries: 1000, maxBytes: 64 << 20 })) {
      if (seed % 3 !== 0) for await (const _ of e.body());
    }
    return 'ok';
  } catch (e) {
    if (e instanceof BrigError && e.code !== 'INTERNAL') return e.code;
    throw e;
  }
}

/** The applier, into `work/root`, with lower content that points outside. */
export async function applierCase(seed: number, work: string, overlay: boolean): Promise<string> {
  const root = join(work, 'root');
  const outside = join(work, 'outside');
  await fs.mkdir(root, { recursive: true });
  await fs.mkdir(outside, { recursive: true });
  await fs.writeFile(join(outside, 'secret'), 'secret');
  await fs.mkdir(join(root, 'd'));
  await fs.writeFile(join(root, 'd/a'), 'lower');
  await fs.symlink('../outside', join(root, 'x'));
  await fs.symlink('/', join(root, 'etc'));
  const before = await snapshot(outside);
  const siblings = (await fs.readdir(work)).sort().join(',');
  let result: string;
  try {
    await unpackLayer(chunks(makeCase(seed), 4096), root, {
      whiteouts: overlay ? 'overlay' : 'remove',
      maxEntries: 1000,
      maxLayerSize: 64 << 20,
      minFreeDisk: 0,
    });
    result = 'ok';
  } catch (e) {
    if (!(e instanceof BrigError) || e.code === 'INTERNAL') throw e;
    result = e.code;
  }
  if ((await snapshot(outside)) !== before) throw new Error(`case ${seed} changed the outside directory`);
  if ((await fs.readdir(work)).sort().join(',') !== siblings) throw new Error(`case ${seed} wrote next to the target`);
  const escaped = hostCanaries.find((p) => existsSync(p));
  if (escaped !== undefined) throw new Error(`case ${seed} created ${escaped} on the host`);
  await rmTree(root);
  return result;
}
