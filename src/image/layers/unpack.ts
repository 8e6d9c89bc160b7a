/**
 * Applies one layer (tar, tar+gzip or tar+zstd) to a directory.
 *
 * Safety model. Every entry name is split into components; absolute names, `..`
 * components and NUL bytes are refused outright. The parent directory is then resolved
 * component by component with lstat, inside the target:
 *   - a missing directory is created (0755, as docker does for implied parents);
 *   - a symlink that came from a lower layer is followed *within the root* (an absolute
 *     target restarts at the root, which is how the container will see it), but one that
 *     climbs out of the root is refused;
 *   - a symlink created by this same layer is never followed as a parent: that is the
 *     classic "symlink, then write through it" escape, and no honest layer needs it.
 * The final component is never followed: whatever is there is removed (lstat, unlink)
 * and the new entry is created with O_EXCL, so nothing is written through a symlink.
 * Hard links must name an existing non-directory inside the root, resolved the same way.
 *
 * Whiteouts. `.wh.NAME` hides NAME in lower layers and `.wh..wh..opq` hides everything a
 * directory held in lower layers. With `whiteouts: 'remove'` (the copy snapshotter, which
 * unpacks onto a copy of the parent) they delete lower content, keeping what this layer
 * itself wrote (the OCI spec applies whiteouts to lower layers only). With 'overlay' (an
 * overlayfs upper/lower dir) they become a 0:0 character device and the
 * `trusted.overlay.opaque=y` xattr, which the kernel reads. Any other `.wh..wh.` name and
 * whiteouts of `.`/`..`/the empty name are refused.
 *
 * Directory modes and times are set last (writing children changes a directory's mtime,
 * and a read-only directory would block its own children when not root).
 */
