/**
 * The event log as a file: `<dir>/events.jsonl`, and `events.jsonl.1` once it has rotated
 * (the model: log.ts).
 *
 * Rotation, and why it is safe with appenders and followers that never coordinate:
 *
 *  - An appender opens the path with O_APPEND|O_CREAT, writes its line in one write(2),
 *    fstats the fd and closes it. Only if that file is past `maxSize` does it try to rotate.
 *  - Rotating takes `rotate.lock` (created with O_EXCL, holding the owner's pid and start
 *    time; one whose owner is dead is taken over) without waiting: if another process holds
 *    it, that one is rotating. Under the lock it renames the path to `.1` only if the path
 *    still names the very file it appended to (same inode) and that file is still past the
 *    limit. So two appenders that both saw a big file rotate it once: the second finds a new
 *    inode at the path and leaves it (renaming that one would replace the real `.1`).
 *  - rename(2) is atomic: every appender opens either the old file or, once it is gone from
 *    the path, a new one its O_CREAT makes. None waits and no line is lost. An appender that
 *    opened the old file just before the rename writes its line there, after the rename:
 *    the line is whole, at the end of `.1`.
 *  - A follower reads by file descriptor, not by path. When the path names another inode it
 *    drains the old file, reads `.1` too if that is a file it never saw (one that came and
 *    rotated between two looks), goes on to the new one from its start, and keeps reading
 *    the last old one until the next rotation, so the late lines just described reach it.
 *    A follower that falls behind by more than two files (16 MiB) misses what was removed.
 *  - Monitors (native/monitor/events.c) append the same way but never rotate: the next
 *    brig process that appends does. Every container start goes through one, so the file
 *    cannot grow far past the limit.
 *
 * What it does not promise: an appender suspended across two whole rotations (16 MiB of
 * events) between its open and its write would write into a file already unlinked.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, watch, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno } from '../../errors/index.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../../util/owner.js';
import type { EventLog, EventQuery } from './log.js';
import { encodeEvent, type EventMessage, type NewEvent, parseEventLine, stamp } from './message.js';

/** docker keeps the last 1,000 events in memory; brig keeps up to two files of this size. */
export const DEFAULT_MAX_SIZE = 8 << 20;

export interface FileEventLogOptions {
  /** The log's directory (`<data root>/events`), made 0700 when first needed. */
  dir: string;
  /** Rotate past this many bytes. */
  maxSize?: number;
  /** Unix nanoseconds now. */
  now?: () => bigint;
  /** What to do with an append that failed (the work it reports has been done: nothing to undo). */
  onError?: (e: unknown) => void;
  /** How often a follower looks for more when no change notice came (ms). */
  pollMs?: number;
}

/** Unix nanoseconds from the wall clock at start plus a monotonic count (Date has only ms). */
export function wallClockNanos(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => base + process.hrtime.bigint();
}

// (libuv opens every file close-on-exec.)
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

export class FileEventLog implements EventLog {
  readonly path: string;
  private readonly maxSize: number;
  private readonly now: () => bigint;
  private madeDir = false;

  constructor(private readonly opts: FileEventLogOptions) {
    this.path = path.join(opts.dir, 'events.jsonl');
    this.maxSize = opts.maxSize ?? DEFAULT_MAX_SIZE;
    this.now = opts.now ?? wallClockNanos();
  }

  private ensureDir(): void {
    if (this.madeDir) return;
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    this.madeDir = true;
  }

  monitorPath(): string {
    this.ensureDir();
    return this.path;
  }

