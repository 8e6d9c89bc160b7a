/**
 * What the overlay and copy snapshotters share: snapshot records in `metadata.json`
 * (changed under a lock, replaced atomically) and one directory per snapshot under
 * `snapshots/<id>/`, with short numeric ids.
 * Subclasses decide what a new snapshot's directory holds and how it is mounted.
 */
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { ownerAlive, parseOwner } from '../../util/owner.js';
import { privateDir, rmTree } from '../fs-util.js';
import { withLock, writeFileAtomic } from '../store/lock.js';
import {
  type ApplyTarget,
  type Mount,
  OWNER_LABEL,
  type SnapshotInfo,
  type SnapshotKind,
  type Snapshotter,
  type SnapshotUsage,
} from './snapshotter.js';
import { treeUsage } from './usage.js';

interface Record_ {
  id: number;
  kind: SnapshotKind;
  parent?: string;
  created: string;
  labels: Record<string, string>;
}

interface Db {
  nextId: number;
  snapshots: Record<string, Record_>;
}

const KEY = /^[\w.:@+-][\w.:@+/-]{0,254}$/;

function checkKey(key: string, field: string): void {
  if (!KEY.test(key) || key.includes('..')) {
    throw new BrigError('INVALID_ARGUMENT', `snapshot ${field} "${key}" is not a valid key`, { field });
  }
}

export abstract class DirSnapshotter implements Snapshotter {
  abstract readonly name: string;
  readonly root: string;
  private readonly dbPath: string;
  private readonly lockPath: string;
  protected readonly signal: AbortSignal | undefined;
  private ready: Promise<unknown> | undefined;

  constructor(opts: { root: string; signal?: AbortSignal }) {
    this.root = opts.root;
    this.dbPath = join(opts.root, 'metadata.json');
    this.lockPath = join(opts.root, 'metadata.lock');
    this.signal = opts.signal;
  }

  /** Creates the directories of a new snapshot `id` on top of `parent` (whose chain is given, nearest first). */
  protected abstract create(id: number, kind: SnapshotKind, parentChain: number[]): Promise<void>;
  /** Mounts for a snapshot and its parent chain (nearest first). */
  protected abstract mountsFor(id: number, kind: SnapshotKind, parentChain: number[]): Mount[];
  abstract applyTarget(key: string): Promise<ApplyTarget>;
  abstract upperDir(key: string): Promise<string | undefined>;
  /** A snapshot's directory holds what it adds to its parents (overlay), not a whole copy. */
  protected abstract readonly stacked: boolean;

  protected dir(id: number): string {
    return join(this.root, 'snapshots', String(id));
  }

  protected fsDir(id: number): string {
    return join(this.dir(id), 'fs');
  }

  private async readDb(): Promise<Db> {
    try {
      return JSON.parse(await fs.readFile(this.dbPath, 'utf8')) as Db;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return { nextId: 1, snapshots: {} };
      throw new BrigError('STATE_CORRUPT', `snapshot metadata ${this.dbPath} is unreadable`, {
        path: this.dbPath,
        cause: e,
      });
    }
  }

