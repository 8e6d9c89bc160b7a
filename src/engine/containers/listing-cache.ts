/**
 * Reconciled container records kept by a long-lived lister (brig serve answers GET
 * /containers/json from it), one per container directory, while the directory is unchanged.
 *
 * Everything a container's listing reads from its directory is written there by rename: the
 * record, the monitor's exit record, run.json and health.json, network.json, the stop marker.
 * A rename (or create, or unlink) changes the directory's mtime and ctime, so one stat of the
 * directory says whether any of them may have changed, where the full path is a stat or a
 * read of each file. Two guards:
 * - racy times (git's index has the same problem): a change within the same clock tick as the
 *   stat we keep could leave the times as they were on a kernel without fine-grained ones, so
 *   a directory changed less than RACY_MS before it was read is not kept;
 * - what the files cannot say: a running container (or one whose brig is mid-operation) is
 *   reconciled against /proc (its init, its monitor, the operation's owner). After LIVE_MS its
 *   snapshot is kept only if `stillLive` says the processes it was reconciled against are all
 *   still there (kill(pid, 0): one system call each, where the reconcile reads /proc and the
 *   monitor's files), and it is reconciled in full again after FULL_MS whatever they say. A
 *   monitor that dies without its exit record (SIGKILLed, with the container's init) shows at
 *   the next listing after LIVE_MS. A monitor that records the exit renames exit.json into the
 *   directory, which shows at once.
 *
 * The CLI lists once per process and does not use it.
 */
import { lstatSync } from 'node:fs';
import type { ContainerRecord } from './store.js';

const RACY_MS = 100;
const LIVE_MS = 1000;
const FULL_MS = 10_000;

/** What `peek` saw of a directory it has no good snapshot of: `load` keeps the new one under it. */
export class Miss {
  constructor(
    readonly key: DirKey,
    readonly now: number,
  ) {}
}

/** What says a directory is unchanged: its inode, times and link count (compared as numbers: no string for each). */
interface DirKey {
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  nlink: number;
}

const sameKey = (a: DirKey, b: DirKey) => a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.nlink === b.nlink;

interface Snapshot {
  key: DirKey;
  /** A copy made for this snapshot: its identity names the snapshot (see memo). */
  record: ContainerRecord;
  /** When its processes were last seen (ms); undefined: settled, nothing outside the directory matters. */
  liveAt: number | undefined;
  /** When it was reconciled in full (ms). */
  loadedAt: number;
}

export class ListingCache {
  private readonly snapshots = new Map<string, Snapshot>();
  /**
   * Other things read from a snapshot's directory after its stat (its network state), by the
   * snapshot's record: valid exactly as long as the snapshot, since the record is a new object
   * whenever the snapshot is made again.
   */
  private readonly memos = new WeakMap<ContainerRecord, Map<string, unknown>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The record for `dir`: the kept one while the directory is unchanged (and, for a live one,
   * fresh), else `load()`'s, kept when it is safe to. undefined: no directory, or load's.
   */
  async get(
    dir: string,
    load: () => Promise<ContainerRecord | undefined>,
    live: (r: ContainerRecord) => boolean,
    stillLive: (r: ContainerRecord) => boolean = () => false,
  ): Promise<ContainerRecord | undefined> {
    const seen = this.peek(dir, stillLive);
    return seen instanceof Miss ? this.load(dir, seen, load, live) : (seen ?? undefined);
  }

  /**
   * get's first half, without a promise (a listing of 100 kept containers pays no await for
   * each): the kept record, null when there is no directory, or a Miss to hand to `load`.
   */
  peek(dir: string, stillLive: (r: ContainerRecord) => boolean = () => false): ContainerRecord | null | Miss {
    // Times in ms (a double: microseconds survive) are enough: a kept snapshot's directory
    // changed at least RACY_MS before, so any later change moves them. Not bigint: its stat
    // costs a third more, and this is one stat per container per listing. lstat: a container
    // directory is never a link, and Node's lstatSync costs a third less than its statSync.
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      this.snapshots.delete(dir);
      return null;
    }
    const key: DirKey = { ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, nlink: st.nlink };
    const now = this.now();
    const hit = this.snapshots.get(dir);
    if (hit && sameKey(hit.key, key)) {
      if (hit.liveAt === undefined || now - hit.liveAt < LIVE_MS) return hit.record;
      if (now - hit.loadedAt < FULL_MS && stillLive(hit.record)) {
        hit.liveAt = now;
        return hit.record;
      }
    }
    return new Miss(key, now);
  }

  /** get's second half: `load()`'s record for a directory `peek` missed, kept when it is safe to. */
  async load(dir: string, miss: Miss, load: () => Promise<ContainerRecord | undefined>, live: (r: ContainerRecord) => boolean): Promise<ContainerRecord | undefined> {
    const loaded = await load();
    if (!loaded || miss.now - miss.key.ctimeMs < RACY_MS) {
      this.snapshots.delete(dir);
      return loaded;
    }
    const record = { ...loaded };
    this.snapshots.set(dir, { key: miss.key, record, liveAt: live(record) ? miss.now : undefined, loadedAt: miss.now });
    this.memos.set(record, new Map());
    return record;
  }

  /** The memo of the snapshot `r` came from (undefined: not a kept one, read afresh). */
  memo(r: ContainerRecord): Map<string, unknown> | undefined {
    return this.memos.get(r);
  }

  /** Forgets every directory not in `keep`. */
  retain(keep: Set<string>): void {
    for (const d of this.snapshots.keys()) if (!keep.has(d)) this.snapshots.delete(d);
  }
}
