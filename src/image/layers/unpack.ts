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
import { join } from 'node:path';
import { BrigError } from '../../errors/index.js';
import { digestOf, mismatch, newHash } from '../digest.js';
import { rmTreeSync } from '../fs-util.js';
import { decompress } from './compression.js';
import { checkFreeDisk, type ImageLimits, Meter, resolveLimits } from './limits.js';
import { LayerOps, makedev, type NodeOp } from './native-ops.js';
import { readTar, type TarHeader, type TarLimits } from './tar-reader.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;
const MAX_LINK_FLUSHES = 1000;

export interface UnpackOptions extends Partial<ImageLimits> {
  /** How whiteout entries are applied (see the module comment). Default 'remove'. */
  whiteouts?: 'remove' | 'overlay' | 'none';
  /** Set owners from the archive. Default: when running as root. */
  chown?: boolean;
  /** native/build/brig-layerops, found next to the code by default. */
  layerOps?: string;
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
  /** brig-layerops processes run (one per 4096 nodes and xattrs, at the least). */
  nativeRuns: number;
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
  // Most entries are new: no ENOENT exception (and its stack) per entry.
  return lstatSync(path, { throwIfNoEntry: false });
}

/**
 * Which image-supplied xattrs reach the disk. `user.*` is the image's own data,
 * `security.capability` is how images grant file capabilities, and POSIX ACLs are
 * permission data. Everything else is interpreted by the kernel or an LSM on the host's
 * behalf (`trusted.overlay.*` redirects, metacopy and opaque markers change what overlayfs
 * shows; `security.selinux`/`security.ima`/`security.evm` labels; other `trusted.*`), so it
 * is dropped with a warning: the applier writes overlay markers itself, from whiteouts.
 */
export function xattrAllowed(name: string): boolean {
  return (
    name.startsWith('user.') ||
    name === 'security.capability' ||
    name === 'system.posix_acl_access' ||
    name === 'system.posix_acl_default'
  );
}

const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;

