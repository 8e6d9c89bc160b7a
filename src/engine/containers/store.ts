/**
 * The container store: one directory per container under `<root>/containers/<id>/`, with
 * `container.json` (the record: docker's ContainerJSON fields the engine keeps) and the
 * files the container's monitor writes beside it (log, exit record, pid file). Names are
 * claimed by symlinks `<root>/names/<name> → <id>`: symlink(2) either creates or fails with
 * EEXIST, so two `run --name x` at once give one container and one conflict, across
 * processes, with no lock held. Record changes go through `update` under the container's
 * lock file, so the CLI and `brig serve` can work side by side.
 *
 * The store is the truth, but a record is never trusted about a process: `read` and `list`
 * pass each record through `reconcile` (supplied by the engine, which knows monitors), which
 * corrects "running" when the monitor has written an exit record or is gone.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { ParsedFileCache } from '../../util/parsed-file-cache.js';
import { withLock, writeFileAtomic } from '../../image/store/lock.js';
import { checkName, generateName, newContainerId, resolveContainer } from './names.js';
import { type ContainerAction, type ContainerStatus, isRunningLike, transition } from './state.js';
import { ListingCache, Miss } from './listing-cache.js';

/** A container's record, in its directory. */
const RECORD = 'container.json';
import { parseOwner, pidExists } from '../../util/owner.js';

/** docker's State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

/** What the store keeps of a container; the engine maps it onto the API's shapes. */
export interface ContainerRecord {
  id: string;
  /** Without docker's leading "/". */
  name: string;
  created: string;
  image: string;
  imageId: string;
  state: {
    status: ContainerStatus;
    pid: number;
    monitorPid: number;
    /** Start times (/proc/<pid>/stat field 22) of init and the monitor: a pid alone may be reused. */
    pidStart?: string;
    monitorStart?: string;
    exitCode: number;
    oomKilled: boolean;
    error: string;
    startedAt: string;
    finishedAt: string;
    /** docker's State.Health, as the monitor's probes left it (read, never stored). */
    health?: HealthState;
  };
  restartCount: number;
  /**
   * An operation under way that spans several steps (create, start, remove) and the process
   * doing it (`<pid>-<starttime>`): if that process dies midway, readers know the record is
   * half done and the engine finishes or undoes it.
   */
  pending?: { op: 'create' | 'start' | 'remove'; owner: string };
  /** Engine-specific settings (config, host config, mounts, networks): opaque to the store. */
  spec: Record<string, unknown>;
  labels: Record<string, string>;
}

export type Reconcile = (r: ContainerRecord) => ContainerRecord | Promise<ContainerRecord>;

export class ContainerStore {
  readonly dir: string;
  private readonly namesDir: string;
  /** Records as list() last parsed them, kept while their files are unchanged (shared: read-only). */
  private readonly listed = new ParsedFileCache<ContainerRecord>();

  /** Long-lived listers only (brig serve): reconciled records kept while their directory is unchanged. */
  private snapshots: ListingCache | undefined;

  constructor(
    root: string,
    private readonly reconcile: Reconcile = (r) => r,
  ) {
    this.dir = path.join(root, 'containers');
    this.namesDir = path.join(root, 'names');
    // Root-only, like the rest of the data root: a container's files are its stdio and state.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.namesDir, { recursive: true, mode: 0o700 });
  }

  /** For a process that lists again and again (brig serve): see listing-cache.ts. */
  keepListing(): void {
    this.snapshots ??= new ListingCache();
  }

