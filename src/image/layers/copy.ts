/**
 * Copying resources as tar streams, with docker cp's semantics (moby's pkg/archive copy.go):
 * a resource (file, directory, symlink: the final component is never followed) becomes a
 * tar whose top entry takes a chosen name; entries are renamed on the way ("rebased") so
 * that they land where the destination says; and a tar is extracted into a directory
 * through the layer applier (src/image/layers/unpack.ts), so the same never-escape rules
 * hold: names are checked, parents resolved with lstat inside the root, a symlink the
 * archive itself made is never written through, the final component never followed.
 *
 * Both sides of `brig cp` use this: the engine for a container's rootfs, the CLI for the
 * host's files (as docker's CLI does with pkg/archive).
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-writer.js';
import { headerFor, tarTree } from './create.js';
import { readTar, type TarHeader } from './tar-reader.js';
import { entryComponents, Unpacker } from './unpack.js';

/** What docker's CopyInfo holds: a path, whether it exists and is a directory, a name to give it. */
export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** docker's ErrDirNotExists, ErrCannotCopyDir, ErrNotDirectory. */
export const errDirNotExists = () => new BrigError('INVALID_ARGUMENT', 'no such directory');
export const errCannotCopyDir = () => new BrigError('INVALID_ARGUMENT', 'cannot copy directory');
export const errNotDirectory = () => new BrigError('INVALID_ARGUMENT', 'not a directory');

/** A path ending in "/." names a directory's contents. */
export function specifiesCurrentDir(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

/** A path ending in "/" or "/." must be a directory. */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || specifiesCurrentDir(p);
}

/** docker's SplitPathDirEntry: "/a/b/" → ["/a", "b"], "/a/b/." → ["/a/b", "."]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = path.normalize(p);
  if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
  if (specifiesCurrentDir(p)) cleaned = cleaned === '.' ? '.' : `${cleaned}/.`;
  if (cleaned === '.') return ['.', '.'];
  return [path.dirname(cleaned), path.basename(cleaned)];
}

/** docker's PreserveTrailingDotOrSeparator: `cleaned` keeps what `original` ended with. */
export function preserveTrailing(cleaned: string, original: string): string {
  if (specifiesCurrentDir(original) && !specifiesCurrentDir(cleaned)) return `${cleaned.replace(/\/$/, '')}/.`;
  if (original.endsWith('/') && !cleaned.endsWith('/')) return `${cleaned}/`;
  return cleaned;
}

/**
 * The resource at `source` (its final component not followed) as a tar whose top entry is
 * `name` (a directory's children follow as `name/...`). Ends the archive.
 */
export async function* archiveResource(source: string, name: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
  const st = await fs.lstat(source);
  const h = headerFor(name, st);
  if (h.type === 'symlink') h.linkname = await fs.readlink(source);
  yield encodeHeader(h);
  if (st.isFile()) {
    // Read through a descriptor opened without following: a symlink swapped in is refused.
    const fh = await fs.open(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      let got = 0;
      for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
        const b = chunk as Buffer;
        const take = Math.min(b.length, st.size - got);
        if (take > 0) yield b.subarray(0, take);
        got += take;
        if (got >= st.size) break;
      }
      if (got !== st.size) throw new BrigError('INVALID_ARGUMENT', `"${source}" changed size while it was being copied`, { path: source });
      yield padding(st.size);
    } finally {
      await fh.close();
    }
  } else if (st.isDirectory()) {
    yield* tarTree(source, { prefix: name === '.' ? '.' : name, noEnd: true, ...(opts.signal ? { signal: opts.signal } : {}) });
  }
  yield END_OF_ARCHIVE;
}