  append(e: NewEvent): void {
    try {
      const line = Buffer.from(encodeEvent(stamp(e, this.now())));
      this.ensureDir();
      const fd = openSync(this.path, APPEND_FLAGS, 0o600);
      let st;
      try {
        // fs.writeSync is one write(2): the line lands whole or (on a full disk) not at all.
        writeSync(fd, line);
        st = fstatSync(fd);
      } finally {
        closeSync(fd);
      }
      if (st.size > this.maxSize) this.rotate(st.ino);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  /** Renames the file to `.1` if it is still the one appended to (inode `ino`) and still too big; see the top of this file. */
  private rotate(ino: number): void {
    const lock = path.join(this.opts.dir, 'rotate.lock');
    if (!tryLock(lock)) return;
    try {
      const st = statSync(this.path, { throwIfNoEntry: false });
      if (st !== undefined && st.ino === ino && st.size > this.maxSize) renameSync(this.path, `${this.path}.1`);
    } finally {
      rmSync(lock, { force: true });
    }
  }

  async *read(q: EventQuery): AsyncGenerator<EventMessage> {
    this.ensureDir();
    const wanted = (m: EventMessage) => (q.since === undefined || m.timeNano >= q.since) && (q.until === undefined || m.timeNano <= q.until);
    const follow = q.until === undefined || q.until > this.now();
    // The current file first: a rotation after this is then seen as one, by inode.
    let cur = await Tail.open(this.path);
    let prev: Tail | undefined;
    const wake = follow ? new Wake(this.opts.dir, this.opts.pollMs ?? 250) : undefined;
    try {
      if (q.since !== undefined) {
        const old = await Tail.open(`${this.path}.1`);
        // The same inode: it rotated between the two opens, and `cur` is that file.
        if (old !== undefined && old.ino !== cur?.ino) {
          for (const m of await old.events()) if (wanted(m)) yield m;
        }
        await old?.close();
      } else if (cur !== undefined) {
        await cur.skipToEnd(); // docker: without --since, only what happens from now
      }
      for (;;) {
        if (cur !== undefined) for (const m of await cur.events()) if (wanted(m)) yield m;
        if (!wake || q.signal?.aborted || (q.until !== undefined && this.now() > q.until)) return;
        const st = statSync(this.path, { throwIfNoEntry: false });
        if (st !== undefined && st.ino !== cur?.ino) {
          // Rotated (or made anew): what is left of the old file, then the new one from its start.
          if (cur !== undefined) for (const m of await cur.events()) if (wanted(m)) yield m;
          await prev?.close();
          prev = cur;
          // A `.1` that is neither is a whole file that came and rotated while we looked away.
          const between = cur === undefined ? undefined : await Tail.open(`${this.path}.1`);
          if (between !== undefined && between.ino !== cur?.ino) {
            for (const m of await between.events()) if (wanted(m)) yield m;
            await prev?.close();
            prev = between;
          } else await between?.close();
          cur = await Tail.open(this.path);
          continue;
        }
        const ms = q.until === undefined ? undefined : Number((q.until - this.now()) / 1_000_000n) + 1;
        await wake.wait(ms, q.signal);
        if (prev !== undefined) for (const m of await prev.events()) if (wanted(m)) yield m;
      }
    } finally {
      wake?.close();
      await prev?.close();
      await cur?.close();
    }
  }
}

/** Takes the lock file at `file` unless someone alive holds it; never waits. */
function tryLock(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, formatOwner(currentOwner()));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) throw e;
    }
    let text: string;
    try {
      text = readFileSync(file).toString('utf8');
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) continue; // released meanwhile
      throw e;
    }
    const owner = parseOwner(text);
    // No owner written yet: its taker is between open and write, unless it died there long ago.
    const held = owner !== undefined ? ownerAlive(owner) : Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000;
    if (held) return false;
    // Stale: renamed away first, so two processes taking it over do not both delete a fresh lock.
    const stale = `${file}.stale.${process.pid}`;
    try {
      renameSync(file, stale);
      rmSync(stale, { force: true });
    } catch (e) {
      if (!hasErrno(e, 'ENOENT')) throw e;
    }
  }
  return false;
}

/** One file read on by descriptor: whole lines, what follows the last newline kept for later. */
class Tail {
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly fh: FileHandle,
    readonly ino: number,
  ) {}

  static async open(file: string): Promise<Tail | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    return new Tail(fh, (await fh.stat()).ino);
  }

  async skipToEnd(): Promise<void> {
    this.pos = (await this.fh.stat()).size;
  }

  /** Read into, again and again: a follower polls (every 250 ms), mostly to find nothing new. */
  private chunk: Buffer | undefined;

  /** The events in what was appended since the last call. */
  async events(): Promise<EventMessage[]> {
    const out: EventMessage[] = [];
    // One buffer for the tail's life: a fresh zeroed 256 KiB one per poll was most of brig
    // serve's garbage when idle (its --rm reaper follows the log), and its GC pauses landed
    // in requests.
    const chunk = (this.chunk ??= Buffer.allocUnsafe(64 * 1024));
    for (;;) {
      const { bytesRead } = await this.fh.read(chunk, 0, chunk.length, this.pos);
      if (bytesRead === 0) return out;
      this.pos += bytesRead;
      const data = Buffer.concat([this.rest, chunk.subarray(0, bytesRead)]);
      const end = data.lastIndexOf(0x0a);
      this.rest = end < 0 ? data : data.subarray(end + 1);
      if (end < 0) continue;
      for (const line of data.subarray(0, end).toString('utf8').split('\n')) {
        const m = line === '' ? undefined : parseEventLine(line);
        if (m) out.push(m);
      }
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Resolves a wait early when the directory changes (inotify), else after the poll interval. */
class Wake {
  private readonly watcher: ReturnType<typeof watch> | undefined;
  private pending: (() => void) | undefined;
  private changed = false;

  constructor(
    dir: string,
    private readonly pollMs: number,
  ) {
    const poke = () => {
      this.changed = true;
      this.pending?.();
    };
    try {
      this.watcher = watch(dir, { persistent: true }, poke);
      this.watcher.on('error', () => undefined); // polling goes on
    } catch {
      this.watcher = undefined; // no inotify left: polling alone
    }
  }

  wait(maxMs: number | undefined, signal?: AbortSignal): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.pending = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(this.pollMs, maxMs ?? this.pollMs)));
      signal?.addEventListener('abort', done, { once: true });
      this.pending = done;
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
