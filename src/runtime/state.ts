/**
 * The on-disk state of containers: <root>/<id>/state.json, written atomically (temp file
 * + rename), created exclusively (mkdir fails if the id exists). Synchronous on purpose:
 * a few tiny files on the start-up path, where thread-pool round trips cost more.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import type { CgroupState } from './cgroups/index.js';
import type { Op } from './plan/ops.js';
import type { Hooks, State } from './spec/types.js';
import { readTextSync } from '../util/read-text.js';

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
  /** How to reopen the container's cgroup (see cgroups/manager.ts). */
  cgroup?: CgroupState;
  /** Created with --no-new-keyring: exec keeps the caller's session keyring too. */
  noNewKeyring?: true;
  /** The hooks that run after create: poststart (start) and poststop (delete). */
  hooks?: Pick<Hooks, 'poststart' | 'poststop'>;
  /**
   * The ops init runs after `start` releases it (fifo_wait onward), from index `from`, so
   * `start` can word an error record init sends back. Bytes arguments (the seccomp program)
   * are left out.
   */
  startOps?: { from: number; ops: Op[] };
  /**
   * While "creating": the process making it (pid, /proc start time). One that is gone will
   * never finish: the container reads as stopped, for `delete` and for an engine's sweep.
   */
  creator?: { pid: number; start: string };
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
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (hasErrno(e, 'EEXIST'))
        throw new BrigError('CONTAINER_EXISTS', `container "${id}" already exists`, {
          hint: `remove it with \`delete ${id}\``,
        });
      throw e;
    }
    return dir;
  }

  /** Returns the text written (the launcher's fast plans compare state.json with it). */
  async write(s: StoredState): Promise<string> {
    const file = path.join(this.dir(s.id), 'state.json');
    // Unique enough for a temp name in a directory only this container's id owns (node:crypto
    // would cost milliseconds of start-up to load).
    const tmp = `${file}.${Math.random().toString(36).slice(2)}.tmp`;
    const text = JSON.stringify(s);
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    return text;
  }

  async read(id: string): Promise<StoredState> {
    const file = path.join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readTextSync(file);
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
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  async list(): Promise<string[]> {
    try {
      return readdirSync(this.root).filter((n) => ID_RE.test(n));
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return [];
      throw e;
    }
  }
}
