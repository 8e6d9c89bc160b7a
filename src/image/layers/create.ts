/**
 * Layer creation: a directory tree (a rootfs for `import`, a build step's output) or the
 * upper directory of an overlay mount (a container's changes for `commit`) as a tar
 * stream, gzip-compressed into the blob store with both digests computed on the way:
 * the diffID (uncompressed, goes in the image config) and the blob digest (compressed,
 * goes in the manifest).
 *
 * Entries are written in sorted order with zeroed owner names, so the same tree gives the
 * same layer. Hard links inside the tree stay hard links. In an overlay upper dir a 0:0
 * character device is a whiteout and becomes `.wh.NAME`; a directory with
 * `trusted.overlay.opaque=y` becomes the directory plus `.wh..wh..opq`.
 */
import { constants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BrigError } from '../../errors/index.js';
import { digestOf, newHash } from '../digest.js';
import { MediaType } from '../manifest.js';
import type { BlobStore } from '../store/blob-store.js';
import { dumpXattrs } from './host-tools.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type WriteHeader } from './tar-writer.js';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './unpack.js';

export interface TarTreeOptions {
  /** Treat `dir` as an overlayfs upper dir: whiteout devices and opaque dirs become OCI whiteouts. */
  overlayDiff?: boolean;
  /** Include extended attributes (needs getfattr). Default true. */
  xattrs?: boolean;
  /** Put every entry under this name ("dir" makes "dir/a", "dir/b/c"). */
  prefix?: string;
  /** Paths ("/etc/hostname") left out, with everything below them. */
  exclude?: ReadonlySet<string>;
  /** Leave off the end-of-archive blocks (the caller writes more entries after these). */
  noEnd?: boolean;
  /**
   * Which entries go in (`name` relative to `dir`): `include`, `exclude` (with everything
   * below it), or `descend` (not the directory's own entry, but what is below it is asked
   * about in turn). Default: all.
   */
  select?: (name: string, st: Stats) => 'include' | 'exclude' | 'descend';
  /** Every entry owned by these ids instead of the files' own. */
  owner?: { uid: number; gid: number };
  signal?: AbortSignal;
}

export interface CreatedLayer {
  mediaType: string;
  digest: string;
  size: number;
  diffID: string;
}

const OVERLAY_XATTR = /^trusted\.overlay\./;

export function headerFor(name: string, st: Stats): WriteHeader {
  const h: WriteHeader = {
    name,
    type: 'file',
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (st.isDirectory()) h.type = 'dir';
  else if (st.isSymbolicLink()) h.type = 'symlink';
  else if (st.isCharacterDevice()) h.type = 'char';
  else if (st.isBlockDevice()) h.type = 'block';
  else if (st.isFIFO()) h.type = 'fifo';
  else if (st.isFile()) h.size = st.size;
  else
    throw new BrigError('INVALID_ARGUMENT', `cannot put "${name}" in a layer: it is a socket`, {
      path: name,
    });
  if (h.type === 'char' || h.type === 'block') {
    h.devmajor = Math.floor(st.rdev / 256) & 0xfff;
    h.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  }
  return h;
}

/** Files up to this size are read whole, ahead of their turn; bigger ones are streamed. */
const SMALL_FILE = 64 << 10;
/** Entries of a directory looked at (lstat, small files read) at the same time. */
const BATCH = 32;

/**
 * A small file's bytes in one read (O_NOFOLLOW: never through a symlink that replaced it
 * since the lstat); a size other than the lstat's is an error, as for streamed files.
 */
async function readWhole(abs: string, name: string, size: number): Promise<Buffer> {
  const fh = await fs.open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    // One byte more than expected shows a file that grew.
    const buf = Buffer.allocUnsafe(size + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got !== size) throw new BrigError('INVALID_ARGUMENT', `"${name}" changed size while it was being archived`, { path: abs });
    return buf.subarray(0, size);
  } finally {
    await fh.close();
  }
}

/**
 * The tree under `dir` as an uncompressed tar stream. Each directory is read in batches:
 * the batch's lstats and small files are fetched at the same time, then written in order
 * (a tree of many small files costs a few round trips per batch, not four per file).
 */