  /**
   * Where a listing keeps what else it read from `r`'s directory (its network state) for as
   * long as list() hands out the same `r`; undefined when list() does not keep records.
   */
  listingMemo(r: ContainerRecord): Map<string, unknown> | undefined {
    return this.snapshots?.memo(r);
  }

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }

  /**
   * Claims a name (given or made up) and an id, and writes the record. A name in use is
   * docker's conflict error; nothing is left behind when the write fails.
   */
  async create(init: Omit<ContainerRecord, 'id' | 'name' | 'created'> & { name?: string }, now = new Date()): Promise<ContainerRecord> {
    const id = newContainerId();
    const name = init.name !== undefined ? checkName(init.name) : await this.freeName();
    const record: ContainerRecord = { ...init, id, name, created: now.toISOString() };
    // The record first, the name after: a name link then always points at a record that was
    // written, so a link to nothing is stale (its create or remove was killed) and free.
    try {
      await fs.mkdir(this.containerDir(id), { mode: 0o700 });
      await writeFileAtomic(this.recordPath(id), JSON.stringify(record));
      await this.claimName(name, id);
    } catch (e) {
      await fs.rm(this.containerDir(id), { recursive: true, force: true });
      throw e;
    }
    return record;
  }

  /** Every container, reconciled; records half-written by a killed create are skipped. */
  async list(): Promise<ContainerRecord[]> {
    const ids = await fs.readdir(this.dir).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    const out: ContainerRecord[] = [];
    const files = new Set<string>();
    const dirs = new Set<string>();
    for (const id of ids) {
      if (id.length !== 64 || !/^[0-9a-f]{64}$/.test(id)) continue;
      // Joined by hand: ids are plain names, and path.join for each of a listing's
      // containers showed in brig serve's profile.
      const dir = `${this.dir}/${id}`;
      const file = `${dir}/${RECORD}`;
      files.add(file);
      const load = async () => {
        const r = this.listed.read(file, (text) => this.parseRecord(file, text));
        return r && (await this.reconcile(r));
      };
      let r: ContainerRecord | undefined;
      if (this.snapshots) {
        dirs.add(dir);
        const seen = this.snapshots.peek(dir, stillAsReconciled);
        r = seen instanceof Miss ? await this.snapshots.load(dir, seen, load, (rec) => rec.pending !== undefined || isRunningLike(rec.state.status)) : (seen ?? undefined);
      } else r = await load();
      if (r) out.push(r);
    }
    this.listed.retain(files);
    this.snapshots?.retain(dirs);
    return out;
  }

  private parseRecord(file: string, text: string): ContainerRecord {
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      throw new BrigError('STATE_CORRUPT', `container record ${file} is not valid JSON`, { path: file, hint: `brig rm -f ${path.basename(path.dirname(file)).slice(0, 12)}` });
    }
  }

  /** One container by id, unique id prefix or name (docker's lookup order). */
  async find(ref: string): Promise<ContainerRecord> {
    // Fast paths first: a full id is a directory, a name is a link; prefixes need the list.
    const direct = (await this.readRecord(ref)) ?? (await this.readLinkedName(ref));
    if (direct) return this.reconcile(direct);
    return resolveContainer(await this.list(), ref);
  }

  /**
   * Applies `action` (checked by the state machine) and `change` under the container's
   * lock, writes the record and returns it. `change` sees the reconciled record.
   */
  async update(
    id: string,
    action: ContainerAction | undefined,
    change: (r: ContainerRecord, next: ContainerStatus) => ContainerRecord | void = () => {},
  ): Promise<ContainerRecord> {
    try {
      return await withLock(path.join(this.containerDir(id), 'lock'), async () => {
        const raw = await this.readRecord(id);
        if (!raw) throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${id}`);
        const current = await this.reconcile(raw);
        const next = action ? transition(current.state.status, action, current.name) : current.state.status;
        const base: ContainerRecord = { ...current, state: { ...current.state, status: next } };
        const updated = change(base, next) ?? base;
        await writeFileAtomic(this.recordPath(id), JSON.stringify(updated));
        return updated;
      });
    } catch (e) {
      // Removed meanwhile (another rm or prune): its directory, and so its lock, is gone.
      if (hasErrno(e, 'ENOENT') && !existsSync(this.containerDir(id))) throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${id}`, { cause: e });
      throw e;
    }
  }

  /** Renames: the new name is claimed before the old one is let go, so no one slips between. */
  async rename(id: string, newName: string): Promise<ContainerRecord> {
    const name = checkName(newName);
    await this.claimName(name, id);
    try {
      const before = await this.find(id);
      const r = await this.update(id, 'rename', (rec) => ({ ...rec, name }));
      await fs.rm(path.join(this.namesDir, before.name), { force: true });
      return r;
    } catch (e) {
      await fs.rm(path.join(this.namesDir, name), { force: true });
      throw e;
    }
  }

  /** Removes the record, its directory and its name. The engine has torn down the rest. */
  async remove(id: string): Promise<void> {
    const r = await this.readRecord(id);
    // Retried on ENOTEMPTY: another brig's sweep or detach may write into the directory
    // (network.json by rename) while it goes; the file it left is then removed too.
    await fs.rm(this.containerDir(id), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    if (r) {
      const link = path.join(this.namesDir, r.name);
      if ((await fs.readlink(link).catch(() => '')) === id) await fs.rm(link, { force: true });
    }
  }

  /** The record's file: gone once the container is removed (a monitor's exit grace watches it). */
  recordFile(id: string): string {
    return this.recordPath(id);
  }

  private recordPath(id: string): string {
    return path.join(this.containerDir(id), RECORD);
  }

  private async readRecord(id: string): Promise<ContainerRecord | undefined> {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      return this.parseRecord(this.recordPath(id), await fs.readFile(this.recordPath(id), 'utf8'));
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  private async readLinkedName(ref: string): Promise<ContainerRecord | undefined> {
    const name = ref.replace(/^\//, '');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) return undefined;
    const id = await fs.readlink(path.join(this.namesDir, name)).catch(() => undefined);
    return id ? this.readRecord(id) : undefined;
  }

  private async claimName(name: string, id: string): Promise<void> {
    const link = path.join(this.namesDir, name);
    try {
      await fs.symlink(id, link);
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) throw e;
      const holder = await fs.readlink(link).catch(() => '');
      // A name whose record is gone (a remove killed half-way) is free again.
      if (holder && !(await this.readRecord(holder))) {
        await fs.rm(link, { force: true });
        return this.claimName(name, id);
      }
      throw new BrigError('NAME_IN_USE', `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`, {
        field: '--name',
      });
    }
  }

  private async freeName(): Promise<string> {
    const taken = new Set(await fs.readdir(this.namesDir).catch(() => [] as string[]));
    return generateName((n) => taken.has(n));
  }
}

/**
 * Whether what a reconcile concluded from processes still stands: the operation's owner is
 * there (else the operation was cut short), and a running container's init or monitor is
 * (while its monitor lives, init's end comes as an exit record, a change of the directory).
 */
function stillAsReconciled(r: ContainerRecord): boolean {
  if (r.pending && !pidExists(parseOwner(r.pending.owner)?.pid)) return false;
  if (isRunningLike(r.state.status) && !pidExists(r.state.pid) && !pidExists(r.state.monitorPid)) return false;
  return true;
}
