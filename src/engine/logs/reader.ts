/**
 * Reading a container's log across its files, as docker's loggerutils.LogFile.ReadLogs does:
 *
 *  1. Take the set of files (files.ts): rotated ones oldest first, then the current one.
 *  2. `--tail N`: from the newest file back, only as many files as hold N records, and of a
 *     plain file only its end (format.tail); a gzipped one is inflated as a stream keeping
 *     its last records. Without --tail every file is read in order; with --since a gzipped
 *     file whose header says its last record is older is skipped without inflating it.
 *  3. Records then pass docker's forwarder: before --since they are skipped until the first
 *     one at or after it (later ones pass whatever their time, as times need not be
 *     monotonic), and the first one after --until ends the read, following included.
 *  4. `-f`: the current file is read on from where step 2 ended. At its end, if the path
 *     names another file now, the monitor rotated: what is left of the old file is read,
 *     then the files rotated after it (found again by inode, or, once gzipped, by the
 *     header's lastTime and the trailer's size; when it is gone altogether, the kept files
 *     whose last record is newer than its last one), then the new current file — so a
 *     reader that falls behind by several rotations still misses nothing that is kept.
 *     (docker skips such files with a warning.) Following ends once the container is not
 *     running and its file is drained.
 *
 * Partial records (pieces of a line longer than 16 KiB) come back one by one, as docker
 * returns them.
 */
import type { FileHandle } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { BrigError, hasErrno } from '../../errors/index.js';
import { type GzipFile, type LogFileRef, type LogFileSet, openLogFiles } from './files.js';
import type { LogEntry, LogFormat } from './format.js';
import type { LogLine } from './line.js';

export interface LogSource {
  format: LogFormat;
  /** The current file; rotated ones are path.1 ... path.(maxFiles-1), each maybe .gz. */
  path: string;
  maxFiles: number;
}

export interface ReadLogOptions {
  /** The last N records; 0: none (with follow, only new ones); absent or negative: all. */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  until?: number;
  follow?: boolean;
  /** Follow goes on while this says the container runs. */
  running?: () => Promise<boolean>;
  signal?: AbortSignal;
  /** How often follow looks for more (ms). */
  pollMs?: number;
}

const CHUNK = 256 * 1024;

/** Whole records of a plain file, read on from an offset; what follows the last whole one waits. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  constructor(
    readonly file: FileHandle,
    private readonly format: LogFormat,
    private at: number,
  ) {}

  /** The next whole records before `to`; [] at the end of what is there; 'corrupt' when the rest cannot be read. */
  async more(to = Number.POSITIVE_INFINITY): Promise<Buffer[] | 'corrupt'> {
    for (;;) {
      const want = Math.min(CHUNK, to - this.at);
      if (want <= 0) return [];
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.file.read(chunk, 0, want, this.at);
      if (bytesRead === 0) return [];
      this.at += bytesRead;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const { records, used, corrupt } = this.format.split(this.buf);
      this.buf = this.buf.subarray(used);
      if (corrupt) return 'corrupt';
      if (records.length) return records;
    }
  }

  /** Where the whole records read so far end. */
  get consumed(): number {
    return this.at - this.buf.length;
  }
}

/** docker's forwarder: --since until the first record at or after it, --until ends it all. */
class Forwarder {
  private since: bigint | undefined;
  private readonly until: bigint | undefined;

  constructor(since?: number, until?: number) {
    // Unix seconds as a double keep about a quarter microsecond: compare at whole microseconds,
    // so a time copied from `logs -t` selects its own record.
    this.since = since === undefined ? undefined : BigInt(Math.floor(since * 1e6)) * 1000n;
    this.until = until === undefined ? undefined : BigInt(Math.ceil(until * 1e6)) * 1000n;
  }