export async function* tarTree(dir: string, opts: TarTreeOptions = {}): AsyncGenerator<Buffer> {
  const xattrs = opts.xattrs === false ? new Map<string, Map<string, Buffer>>() : await dumpXattrs(dir);
  const links = new Map<string, string>();

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const names = (await fs.readdir(join(dir, rel))).sort().filter((n) => !opts.exclude?.has(`/${rel === '' ? n : `${rel}/${n}`}`));
    for (let b = 0; b < names.length; b += BATCH) {
      opts.signal?.throwIfAborted();
      const batch = await Promise.all(
        names.slice(b, b + BATCH).map(async (n) => {
          const name = rel === '' ? n : `${rel}/${n}`;
          const abs = join(dir, name);
          const st = await fs.lstat(abs);
          const chosen = opts.select?.(name, st) ?? 'include';
          // A hard-linked file may become a link entry: read when written.
          const data = chosen === 'include' && st.isFile() && st.size <= SMALL_FILE && st.nlink === 1 ? await readWhole(abs, name, st.size) : undefined;
          return { n, name, abs, st, data, chosen };
        }),
      );
      for (const { n, name, abs, st, data, chosen } of batch) {
        if (chosen === 'include') yield* entry(rel, n, name, abs, st, data);
        else if (chosen === 'descend' && st.isDirectory()) yield* walk(name);
      }
    }
  }

  async function* entry(rel: string, n: string, name: string, abs: string, st: Stats, data: Buffer | undefined): AsyncGenerator<Buffer> {
    opts.signal?.throwIfAborted();
    const named = opts.prefix === undefined ? name : `${opts.prefix}/${name}`;
    if (opts.overlayDiff && st.isCharacterDevice() && st.rdev === 0) {
      yield encodeHeader({
        name: `${opts.prefix === undefined ? '' : `${opts.prefix}/`}${rel === '' ? '' : `${rel}/`}${WHITEOUT_PREFIX}${n}`,
        type: 'file',
        mode: 0o644,
      });
      return;
    }
    const h = headerFor(named, st);
    if (opts.owner) Object.assign(h, opts.owner);
    const own = xattrs.get(abs);
    let opaque = false;
    if (own !== undefined) {
      const kept = new Map<string, Buffer>();
      for (const [k, v] of own) {
        if (OVERLAY_XATTR.test(k)) {
          if (k === 'trusted.overlay.opaque' && v.toString() === 'y') opaque = true;
        } else {
          kept.set(k, v);
        }
      }
      if (kept.size > 0) h.xattrs = kept;
    }
    if (h.type === 'symlink') h.linkname = await fs.readlink(abs);
    if (h.type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...h, type: 'link', linkname: first, size: 0 });
        return;
      }
      links.set(key, named);
    }
    yield encodeHeader(h);
    if (h.type === 'file') {
      if (data !== undefined) yield data;
      else if (st.size <= SMALL_FILE) yield await readWhole(abs, name, st.size);
      else {
        let got = 0;
        // Never through a symlink that replaced the file since the lstat.
        const fh = await fs.open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
            got += (chunk as Buffer).length;
            if (got > st.size) break;
            yield chunk as Buffer;
          }
        } finally {
          await fh.close();
        }
        if (got !== st.size) {
          throw new BrigError('INVALID_ARGUMENT', `"${name}" changed size while it was being archived`, {
            path: abs,
          });
        }
      }
      yield padding(st.size);
    }
    if (h.type === 'dir') {
      if (opts.overlayDiff && opaque) {
        yield encodeHeader({ name: `${named}/${WHITEOUT_OPAQUE}`, type: 'file', mode: 0o644 });
      }
      yield* walk(name);
    }
  }
  yield* walk('');
  if (opts.noEnd !== true) yield END_OF_ARCHIVE;
}

/**
 * Writes the tree under `dir` into the store as a gzip layer and returns its descriptor
 * and diffID.
 */
export async function createLayer(
  dir: string,
  blobs: BlobStore,
  opts: TarTreeOptions & { compression?: 'gzip' | 'none' } = {},
): Promise<CreatedLayer> {
  return storeTarStream(tarTree(dir, opts), blobs, opts);
}

/** Stores an uncompressed tar stream as a layer blob (gzip unless told otherwise). */
export async function storeTarStream(
  tar: AsyncIterable<Uint8Array>,
  blobs: BlobStore,
  opts: { compression?: 'gzip' | 'none'; signal?: AbortSignal } = {},
): Promise<CreatedLayer> {
  const diffHash = newHash();
  const hashed = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of tar) {
      diffHash.update(chunk);
      yield chunk;
    }
  };
  if (opts.compression === 'none') {
    const info = await blobs.write(hashed(), {}, { signal: opts.signal });
    return { mediaType: MediaType.OciLayer, ...info, diffID: digestOf(diffHash) };
  }
  const gz = pipeline(Readable.from(hashed()), createGzip({ level: 6 }), () => {});
  const info = await blobs.write(gz, {}, { signal: opts.signal });
  return { mediaType: MediaType.OciLayerGzip, ...info, diffID: digestOf(diffHash) };
}