import {
  chmodSync,
  closeSync,
  constants,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { digestOf, mismatch, newHash } from '../digest.js';
import { rmTreeSync } from '../fs-util.js';
import { decompress } from './compression.js';
import { mknod, setXattrs, type XattrSet } from './host-tools.js';
import { readTar, type TarHeader, type TarLimits } from './tar-reader.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;

export interface UnpackOptions extends TarLimits {
  /** How whiteout entries are applied (see the module comment). Default 'remove'. */
  whiteouts?: 'remove' | 'overlay';
  /** Set owners from the archive. Default: when running as root. */
  chown?: boolean;
  /** When given, the uncompressed stream must hash to this (the layer's diffID). */
  diffID?: string;
  signal?: AbortSignal;
}

export interface UnpackResult {
  entries: number;
  /** Uncompressed bytes of the layer. */
  size: number;
  diffID: string;
  /** Things that could not be applied without failing the layer (e.g. device nodes when not root). */
  warnings: string[];
}

function unsafe(entry: string, why: string): BrigError {
  return new BrigError('LAYER_UNSAFE', `layer entry "${entry}": ${why}`, {
    path: entry,
    hint: 'the image is malformed or malicious; nothing was written outside the target directory',
  });
}

/** Splits an archive name into checked components ('' for the root itself). */
export function entryComponents(name: string, field = 'name', entry = name): string[] {
  const what = field === 'name' ? field : `${field} "${name}"`;
  if (name.startsWith('/')) throw unsafe(entry, `absolute ${what}`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw unsafe(entry, `${what} has a ".." component`);
  return parts;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

export class Unpacker {
  private readonly root: string;
  private readonly whiteouts: 'remove' | 'overlay';
  private readonly chown: boolean;
  /** Paths (real, relative to the root) this layer created as symlinks: never followed as parents. */
  private readonly layerSymlinks = new Set<string>();
  /** Logical paths this layer wrote: whiteouts leave them alone. */
  private readonly written = new Set<string>();
  /** Resolved real parent directory per logical directory path; cleared on any removal. */
  private dirCache = new Map<string, string>();
  private readonly dirMeta: { path: string; h: TarHeader }[] = [];
  private pendingXattrs: XattrSet[] = [];
  readonly warnings: string[] = [];

  constructor(root: string, opts: { whiteouts?: 'remove' | 'overlay'; chown?: boolean } = {}) {
    this.root = root;
    this.whiteouts = opts.whiteouts ?? 'remove';
    this.chown = opts.chown ?? userInfo().uid === 0;
  }

  /**
   * The real path of the directory at logical `parts`, inside the root. With `create`,
   * missing directories are made; without it, undefined is returned for a missing one.
   */
  private resolveDir(entry: string, parts: readonly string[], create: boolean): string | undefined {
    const key = parts.join('/');
    const cached = this.dirCache.get(key);
    if (cached !== undefined) return cached;
    const stack: string[] = [];
    const queue = [...parts];
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) throw unsafe(entry, `a symlink in its path leads out of the root`);
        stack.pop();
        continue;
      }
      const real = join(this.root, ...stack, c);
      const st = lstatOrUndefined(real);
      if (st === undefined) {
        if (!create) return undefined;
        mkdirSync(real, 0o755);
        stack.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
        const where = [...stack, c].join('/');
        if (this.layerSymlinks.has(where)) {
          throw unsafe(
            entry,
            `parent "${where}" is a symlink created by this layer; refusing to write through it`,
          );
        }
        if (++hops > MAX_SYMLINK_HOPS) throw unsafe(entry, 'too many levels of symlinks in its path');
        const target = readlinkSync(real);
        if (target.startsWith('/')) stack.length = 0;
        queue.unshift(...target.split('/'));
        continue;
      }
      if (!st.isDirectory()) throw unsafe(entry, `parent "${[...stack, c].join('/')}" is not a directory`);
      stack.push(c);
    }
    const out = join(this.root, ...stack);
    this.dirCache.set(key, out);
    return out;
  }

  /** Before anything is removed or replaced: xattrs queued for paths below it must land first. */
  private beforeRemove(): void {
    this.flushXattrs();
    this.dirCache = new Map();
  }

  private removeExisting(path: string, st: Stats): void {
    this.beforeRemove();
    // Metadata queued for this path or below must not be applied to whatever replaces it.
    const below = `${path}/`;
    for (let i = this.dirMeta.length - 1; i >= 0; i--) {
      const p = this.dirMeta[i]!.path;
      if (p === path || p.startsWith(below)) this.dirMeta.splice(i, 1);
    }
    if (st.isDirectory()) rmTreeSync(path);
    else unlinkSync(path);
  }

  private flushXattrs(): void {
    const items = this.pendingXattrs;
    if (items.length === 0) return;
    this.pendingXattrs = [];
    try {
      setXattrs(items);
    } catch (e) {
      const code = (e as BrigError).code;
      // Without setfattr, file xattrs (capabilities, SELinux labels) are reported, not fatal;
      // overlay opaque markers are: without them lower content would show through.
      if (code === 'TOOL_MISSING' && !items.some((i) => i.name.startsWith('trusted.overlay.'))) {
        this.warnings.push(`${items.length} extended attribute(s) not set: ${(e as Error).message}`);
        return;
      }
      // Non-root cannot set trusted.* or security.* xattrs; say so instead of failing the layer.
      if (this.chown || code !== 'SYSTEM') throw e;
      this.warnings.push((e as Error).message);
    }
  }

  /** Applies one entry; `data` is its body (regular files only). */
  async apply(h: TarHeader, data: () => AsyncGenerator<Buffer>): Promise<void> {
    const parts = entryComponents(h.name);
    if (parts.length === 0) {
      if (h.type !== 'dir') throw unsafe(h.name, 'a non-directory entry for the root itself');
      this.dirMeta.push({ path: this.root, h });
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    const logical = parts.join('/');
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(h.name, parentParts, base);
      return;
    }
    const parent = this.resolveDir(h.name, parentParts, true)!;
    const path = join(parent, base);
    let existing = lstatOrUndefined(path);
    this.written.add(logical);

    switch (h.type) {
      case 'dir':
        if (existing !== undefined && !existing.isDirectory()) {
          this.removeExisting(path, existing);
          existing = undefined;
        }
        if (existing === undefined) mkdirSync(path, 0o700);
        this.owner(path, h);
        this.dirMeta.push({ path, h });
        break;
      case 'file': {
        if (existing !== undefined) this.removeExisting(path, existing);
        const fd = openSync(
          path,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        try {
          for await (const chunk of data()) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
        } finally {
          closeSync(fd);
        }
        this.finish(path, h);
        break;
      }
      case 'symlink':
        if (existing !== undefined) this.removeExisting(path, existing);
        symlinkSync(h.linkname, path);
        this.layerSymlinks.add(relative(this.root, path));
        if (this.chown) lchownSync(path, h.uid, h.gid);
        lutimesSync(path, h.mtime, h.mtime);
        break;
      case 'link': {
        const targetParts = entryComponents(h.linkname, 'hard link target', h.name);
        if (targetParts.length === 0) throw unsafe(h.name, 'hard link to the root directory');
        const tdir = this.resolveDir(h.name, targetParts.slice(0, -1), false);
        const target = tdir === undefined ? undefined : join(tdir, targetParts[targetParts.length - 1]!);
        const tst = target === undefined ? undefined : lstatOrUndefined(target);
        if (tst === undefined)
          throw unsafe(h.name, `hard link target "${h.linkname}" does not exist in the layer`);
        if (tst.isDirectory()) throw unsafe(h.name, `hard link target "${h.linkname}" is a directory`);
        if (existing !== undefined) {
          if (existing.ino === tst.ino && existing.dev === tst.dev) break;
          this.removeExisting(path, existing);
        }
        linkSync(target!, path);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        if (existing !== undefined) this.removeExisting(path, existing);
        try {
          mknod(path, h.type, h.mode, h.devmajor, h.devminor);
        } catch (e) {
          if ((e as { errno?: string }).errno !== 'EPERM' || this.chown) throw e;
          this.warnings.push(`entry "${h.name}": ${h.type} device not created (not permitted without root)`);
          break;
        }
        this.finish(path, h);
        break;
    }
  }

  private owner(path: string, h: TarHeader): void {
    if (this.chown) lchownSync(path, h.uid, h.gid);
  }

  /** Owner, then mode (chown clears set-id bits), then xattrs (chown clears capabilities), then times. */
  private finish(path: string, h: TarHeader): void {
    this.owner(path, h);
    chmodSync(path, h.mode);
    for (const [name, value] of h.xattrs) this.pendingXattrs.push({ path, name, value });
    utimesSync(path, h.mtime, h.mtime);
  }

  private whiteout(entry: string, parentParts: string[], base: string): void {
    if (base === WHITEOUT_OPAQUE) {
      const dir = this.resolveDir(entry, parentParts, this.whiteouts === 'overlay');
      if (dir === undefined) return;
      if (this.whiteouts === 'overlay') {
        this.pendingXattrs.push({ path: dir, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
        return;
      }
      const prefix = parentParts.length === 0 ? '' : `${parentParts.join('/')}/`;
      for (const child of readdirSync(dir)) {
        if (this.written.has(`${prefix}${child}`)) continue;
        const p = join(dir, child);
        this.removeExisting(p, lstatSync(p));
      }
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      throw unsafe(entry, `"${base}" is a reserved whiteout name`);
    }
    const victim = base.slice(WHITEOUT_PREFIX.length);
    if (victim === '' || victim === '.' || victim === '..') throw unsafe(entry, `whiteout of "${victim}"`);
    const logical = [...parentParts, victim].join('/');
    if (this.written.has(logical)) return; // same-layer content is not hidden by its own whiteout
    const dir = this.resolveDir(entry, parentParts, this.whiteouts === 'overlay');
    if (dir === undefined) return;
    const path = join(dir, victim);
    const st = lstatOrUndefined(path);
    if (st !== undefined) this.removeExisting(path, st);
    if (this.whiteouts === 'overlay') {
      mknod(path, 'char', 0, 0, 0);
      this.written.add(logical);
    }
  }

  /** Sets directory modes and times, and pending xattrs. Call once, after the last entry. */
  finalize(): void {
    this.flushXattrs();
    for (const { path, h } of this.dirMeta.reverse()) {
      chmodSync(path, h.mode);
      utimesSync(path, h.mtime, h.mtime);
    }
    this.dirMeta.length = 0;
  }
}

/** Unpacks a (possibly compressed) layer stream into `dest`, which must exist. */
export async function unpackLayer(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const unpacker = new Unpacker(dest, opts);
  const hash = newHash();
  let entries = 0;
  const limits: TarLimits & { hash: typeof hash } = { hash };
  if (opts.maxBytes !== undefined) limits.maxBytes = opts.maxBytes;
  if (opts.maxEntries !== undefined) limits.maxEntries = opts.maxEntries;
  let size = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const c of decompress(source, { signal: opts.signal })) {
        size += c.length;
        yield c;
      }
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '');
      if (code.startsWith('Z_') || code.startsWith('ERR_ZLIB') || code.startsWith('ERR_ZSTD')) {
        throw new BrigError('INVALID_TAR', `layer is not valid compressed data: ${(e as Error).message}`, {
          cause: e,
        });
      }
      throw e;
    }
  };
  for await (const entry of readTar(counted(), limits)) {
    opts.signal?.throwIfAborted();
    try {
      await unpacker.apply(entry.header, entry.body);
    } catch (e) {
      if (e instanceof BrigError) throw e;
      // ENOSPC, ENAMETOOLONG, EACCES...: say which entry, keep the system error as cause.
      throw new BrigError(
        'LAYER_APPLY_FAILED',
        `layer entry "${entry.header.name}": ${(e as Error).message}`,
        {
          path: entry.header.name,
          cause: e,
        },
      );
    }
    entries++;
  }
  unpacker.finalize();
  const diffID = digestOf(hash);
  if (opts.diffID !== undefined && opts.diffID !== diffID)
    throw mismatch('layer diffID', opts.diffID, diffID, dest);
  return { entries, size, diffID, warnings: unpacker.warnings };
}
