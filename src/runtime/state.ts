/**
 * The on-disk state of containers: <root>/<id>/state.json, written atomically (temp file
 * + rename), created exclusively (mkdir fails if the id exists).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import type { State } from './spec/types.js';

/** What brig records; `status` on disk is the last one set by brig, not the live one. */
export interface StoredState {
  ociVersion: string;
  id: string;
  status: State['status'];
  pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is not mistaken for init. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_+.-]{0,1023}$/;

export function checkId(id: string): string {
  if (!ID_RE.test(id) || id === '.' || id === '..') {
    throw new BrigError(
      'INVALID_ID',
      `invalid container id "${id}": use letters, digits, "_", "+", "-" and "." (not first), at most 1024`,
      {
        field: 'id',
      },
    );
  }
  return id;
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, checkId(id));
  }

  /** Claims the id; throws CONTAINER_EXISTS if it is taken. */
  async create(id: string): Promise<string> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if (hasErrno(e, 'EEXIST'))
        throw new BrigError('CONTAINER_EXISTS', `container "${id}" already exists`, {
          hint: `remove it with \`delete ${id}\``,
        });
      throw e;
    }
    return dir;
  }

  async write(s: StoredState): Promise<void> {
    const file = path.join(this.dir(s.id), 'state.json');
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(s), { mode: 0o600 });
    await rename(tmp, file);
  }

  async read(id: string): Promise<StoredState> {
    const file = path.join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (hasErrno(e, 'ENOENT'))
        throw new BrigError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`, { path: file });
      throw e;
    }
    try {
      return JSON.parse(text) as StoredState;
    } catch (e) {
      throw new BrigError('STATE_CORRUPT', `state of container "${id}" is unreadable`, {
        path: file,
        cause: e,
      });
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter((n) => ID_RE.test(n));
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return [];
      throw e;
    }
  }
}
