/**
 * The files of one container log at a moment: the current file and the rotated ones,
 * oldest first, each opened so that later renames cannot change what is read.
 *
 * The monitor rotates by renames (name.(N-2) → name.(N-1), ..., name → name.1, a new name)
 * and, with compression, later turns name.1 into name.1.gz and removes name.1 once the .gz
 * is whole; so name.i is tried first, then name.i.gz (as docker's reader does), and at any
 * moment one whole copy exists. A rotation while the set is being opened would show the same
 * file twice or skip one: the set is taken again until the current file's identity is the
 * same before and after.
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
  const size = (await file.stat()).size;
  const tail = Buffer.alloc(4);
  if (size >= 18) await file.read(tail, 0, 4, size - 4);
  return { kind: 'gzip', name, file, lastTime, isize: tail.readUInt32LE(0) };
}

export async function openLogFiles(path: string, maxFiles: number): Promise<LogFileSet> {
  for (let attempt = 0; ; attempt++) {
    const handles: FileHandle[] = [];
    const close = async () => {
      await Promise.all(handles.map((h) => h.close()));
    };
    try {
      const cur = await openIfThere(path);
      if (cur) handles.push(cur);
      const current = cur ? await plain(path, cur) : undefined;
      const rotated: LogFileRef[] = [];
      for (let i = maxFiles - 1; i >= 1; i--) {
        const name = `${path}.${i}`;
        const p = await openIfThere(name);
        if (p) {
          handles.push(p);
          rotated.push(await plain(name, p));
          continue;
        }
        const z = await openIfThere(`${name}.gz`);
        if (z) {
          handles.push(z);
          rotated.push(await gzip(`${name}.gz`, z));
        }
      }
      const now = await stat(path).catch((e: unknown) => {
        if (hasErrno(e, 'ENOENT')) return undefined;
        throw e;
      });
      if ((now?.ino ?? -1) === (current?.ino ?? -1) || attempt >= 20) return { current, rotated, close };
    } catch (e) {
      await close();
      throw e;
    }
    await close();
  }
}
