/**
 * The layer applier's side of native/layerops (brig-layerops): device nodes, fifos,
 * overlay whiteouts and extended attributes, which Node cannot make, are queued while a
 * layer is applied and run in batches by one small C process each — not one `mknod` or
 * `setfattr` per entry (20k whiteouts used to take 60 s).
 *
 * The applier decides everything: real paths (symlinks already resolved inside the root),
 * modes, owners, which xattrs an image may set, and which failures only warn (`soft`).
 * The C program only executes, refusing any path with a symlink in it, and reports a
 * failed op by index; that index names the layer entry here.
 *
 * Ordering. A queued op runs later than the TypeScript writes around it, which is safe
 * because (1) nothing is on disk at a queued node's path until the flush, and the applier
 * asks (`queuedNode`) before it trusts an lstat there: a later entry for the path cancels
 * the node (`cancelNode`), a hard link to it flushes first; (2) queued ops on a path that
 * is removed are dropped with it (`drop`); (3) directory modes and times are set only
 * after the last flush.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { BrigError, BrigSystemError } from '../../errors/index.js';
import { locateNative } from '../../native/locate.js';

export interface NodeOp {
  kind: 'mknod';
  /** Relative to the root, no symlinks in it ('' is the root). */
  path: string;
  /** Including the S_IF* type bits. */
  mode: number;
  rdev: number;
  owner?: { uid: number; gid: number };
  /** Seconds since the epoch (fractional). */
  mtime?: number;
  soft: boolean;
  /** The layer entry this op is for (for messages). */
  entry: string;
}

export interface XattrOp {
  kind: 'xattr';
  path: string;
  name: string;
  value: Buffer;
  soft: boolean;
  entry: string;
}

export type LayerOp = NodeOp | XattrOp;

const KIND = { mknod: 1, xattr: 2 } as const;
const F_SOFT = 1;
const F_CHOWN = 2;
const F_TIMES = 4;
const HEAD = 48;
const SYSCALLS = ['', 'openat2', 'mknodat', 'fchownat', 'chmod', 'utimensat', 'lsetxattr', 'op'];
/** Ops per process: bounds the queue's memory; 20k whiteouts are five processes. */
const BATCH = 4096;
/** What brig-layerops takes as a path (Linux's PATH_MAX, with its NUL). */
const PATH_MAX = 4096;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export function encodeOps(ops: readonly LayerOp[]): Buffer {
  const parts: Buffer[] = [];
  for (const op of ops) {
    const path = Buffer.from(op.path);
    const name = Buffer.from(op.kind === 'xattr' ? op.name : '');
    const value = op.kind === 'xattr' ? op.value : Buffer.alloc(0);
    const h = Buffer.alloc(HEAD);
    h[0] = KIND[op.kind];
    let flags = op.soft ? F_SOFT : 0;
    if (op.kind === 'mknod') {
      if (op.owner !== undefined) flags |= F_CHOWN;
      if (op.mtime !== undefined) flags |= F_TIMES;
      h.writeUInt32LE(op.mode >>> 0, 4);
      h.writeUInt32LE(op.owner?.uid ?? 0, 8);
      h.writeUInt32LE(op.owner?.gid ?? 0, 12);
      h.writeBigUInt64LE(BigInt(op.rdev), 16);
      const sec = Math.floor(op.mtime ?? 0);
      h.writeBigInt64LE(BigInt(sec), 24);
      h.writeUInt32LE(Math.min(999_999_999, Math.round(((op.mtime ?? 0) - sec) * 1e9)), 32);
    }
    h[1] = flags;
    h.writeUInt32LE(path.length, 36);
    h.writeUInt32LE(name.length, 40);
    h.writeUInt32LE(value.length, 44);
    parts.push(h, path, name, value);
  }
  return Buffer.concat(parts);
}

/** Linux's encoding of a device number (what mknod(2) takes as dev_t). */
export function makedev(major: number, minor: number): number {
  // glibc's makedev, in arithmetic (the shifts overflow JavaScript's 32-bit operators).
  return (
    (minor & 0xff) +
    (major & 0xfff) * 2 ** 8 +
    Math.floor(minor / 2 ** 8) * 2 ** 20 +
    Math.floor(major / 2 ** 12) * 2 ** 44
  );
}