  private async change<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    await (this.ready ??= privateDir(this.root).then(() =>
      fs.mkdir(join(this.root, 'snapshots'), { recursive: true, mode: 0o700 }),
    ));
    return withLock(
      this.lockPath,
      async () => {
        const db = await this.readDb();
        const out = await fn(db);
        await writeFileAtomic(this.dbPath, JSON.stringify(db));
        return out;
      },
      { signal: this.signal },
    );
  }

  private get_(db: Db, key: string): Record_ {
    const r = db.snapshots[key];
    if (r === undefined) throw new BrigError('SNAPSHOT_NOT_FOUND', `snapshot "${key}" does not exist`);
    return r;
  }

  /** Parent ids of `key`, nearest first. */
  private chain(db: Db, parent: string | undefined): number[] {
    const ids: number[] = [];
    let p = parent;
    while (p !== undefined) {
      const r = this.get_(db, p);
      ids.push(r.id);
      p = r.parent;
    }
    return ids;
  }

  private info(key: string, r: Record_): SnapshotInfo {
    return { key, kind: r.kind, parent: r.parent, created: r.created, labels: { ...r.labels } };
  }

  protected async record(key: string): Promise<{ id: number; kind: SnapshotKind; chain: number[] }> {
    const db = await this.readDb();
    const r = this.get_(db, key);
    return { id: r.id, kind: r.kind, chain: this.chain(db, r.parent) };
  }

  async stat(key: string): Promise<SnapshotInfo> {
    const db = await this.readDb();
    return this.info(key, this.get_(db, key));
  }

  async list(): Promise<SnapshotInfo[]> {
    const db = await this.readDb();
    return Object.entries(db.snapshots)
      .sort((a, b) => a[1].id - b[1].id)
      .map(([k, r]) => this.info(k, r));
  }

  private async create_(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    labels: Record<string, string> = {},
  ): Promise<Mount[]> {
    checkKey(key, 'key');
    return this.change(async (db) => {
      if (db.snapshots[key] !== undefined) {
        throw new BrigError('SNAPSHOT_EXISTS', `snapshot "${key}" already exists`);
      }
      if (parent !== undefined) {
        const p = this.get_(db, parent);
        if (p.kind !== 'committed') {
          throw new BrigError('SNAPSHOT_INVALID', `parent "${parent}" of "${key}" is not committed`, {
            hint: 'commit the parent snapshot first',
          });
        }
      }
      const chain = this.chain(db, parent);
      const id = db.nextId++;
      // A directory already there is a crashed create's (its id was never recorded).
      await rmTree(this.dir(id));
      try {
        await this.create(id, kind, chain);
      } catch (e) {
        await rmTree(this.dir(id));
        throw e;
      }
      const r: Record_ = { id, kind, created: new Date().toISOString(), labels };
      if (parent !== undefined) r.parent = parent;
      db.snapshots[key] = r;
      return this.mountsFor(id, kind, chain);
    });
  }

  prepare(key: string, parent?: string, opts: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.create_('active', key, parent, opts.labels);
  }

  view(key: string, parent?: string, opts: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.create_('view', key, parent, opts.labels);
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = await this.record(key);
    if (r.kind === 'committed') {
      throw new BrigError('SNAPSHOT_INVALID', `snapshot "${key}" is committed; mount a view of it instead`);
    }
    return this.mountsFor(r.id, r.kind, r.chain);
  }

  async commit(name: string, key: string, opts: { labels?: Record<string, string> } = {}): Promise<void> {
    checkKey(name, 'name');
    await this.change(async (db) => {
      const r = this.get_(db, key);
      if (r.kind !== 'active') {
        throw new BrigError(
          'SNAPSHOT_INVALID',
          `snapshot "${key}" is ${r.kind}; only active snapshots commit`,
        );
      }
      if (db.snapshots[name] !== undefined) {
        throw new BrigError('SNAPSHOT_EXISTS', `snapshot "${name}" already exists`);
      }
      delete db.snapshots[key];
      db.snapshots[name] = { ...r, kind: 'committed', labels: { ...r.labels, ...opts.labels } };
    });
  }

  async remove(key: string): Promise<void> {
    let id = 0;
    await this.change(async (db) => {
      const r = this.get_(db, key);
      const child = Object.entries(db.snapshots).find(([, s]) => s.parent === key);
      if (child !== undefined) {
        throw new BrigError('SNAPSHOT_INVALID', `snapshot "${key}" is the parent of "${child[0]}"`, {
          hint: 'remove its children first',
        });
      }
      id = r.id;
      // Moved aside under the lock (deleting can take long and happens after) to trash/<id>,
      // a shorter path than snapshots/<id>: a tree the unpack could create stays deletable.
      // The record goes only once the move is done; a deletion that fails or is killed is
      // finished by the next cleanup().
      await fs.mkdir(this.trashDir, { recursive: true, mode: 0o700 });
      await fs.rename(this.dir(id), this.trash(id)).catch((e) => {
        if (!hasErrno(e, 'ENOENT')) throw e;
      });
      delete db.snapshots[key];
    });
    await rmTree(this.trash(id));
  }

  private get trashDir(): string {
    return join(this.root, 'trash');
  }

  private trash(id: number): string {
    return join(this.trashDir, String(id));
  }

  async cleanup(): Promise<void> {
    const db = await this.readDb();
    for (const [key, r] of Object.entries(db.snapshots)) {
      const owner = r.labels[OWNER_LABEL];
      if (r.kind === 'committed' || owner === undefined) continue;
      const o = parseOwner(owner);
      if (o !== undefined && ownerAlive(o)) continue;
      await this.remove(key).catch((e: BrigError) => {
        if (e.code !== 'SNAPSHOT_NOT_FOUND' && e.code !== 'SNAPSHOT_INVALID') throw e;
      });
    }
    for (const name of await fs.readdir(this.trashDir).catch(() => [] as string[])) {
      await rmTree(join(this.trashDir, name));
    }
    // Where removed snapshots went before trash/.
    const old = (await fs.readdir(join(this.root, 'snapshots')).catch(() => [] as string[])).filter((n) =>
      /^rm-\d+$/.test(n),
    );
    for (const name of old) await rmTree(join(this.root, 'snapshots', name));
  }

  async usage(key: string): Promise<{ own: SnapshotUsage; total: SnapshotUsage }> {
    const r = await this.record(key);
    const own = await this.dirUsage(r.id, r.kind === 'committed');
    if (!this.stacked) return { own, total: own };
    const total = { ...own };
    for (const p of r.chain) {
      const u = await this.dirUsage(p, true);
      total.size += u.size;
      total.inodes += u.inodes;
    }
    return { own, total };
  }

  /** A committed snapshot never changes: its count is kept beside its tree (usage.json) once walked. */
  private async dirUsage(id: number, committed: boolean): Promise<SnapshotUsage> {
    const cache = join(this.dir(id), 'usage.json');
    if (committed) {
      try {
        return JSON.parse(await fs.readFile(cache, 'utf8')) as SnapshotUsage;
      } catch (e) {
        if (!hasErrno(e, 'ENOENT') && !(e instanceof SyntaxError)) throw e;
      }
    }
    const u = treeUsage(this.fsDir(id));
    // Best effort: a snapshot removed meanwhile has no directory to keep it in.
    if (committed) await writeFileAtomic(cache, JSON.stringify(u)).catch(() => undefined);
    return u;
  }

  /** The active snapshot's record, refusing other kinds. */
  protected async active(key: string): Promise<{ id: number; chain: number[] }> {
    const r = await this.record(key);
    if (r.kind !== 'active')
      throw new BrigError('SNAPSHOT_INVALID', `snapshot "${key}" is ${r.kind}, not active`);
    return r;
  }
}