  judge(ns: bigint): 'emit' | 'skip' | 'stop' {
    if (this.since !== undefined) {
      if (ns < this.since) return 'skip';
      this.since = undefined;
    }
    return this.until !== undefined && ns > this.until ? 'stop' : 'emit';
  }

  /** docker skips a gzipped file whose last record is before --since without inflating it. */
  skips(f: GzipFile): boolean {
    return this.since !== undefined && f.lastTime !== undefined && f.lastTime !== 0n && f.lastTime < this.since;
  }
}

async function* gzipRecords(f: GzipFile, format: LogFormat): AsyncGenerator<Buffer> {
  const stream = f.file.createReadStream({ start: 0, autoClose: false }).pipe(createGunzip());
  let buf: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const { records, used, corrupt } = format.split(buf);
      yield* records;
      buf = buf.subarray(used);
      if (corrupt) return;
    }
  } catch (e) {
    throw new BrigError('STATE_CORRUPT', `log file ${f.name} does not inflate: ${(e as Error).message}`, { path: f.name, cause: e });
  } finally {
    stream.destroy();
  }
}

async function* rangeRecords(c: Cursor, to: number): AsyncGenerator<Buffer> {
  for (let r = await c.more(to); r !== 'corrupt' && r.length; r = await c.more(to)) yield* r;
}

/** The last `n` records of a gzipped file (it has to be inflated from the start). */
async function gzipTail(f: GzipFile, format: LogFormat, n: number): Promise<Buffer[]> {
  const ring: Buffer[] = [];
  let next = 0;
  for await (const r of gzipRecords(f, format)) {
    ring[next] = Buffer.from(r);
    next = (next + 1) % n;
  }
  return ring.length < n ? ring : [...ring.slice(next), ...ring.slice(0, next)];
}

type Part = AsyncIterable<Buffer> | Buffer[];

/** The file that was rotated away from `path`, found among a later set's rotated files. */
function isFile(f: LogFileRef, old: { ino: number; size: number; last: bigint | undefined }): boolean {
  if (f.kind === 'plain') return f.ino === old.ino;
  return f.isize === old.size % 2 ** 32 && f.lastTime !== undefined && (f.lastTime === 0n || f.lastTime === old.last);
}

/** The time of the last whole record in [0, size) of a plain file. */
async function lastTime(file: FileHandle, size: number, format: LogFormat): Promise<bigint | undefined> {
  const end = await format.tail(file, size, 1);
  const rec = end.found ? await new Cursor(file, format, end.start).more(end.end) : [];
  return Array.isArray(rec) && rec[0] ? format.decode(rec[0])?.ns : undefined;
}

/**
 * The old file is gone altogether (rotated away while the reader was behind): the rotated
 * files whose last record is newer than its last one are what came after it and is kept.
 */
async function newerThan(files: LogFileRef[], format: LogFormat, last: bigint | undefined): Promise<LogFileRef[]> {
  if (last === undefined) return [];
  const out: LogFileRef[] = [];
  for (const f of files) {
    const t = f.kind === 'gzip' ? f.lastTime : await lastTime(f.file, f.size, format);
    if (t !== undefined && t > last) out.push(f);
  }
  return out;
}