/** vfs_cap_data: revision 1 (12 bytes), 2 (20) or 3 (24, with a root uid), as the kernel takes it. */
function capabilityValid(v: Buffer): boolean {
  if (v.length < 4) return false;
  const rev = v.readUInt32LE(0) & 0xff000000;
  const flags = v.readUInt32LE(0) & 0x00ffffff;
  const size = rev === 0x01000000 ? 12 : rev === 0x02000000 ? 20 : rev === 0x03000000 ? 24 : -1;
  return v.length === size && (flags & ~1) === 0;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export class Unpacker {
  private readonly root: string;
  private readonly whiteouts: 'remove' | 'overlay' | 'none';
  private readonly chown: boolean;
  private readonly noOverwriteDirNonDir: boolean;
  /** Paths (real, relative to the root) this layer created as symlinks: never followed as parents. */
  private readonly layerSymlinks = new Set<string>();
  /** Logical paths this layer wrote: whiteouts leave them alone. */
  private readonly written = new Set<string>();
  /** Overlay mode: whiteout devices this layer made (a directory replacing one must be opaque). */
  private readonly whiteoutsMade = new Set<string>();
  /** Resolved real parent directory per logical directory path; cleared on any removal. */
  private dirCache = new Map<string, string>();
  /** Directory metadata applied at the end; a later entry for the same directory replaces it. */
  private readonly dirMeta = new Map<string, { h: TarHeader; opaque: boolean }>();
  private readonly ops: LayerOps;
  private readonly ownWarnings: string[] = [];

  constructor(
    root: string,
    opts: {
      whiteouts?: 'remove' | 'overlay' | 'none';
      chown?: boolean;
      layerOps?: string;
      /** Refuse to replace a directory with a non-directory or the reverse (docker cp's rule), instead of removing it. */
      noOverwriteDirNonDir?: boolean;
    } = {},
  ) {
    this.root = root;
    this.whiteouts = opts.whiteouts ?? 'remove';
    this.noOverwriteDirNonDir = opts.noOverwriteDirNonDir ?? false;
    this.chown = opts.chown ?? userInfo().uid === 0;
    this.ops = new LayerOps(root, opts.layerOps);
  }

  get warnings(): string[] {
    return [...this.ownWarnings, ...this.ops.warnings];
  }

  /** Native batches run so far. */
  get nativeRuns(): number {
    return this.ops.runs;
  }

  private rel(path: string): string {
    return path === this.root ? '' : path.slice(this.root.length + 1);
  }

  /** Hard links to nodes this layer queued: each one costs a native run, so they are capped. */
  private linkFlushes = 0;

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
      const where = [...stack, c].join('/');
      let st: Stats | undefined;
      if (this.ops.queuedNode(where)) {
        // A node this layer queued: a whiteout it now writes into becomes a fresh, opaque
        // directory; any other node is not a directory.
        if (!this.whiteoutsMade.has(where) || !create) {
          if (!create) return undefined;
          throw unsafe(entry, `parent "${where}" is not a directory`);
        }
        this.ops.cancelNode(where);
      } else {
        st = lstatOrUndefined(real);
      }
      if (st === undefined) {
        if (!create) return undefined;
        mkdirSync(real, 0o755);
        if (this.whiteoutsMade.delete(where)) this.opaque(real, entry);
        stack.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
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
      if (!st.isDirectory()) throw unsafe(entry, `parent "${where}" is not a directory`);
      stack.push(c);
    }
    const out = join(this.root, ...stack);
    this.dirCache.set(key, out);
    return out;
  }

  private removeExisting(path: string, st: Stats): void {
    this.dirCache = new Map();
    const dir = st.isDirectory();
    // Queued ops and metadata for this path (or below) must not land on what replaces it.
    this.ops.drop(this.rel(path), dir);
    if (dir) {
      const below = `${path}/`;
      for (const p of [...this.dirMeta.keys()]) if (p === path || p.startsWith(below)) this.dirMeta.delete(p);
      rmTreeSync(path);
    } else {
      unlinkSync(path);
    }
  }

  /** Overlay mode: marks a directory opaque (nothing below shows through). */
  private opaque(dir: string, entry: string): void {
    this.ops.add({
      kind: 'xattr',
      path: this.rel(dir),
      name: 'trusted.overlay.opaque',
      value: Buffer.from('y'),
      soft: false,
      entry,
    });
  }

  /** Queues the entry's xattrs that images may set; warns about the others. */
  private xattrs(path: string, h: TarHeader): void {
    for (const [name, value] of h.xattrs) {
      const nameLen = Buffer.byteLength(name);
      if (nameLen === 0 || nameLen > XATTR_NAME_MAX || name.includes('\0') || value.length > XATTR_SIZE_MAX) {
        throw new BrigError('INVALID_TAR', `entry "${h.name}": extended attribute "${name}" is malformed`, {
          path: h.name,
        });
      }
      if (!xattrAllowed(name)) {
        this.ownWarnings.push(
          `entry "${h.name}": extended attribute "${name}" dropped (interpreted by the host kernel; images may set user.*, security.capability and ACLs)`,
        );
        continue;
      }
      if (name === 'security.capability' && !capabilityValid(value)) {
        throw unsafe(h.name, `security.capability is not a valid vfs_cap_data value (${value.length} bytes)`);
      }
      // The kernel allows user.* xattrs only on files and directories; without root, no
      // security.* ones at all: warnings, not a failed layer.
      const soft = !this.chown || (name.startsWith('user.') && h.type !== 'file' && h.type !== 'dir');
      this.ops.add({ kind: 'xattr', path: this.rel(path), name, value, soft, entry: h.name });
    }
  }

  /** Applies one entry; `data` is its body (regular files only). */
  async apply(h: TarHeader, data: () => AsyncGenerator<Buffer>): Promise<void> {
    const parts = entryComponents(h.name);
    if (parts.length === 0) {
      if (h.type !== 'dir') throw unsafe(h.name, 'a non-directory entry for the root itself');
      this.dirMeta.set(this.root, { h, opaque: false });
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    const logical = parts.join('/');
    if (base.startsWith(WHITEOUT_PREFIX) && this.whiteouts !== 'none') {
      this.whiteout(h.name, parentParts, base);
      return;
    }
    const parent = this.resolveDir(h.name, parentParts, true)!;
    const path = join(parent, base);
    const rel = this.rel(path);
    let existing = this.ops.cancelNode(rel) ? undefined : lstatOrUndefined(path);
    this.written.add(logical);
    const replacesWhiteout = this.whiteoutsMade.delete(rel);
    if (this.noOverwriteDirNonDir && existing !== undefined && existing.isDirectory() !== (h.type === 'dir')) {
      throw new BrigError(
        'INVALID_ARGUMENT',
        existing.isDirectory()
          ? `cannot overwrite directory "/${rel}" with non-directory "${h.name}"`
          : `cannot overwrite non-directory "/${rel}" with directory "${h.name}"`,
        { path: h.name },
      );
    }

    switch (h.type) {
      case 'dir':
        if (existing !== undefined && !existing.isDirectory()) {
          this.removeExisting(path, existing);
          existing = undefined;
        }
        if (existing === undefined) mkdirSync(path, 0o700);
        this.owner(path, h);
        // The last entry for a directory wins (GNU tar, containerd); an earlier opaque mark stays.
        this.dirMeta.set(path, { h, opaque: replacesWhiteout || (this.dirMeta.get(path)?.opaque ?? false) });
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
        this.layerSymlinks.add(rel);
        if (this.chown) lchownSync(path, h.uid, h.gid);
        lutimesSync(path, h.mtime, h.mtime);
        this.xattrs(path, h);
        break;
      case 'link': {
        const targetParts = entryComponents(h.linkname, 'hard link target', h.name);
        if (targetParts.length === 0) throw unsafe(h.name, 'hard link to the root directory');
        const tdir = this.resolveDir(h.name, targetParts.slice(0, -1), false);
        const target = tdir === undefined ? undefined : join(tdir, targetParts[targetParts.length - 1]!);
        if (target !== undefined && this.ops.queuedNode(this.rel(target))) {
          if (++this.linkFlushes > MAX_LINK_FLUSHES) {
            throw new BrigError('LAYER_TOO_LARGE', `entry "${h.name}": more than ${MAX_LINK_FLUSHES} hard links to device nodes`, { path: h.name });
          }
          this.ops.flush();
        }
        const tst = target === undefined ? undefined : lstatOrUndefined(target);
        if (tst === undefined)
          throw unsafe(h.name, `hard link target "${h.linkname}" does not exist in the layer`);
        if (tst.isDirectory()) throw unsafe(h.name, `hard link target "${h.linkname}" is a directory`);
        // A hard link to a symlink is that symlink under a second name: never followed either.
        if (tst.isSymbolicLink()) this.layerSymlinks.add(rel);
        if (existing !== undefined) {
          if (existing.ino === tst.ino && existing.dev === tst.dev) break;
          this.removeExisting(path, existing);
        }
        linkSync(target!, path);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (existing !== undefined) this.removeExisting(path, existing);
        const type = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        const op: NodeOp = {
          kind: 'mknod',
          path: rel,
          mode: type | (h.mode & 0o7777),
          rdev: h.type === 'fifo' ? 0 : makedev(h.devmajor, h.devminor),
          mtime: h.mtime,
          // Without root the kernel makes no device nodes: a warning, as before.
          soft: !this.chown && h.type !== 'fifo',
          entry: h.name,
        };
        if (this.chown) op.owner = { uid: h.uid, gid: h.gid };
        this.ops.add(op);
        this.xattrs(path, h);
        break;
      }
    }
  }

  private owner(path: string, h: TarHeader): void {
    if (this.chown) lchownSync(path, h.uid, h.gid);
  }

  /** Owner, then mode (chown clears set-id bits), then xattrs (chown clears capabilities), then times. */
  private finish(path: string, h: TarHeader): void {
    this.owner(path, h);
    chmodSync(path, h.mode);
    this.xattrs(path, h);
    utimesSync(path, h.mtime, h.mtime);
  }

  private whiteout(entry: string, parentParts: string[], base: string): void {
    if (base === WHITEOUT_OPAQUE) {
      if (parentParts.length === 0) {
        // overlayfs never reads an opaque mark on a layer's root, so neither snapshotter
        // honours one there: the lower layers stay (as with docker's and containerd's overlay).
        this.ownWarnings.push(`entry "${entry}": an opaque whiteout of the root directory is ignored`);
        return;
      }
      const dir = this.resolveDir(entry, parentParts, this.whiteouts === 'overlay');
      if (dir === undefined) return;
      if (this.whiteouts === 'overlay') {
        this.opaque(dir, entry);
        return;
      }
      const prefix = `${parentParts.join('/')}/`;
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
    const st = this.ops.cancelNode(this.rel(path)) ? undefined : lstatOrUndefined(path);
    if (st !== undefined) this.removeExisting(path, st);
    if (this.whiteouts === 'overlay') {
      const rel = this.rel(path);
      this.ops.add({ kind: 'mknod', path: rel, mode: S_IFCHR, rdev: 0, soft: false, entry });
      this.whiteoutsMade.add(rel);
      this.written.add(logical);
    }
  }

  /** Sets directory xattrs, modes and times, and runs what is queued. Call once, after the last entry. */
  finalize(): void {
    for (const [path, { h, opaque }] of this.dirMeta) {
      this.xattrs(path, h);
      if (opaque && this.whiteouts === 'overlay') this.opaque(path, h.name);
    }
    this.ops.flush();
    // Deepest first: a read-only parent must not block its children (when not root).
    const dirs = [...this.dirMeta].sort((a, b) => b[0].length - a[0].length);
    for (const [path, { h }] of dirs) {
      chmodSync(path, h.mode);
      utimesSync(path, h.mtime, h.mtime);
    }
    this.dirMeta.clear();
  }
}

/** Unpacks a (possibly compressed) layer stream into `dest`, which must exist. */
export async function unpackLayer(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const limits = resolveLimits(opts);
  const unpacker = new Unpacker(dest, opts);
  const hash = newHash();
  let entries = 0;
  let current: string | undefined;
  const meter = new Meter(limits, 'layer', dest, () => current);
  checkFreeDisk(dest, limits.minFreeDisk, 'layer');
  const compressed = async function* (): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      meter.input(c.length);
      yield c;
    }
  };
  const expanded = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const c of decompress(compressed(), { signal: opts.signal })) {
        meter.output(c.length);
        meter.written(c.length);
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
  const tarLimits: TarLimits & { hash: typeof hash } = {
    hash,
    maxBytes: limits.maxLayerSize,
    maxEntries: limits.maxEntries,
  };
  for await (const entry of readTar(expanded(), tarLimits)) {
    opts.signal?.throwIfAborted();
    current = entry.header.name;
    try {
      await unpacker.apply(entry.header, entry.body);
    } catch (e) {
      if (e instanceof BrigError) throw e;
      // ENOSPC, ENAMETOOLONG, EACCES...: say which entry, keep the system error as cause.
      throw new BrigError('LAYER_APPLY_FAILED', `layer entry "${entry.header.name}": ${(e as Error).message}`, {
        path: entry.header.name,
        cause: e,
      });
    }
    entries++;
  }
  unpacker.finalize();
  const diffID = digestOf(hash);
  if (opts.diffID !== undefined && opts.diffID !== diffID)
    throw mismatch('layer diffID', opts.diffID, diffID, dest);
  return { entries, size: meter.expanded, diffID, warnings: unpacker.warnings, nativeRuns: unpacker.nativeRuns };
}
