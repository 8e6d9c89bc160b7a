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

/** The tree under `dir` as an uncompressed tar stream. */
export async function* tarTree(dir: string, opts: TarTreeOptions = {}): AsyncGenerator<Buffer> {
  const xattrs = opts.xattrs === false ? new Map<string, Map<string, Buffer>>() : await dumpXattrs(dir);
  const links = new Map<string, string>();

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const names = (await fs.readdir(join(dir, rel))).sort();
    for (const n of names) {
      opts.signal?.throwIfAborted();
      const name = rel === '' ? n : `${rel}/${n}`;
      if (opts.exclude?.has(`/${name}`)) continue;
      const abs = join(dir, name);
      const named = opts.prefix === undefined ? name : `${opts.prefix}/${name}`;
      const st = await fs.lstat(abs);
      if (opts.overlayDiff && st.isCharacterDevice() && st.rdev === 0) {
        yield encodeHeader({
          name: `${opts.prefix === undefined ? '' : `${opts.prefix}/`}${rel === '' ? '' : `${rel}/`}${WHITEOUT_PREFIX}${n}`,
          type: 'file',
          mode: 0o644,
        });
        continue;
      }
      const h = headerFor(named, st);
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
          continue;
        }
        links.set(key, named);
      }
      yield encodeHeader(h);
      if (h.type === 'file') {
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
        yield padding(st.size);
      }
      if (h.type === 'dir') {
        if (opts.overlayDiff && opaque) {
          yield encodeHeader({ name: `${named}/${WHITEOUT_OPAQUE}`, type: 'file', mode: 0o644 });
        }
        yield* walk(name);
      }
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