export async function* readLogs(src: LogSource, opts: ReadLogOptions = {}): AsyncGenerator<LogLine> {
  const { format } = src;
  const fwd = new Forwarder(opts.since, opts.until);
  let set: LogFileSet = await openLogFiles(src.path, src.maxFiles);
  try {
    // 1-2. What to read before following, oldest first.
    const parts: Part[] = [];
    const cur = set.current;
    let cursor = cur ? new Cursor(cur.file, format, 0) : undefined;
    let curEnd = cur?.size ?? 0;
    const tail = opts.tail ?? -1;
    if (tail < 0) {
      for (const f of set.rotated) {
        if (f.kind === 'gzip') {
          if (!fwd.skips(f)) parts.push(gzipRecords(f, format));
        } else parts.push(rangeRecords(new Cursor(f.file, format, 0), f.size));
      }
      if (cursor) parts.push(rangeRecords(cursor, curEnd));
    } else {
      let need = tail;
      if (cur) {
        const t = await format.tail(cur.file, cur.size, Math.max(need, 1));
        cursor = new Cursor(cur.file, format, need > 0 ? t.start : t.end);
        curEnd = t.end;
        if (need > 0) parts.unshift(rangeRecords(cursor, curEnd));
        need -= need > 0 ? t.found : 0;
      }
      for (let i = set.rotated.length - 1; i >= 0 && need > 0; i--) {
        const f = set.rotated[i]!;
        if (f.kind === 'gzip') {
          if (fwd.skips(f)) continue;
          const kept = await gzipTail(f, format, need);
          parts.unshift(kept);
          need -= kept.length;
        } else {
          const t = await format.tail(f.file, f.size, need);
          parts.unshift(rangeRecords(new Cursor(f.file, format, t.start), t.end));
          need -= t.found;
        }
      }
    }

    // 3.
    let last: LogEntry | undefined;
    const pass = function* (records: Iterable<Buffer>): Generator<LogLine, boolean> {
      for (const r of records) {
        const e = format.decode(r);
        if (!e) continue;
        last = e;
        const v = fwd.judge(e.ns);
        if (v === 'stop') return false;
        if (v === 'emit') yield e.line;
      }
      return true;
    };
    const passAll = async function* (p: Part): AsyncGenerator<LogLine, boolean> {
      if (Array.isArray(p)) return yield* pass(p);
      for await (const r of p) if (!(yield* pass([r]))) return false;
      return true;
    };
    for (const p of parts) if (!(yield* passAll(p))) return;
    if (!opts.follow) return;

    // 4.
    let stopping = false;
    let ino = cur?.ino ?? -1;
    for (;;) {
      if (!cursor) {
        const again = await openLogFiles(src.path, src.maxFiles);
        if (again.current) {
          await set.close();
          set = again;
          cursor = new Cursor(again.current.file, format, 0);
          ino = again.current.ino;
        } else await again.close();
      }
      const got = cursor ? await cursor.more() : [];
      if (got === 'corrupt') return;
      if (got.length) {
        if (!(yield* pass(got))) return;
        continue;
      }
      const now = await stat(src.path).catch((e: unknown) => {
        if (hasErrno(e, 'ENOENT')) return undefined;
        throw e;
      });
      if (cursor && now?.ino !== ino) {
        // Rotated: the old file is complete now; read its rest, then what came after it.
        for (let r = await cursor.more(); r !== 'corrupt' && r.length; r = await cursor.more()) if (!(yield* pass(r))) return;
        const size = cursor.consumed;
        const lastNs = (await lastTime(cursor.file, size, format)) ?? last?.ns;
        const next = await openLogFiles(src.path, src.maxFiles);
        const at = next.rotated.findIndex((f) => isFile(f, { ino, size, last: lastNs }));
        for (const f of at >= 0 ? next.rotated.slice(at + 1) : await newerThan(next.rotated, format, lastNs)) {
          const records = f.kind === 'gzip' ? gzipRecords(f, format) : rangeRecords(new Cursor(f.file, format, 0), f.size);
          if (!(yield* passAll(records))) {
            await next.close();
            return;
          }
        }
        await set.close();
        set = next;
        cursor = next.current ? new Cursor(next.current.file, format, 0) : undefined;
        ino = next.current?.ino ?? -1;
        continue;
      }
      if (stopping) return;
      // The monitor writes its exit record after the last of the log: once the container is
      // not running, one more pass drains the file.
      if (!(await (opts.running ?? (async () => false))())) {
        stopping = true;
        continue;
      }
      try {
        await sleep(opts.pollMs ?? 50, undefined, opts.signal ? { signal: opts.signal } : {});
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        throw e;
      }
    }
  } finally {
    await set.close();
  }
}
