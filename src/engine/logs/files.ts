/**
 * The files of one container log at a moment: the current file and the rotated ones,
 * oldest first, each opened so that later renames cannot change what is read.
 *
 * The monitor rotates by renames (name.(N-2) → name.(N-1), ..., name → name.1, a new name)
 * and, with compression, later turns name.1 into name.1.gz and removes name.1 once the .gz
 * is whole; so name.i is tried first, then name.i.gz (as docker's reader does), and at any
 * moment one whole copy exists. A rotation while the set is being opened would show the same
 * file twice or skip one (the monitor renames oldest first, the current file last): the set
 * is taken again until every file it holds is still at its name.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { hasErrno } from '../../errors/index.js';
import { timeNs } from './line.js';

export interface PlainFile {
  kind: 'plain';
  name: string;
  file: FileHandle;
  ino: number;
  size: number;
}

export interface GzipFile {
  kind: 'gzip';
  name: string;
  file: FileHandle;
  ino: number;
  /** The header's lastTime (docker's rotateFileMetadata): the time of the file's last record; 0n when unset. */
  lastTime: bigint | undefined;
  /** The trailer's ISIZE: the uncompressed size modulo 2^32. */
  isize: number;
}

export type LogFileRef = PlainFile | GzipFile;

export interface LogFileSet {
  /** Absent until the monitor has created it (a container never started). */
  current: PlainFile | undefined;
  /** Oldest first. */
  rotated: LogFileRef[];
  close(): Promise<void>;
}

async function openIfThere(name: string): Promise<FileHandle | undefined> {
  try {
    return await open(name, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

async function plain(name: string, file: FileHandle): Promise<PlainFile> {
  const st = await file.stat();
  return { kind: 'plain', name, file, ino: st.ino, size: st.size };
}

/** The gzip header's Extra field, as docker writes it: {"lastTime":"RFC3339Nano"}. */
async function gzip(name: string, file: FileHandle): Promise<GzipFile> {
  const head = Buffer.alloc(12);
  const { bytesRead } = await file.read(head, 0, 12, 0);
  let lastTime: bigint | undefined;
  if (bytesRead === 12 && head[0] === 0x1f && head[1] === 0x8b && (head[3]! & 0x04) !== 0) {
    const extra = Buffer.alloc(head.readUInt16LE(10));
    await file.read(extra, 0, extra.length, 12);
    try {
      const meta = JSON.parse(extra.toString('utf8')) as { lastTime?: unknown };
      if (typeof meta.lastTime === 'string') lastTime = meta.lastTime.startsWith('0001-01-01T00:00:00') ? 0n : timeNs(meta.lastTime);
    } catch {} // another writer's extra field: no lastTime, the file is always read
  }
  const { size, ino } = await file.stat();
  const tail = Buffer.alloc(4);
  if (size >= 18) await file.read(tail, 0, 4, size - 4);
  return { kind: 'gzip', name, file, ino, lastTime, isize: tail.readUInt32LE(0) };
}

async function inoAt(name: string): Promise<number> {
  try {
    return (await stat(name)).ino;
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return -1;
    throw e;
  }
}

async function openOne(name: string): Promise<LogFileRef | undefined> {
  const p = await openIfThere(name);
  if (p) return plain(name, p);
  const z = await openIfThere(`${name}.gz`);
  return z ? gzip(`${name}.gz`, z) : undefined;
}

export async function openLogFiles(path: string, maxFiles: number): Promise<LogFileSet> {
  const names = Array.from({ length: maxFiles - 1 }, (_, k) => `${path}.${maxFiles - 1 - k}`);
  for (let attempt = 0; ; attempt++) {
    // All at once: a follower that must catch up after a rotation should not pay a round of
    // file operations per kept file.
    const opened = await Promise.allSettled([openIfThere(path).then((h) => (h ? plain(path, h) : undefined)), ...names.map(openOne)]);
    const refs = opened.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    const close = async () => {
      await Promise.all(refs.map((f) => f?.file.close()));
    };
    const failed = opened.find((r) => r.status === 'rejected');
    if (failed) {
      await close();
      throw failed.reason;
    }
    const current = refs[0] as PlainFile | undefined;
    const rotated = refs.slice(1).filter((f): f is LogFileRef => f !== undefined);
    // The monitor renames the oldest files first and the current one last: every file still
    // at its name means no rotation ran while the set was taken.
    const still = await Promise.all([inoAt(path).then((ino) => ino === (current?.ino ?? -1)), ...rotated.map(async (f) => (await inoAt(f.name)) === f.ino)]);
    if (still.every(Boolean) || attempt >= 20) return { current, rotated, close };
    await close();
  }
}