function rebaseName(name: string, oldBase: string, newBase: string): string {
  const n = name.replace(/^\.\//, oldBase === '.' ? './' : '').replace(/\/$/, '');
  if (oldBase === '.') return n === '.' ? newBase : n.startsWith('./') ? `${newBase}/${n.slice(2)}` : `${newBase}/${n}`;
  if (n === oldBase) return newBase;
  if (n.startsWith(`${oldBase}/`)) return `${newBase}${n.slice(oldBase.length)}`;
  return n;
}

/** docker's RebaseArchiveEntries: entries named `oldBase[/...]` become `newBase[/...]` (hard link targets too). */
export async function* rebaseArchive(tar: AsyncIterable<Uint8Array>, oldBase: string, newBase: string): AsyncGenerator<Buffer> {
  for await (const { header: h, body } of readTar(toBuffers(tar))) {
    const out = { ...h, name: rebaseName(h.name, oldBase, newBase), mtime: Math.floor(h.mtime) };
    if (h.type === 'link') out.linkname = rebaseName(h.linkname, oldBase, newBase);
    yield encodeHeader(out);
    if (h.type === 'file') {
      for await (const c of body()) yield c;
      yield padding(h.size);
    }
  }
  yield END_OF_ARCHIVE;
}

async function* toBuffers(src: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of src) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
}

/**
 * docker's PrepareArchiveCopy: where to extract `content` (the archive of `src`) so that it
 * becomes `dst`, renaming entries when the destination takes another name.
 */
export function prepareArchiveCopy(
  content: AsyncIterable<Uint8Array>,
  src: CopyInfo,
  dst: CopyInfo,
): { dir: string; content: AsyncIterable<Uint8Array> } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName ?? splitPathDirEntry(src.path)[1];
  if (dst.exists && dst.isDir) return { dir: dst.path, content };
  if (dst.exists && src.isDir) throw errCannotCopyDir();
  if (dst.exists || src.isDir) return { dir: dstDir, content: rebaseArchive(content, srcBase, dstBase) };
  if (assertsDirectory(dst.path)) throw errDirNotExists();
  return { dir: dstDir, content: rebaseArchive(content, srcBase, dstBase) };
}

export interface ExtractOptions {
  /** Owner for every entry; 'archive' keeps the archive's; 'none' leaves the extracting user's. */
  owner: { uid: number; gid: number } | 'archive' | 'none';
  /** Most bytes and entries the archive may hold. */
  maxBytes?: number;
  maxEntries?: number;
  signal?: AbortSignal;
}

/**
 * Extracts `tar` into the directory `root/dir` (`dir` relative, already resolved inside
 * `root`): every name is checked and put under `dir`, then applied by the layer applier with
 * `root` as its root, so symlinks met on the way resolve as inside `root` (an absolute one
 * restarts at `root`) and nothing lands outside it. Whiteout names are ordinary files here;
 * a directory is never replaced by a file or the reverse (docker cp's rule).
 */
export async function extractArchive(tar: AsyncIterable<Uint8Array>, root: string, dir: string, opts: ExtractOptions): Promise<void> {
  const prefix = dir === '' ? [] : entryComponents(dir);
  const unpacker = new Unpacker(root, { whiteouts: 'none', chown: opts.owner !== 'none', noOverwriteDirNonDir: true });
  const under = (name: string, field: string, entry: string) => [...prefix, ...entryComponents(name.replace(/^\/+/, ''), field, entry)].join('/');
  for await (const { header, body } of readTar(toBuffers(tar), { ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}), ...(opts.maxEntries ? { maxEntries: opts.maxEntries } : {}) })) {
    opts.signal?.throwIfAborted();
    const h: TarHeader = { ...header, name: under(header.name, 'name', header.name) };
    if (h.type === 'link') h.linkname = under(header.linkname, 'hard link target', header.name);
    if (typeof opts.owner === 'object') {
      h.uid = opts.owner.uid;
      h.gid = opts.owner.gid;
    }
    try {
      await unpacker.apply(h, body);
    } catch (e) {
      if (e instanceof BrigError) throw e;
      throw new BrigError('INVALID_ARGUMENT', `${header.name}: ${(e as Error).message}`, { path: header.name, cause: e });
    }
  }
  unpacker.finalize();
}