export class LayerOps {
  private queue: LayerOp[] = [];
  /** Queued ops per path. */
  private readonly paths = new Map<string, number>();
  /** Paths with a queued mknod: nothing is on disk there until the flush. */
  private readonly nodes = new Set<string>();
  readonly warnings: string[] = [];
  /** Processes run so far (for tests and benchmarks). */
  runs = 0;

  constructor(
    private readonly root: string,
    private readonly bin: string = locateNative('brig-layerops', import.meta.url),
  ) {}

  add(op: LayerOp): void {
    if (Buffer.byteLength(op.path) >= PATH_MAX) {
      throw new BrigError('LAYER_APPLY_FAILED', `layer entry "${op.entry}": its path is longer than ${PATH_MAX - 1} bytes`, {
        path: op.entry,
      });
    }
    this.queue.push(op);
    this.paths.set(op.path, (this.paths.get(op.path) ?? 0) + 1);
    if (op.kind === 'mknod') this.nodes.add(op.path);
    if (this.queue.length >= BATCH) this.flush();
  }

  /** Whether a node (device, fifo, whiteout) is queued to be made at this path. */
  queuedNode(path: string): boolean {
    return this.nodes.has(path);
  }

  /** Forgets a queued node and its xattrs (a later entry replaces it); false when none is queued. */
  cancelNode(path: string): boolean {
    if (!this.nodes.has(path)) return false;
    this.drop(path, false);
    return true;
  }

  /** Forgets queued ops for `path` and, for a directory, everything below it (it is being removed). */
  drop(path: string, dir: boolean): void {
    if (this.paths.size === 0) return;
    const below = path === '' ? '' : `${path}/`;
    const gone = (p: string) => p === path || (dir && p.startsWith(below));
    if (!this.paths.has(path) && !(dir && [...this.paths.keys()].some(gone))) return;
    this.queue = this.queue.filter((op) => !gone(op.path));
    for (const p of [...this.paths.keys()]) {
      if (!gone(p)) continue;
      this.paths.delete(p);
      this.nodes.delete(p);
    }
  }

  /** Runs what is queued. Soft failures become warnings; any other failure throws, naming the entry. */
  flush(): void {
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    this.paths.clear();
    this.nodes.clear();
    this.runs++;
    const r = spawnSync(this.bin, [this.root], {
      input: encodeOps(ops),
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
    if (r.error !== undefined) {
      throw new BrigError('HELPER_MISSING', `cannot run ${this.bin}: ${r.error.message}`, {
        path: this.bin,
        cause: r.error,
        hint: 'run `npm run build`',
      });
    }
    const out = r.stdout;
    let fatal: BrigError | undefined;
    for (let off = 0; off + 16 <= out.length; off += 16) {
      const index = out.readUInt32LE(off);
      const errno = out.readInt32LE(off + 4);
      const syscall = SYSCALLS[out.readUInt32LE(off + 8)] ?? 'op';
      const op = ops[index];
      if (op === undefined) break;
      const errnoName = errnoNames.get(errno) ?? `errno ${errno}`;
      const what = op.kind === 'xattr' ? `extended attribute "${op.name}"` : 'node';
      const message = `layer entry "${op.entry}": ${what} not set: ${syscall}: ${errnoName}`;
      if (out.readUInt32LE(off + 12) === 0) {
        this.warnings.push(message);
        continue;
      }
      fatal = new BrigSystemError(
        message,
        { syscall, errno, errnoName, op: op.kind, opIndex: index, path: op.entry },
        'LAYER_APPLY_FAILED',
      );
    }
    if (fatal !== undefined) throw fatal;
    if (r.status !== 0) {
      throw new BrigError(
        'INTERNAL',
        `brig-layerops exited with ${r.status ?? r.signal}: ${r.stderr.toString().trim()}`,
        { path: this.bin },
      );
    }
  }
}
