/**
 * cgroupfs I/O. Every read and write goes through here so every failure names the
 * controller, the file and the data written (youki wraps its cgroup I/O the same way).
 *
 * Writes are one write(2) on an O_WRONLY|O_TRUNC descriptor, never O_CREAT: the kernel acts
 * on each write separately (devices.allow, io.max take one line per write), and a file that
 * is missing means the kernel lacks the feature — creating it would hide that.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { fsPromises } from '../../util/builtins.js';
import { readTextSync } from '../../util/read-text.js';

/** The filesystem operations the managers need; tests substitute a fake that acts like cgroupfs. */
export interface CgroupFs {
  readFile(path: string): Promise<string>;
  /** One write(2) of `data`, without creating the file. */
  writeFile(path: string, data: string): Promise<void>;
  /** Non-recursive mkdir; rejects with EEXIST when present. */
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Names of the sub-directories (child cgroups) of `path`. */
  subdirs(path: string): Promise<string[]>;
  /** Names of the files (knobs) in `path`. */
  files(path: string): Promise<string[]>;
}

const MOVES_PROCESSES = /\/(cgroup\.procs|cgroup\.threads|tasks)$/;

/**
 * The real cgroupfs, with synchronous syscalls behind the async interface: every cgroupfs
 * call is a short in-kernel operation, and a trip through libuv's thread pool per knob cost
 * more than the call itself (10+ ms over a container start). The exception is moving a
 * process: the first cgroup.procs write after a quiet spell waits for an RCU grace period
 * (cgroup_threadgroup_rwsem, 5-15 ms here), so it goes to the thread pool rather than
 * stall the event loop. (Container starts avoid it: see CgroupManager.selfJoin.)
 */
export const nodeCgroupFs: CgroupFs = {
  readFile: async (path) => readTextSync(path),
  async writeFile(path, data) {
    if (MOVES_PROCESSES.test(path)) {
      const fh = await fsPromises().open(path, constants.O_WRONLY | constants.O_TRUNC);
      try {
        await fh.write(data);
      } finally {
        await fh.close();
      }
      return;
    }
    const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
  },
  mkdir: async (path) => mkdirSync(path),
  rmdir: async (path) => rmdirSync(path),
  async exists(path) {
    try {
      accessSync(path);
      return true;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return false;
      throw e;
    }
  },
  async subdirs(path) {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  },
  async files(path) {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => e.name);
  },
};

/** Called with every successful write; the runtime logs them under --debug, tests record them. */
export type WriteObserver = (path: string, data: string) => void;

function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** Maximum for values the kernel prints as "max" (v2) — reported the way runc does, as 2^64-1. */
export const UNLIMITED = 2 ** 64 - 1;

/** One controller's directory of one cgroup. */
export class ControllerDir {
  constructor(
    readonly controller: string,
    readonly dir: string,
    readonly fs: CgroupFs = nodeCgroupFs,
    readonly onWrite?: WriteObserver,
  ) {}

  path(file: string): string {
    return join(this.dir, file);
  }

  async write(file: string, data: string | number): Promise<void> {
    const path = this.path(file);
    const text = String(data);
    try {
      await this.fs.writeFile(path, text);
    } catch (e) {
      throw this.writeError(file, text, e);
    }
    this.onWrite?.(path, text);
  }

  writeError(file: string, text: string, e: unknown): BrigError {
    const path = this.path(file);
    const what = `${this.controller}: cannot write ${JSON.stringify(text)} to ${path}`;
    if (hasErrno(e, 'ENOENT')) {
      return new BrigError('CGROUP_UNSUPPORTED', `${what}: the file does not exist`, {
        path,
        cause: e,
        hint: `this kernel or cgroup does not offer ${file}; remove the setting or enable the ${this.controller} controller`,
      });
    }
    if (hasErrno(e, 'EINVAL') || hasErrno(e, 'ERANGE')) {
      return new BrigError('CGROUP_INVALID', `${what}: the kernel rejected the value (${errnoOf(e)})`, {
        path,
        cause: e,
      });
    }
    return new BrigError('CGROUP_IO', `${what}: ${errnoOf(e)}`, { path, cause: e });
  }

  async read(file: string): Promise<string> {
    const path = this.path(file);
    try {
      return await this.fs.readFile(path);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) {
        throw new BrigError(
          'CGROUP_UNSUPPORTED',
          `${this.controller}: cannot read ${path}: the file does not exist`,
          {
            path,
            cause: e,
          },
        );
      }
      throw new BrigError('CGROUP_IO', `${this.controller}: cannot read ${path}: ${errnoOf(e)}`, {
        path,
        cause: e,
      });
    }
  }

  /** The content, or undefined when the kernel does not have the file. */
  async readOptional(file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(this.path(file));
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return undefined;
      throw new BrigError('CGROUP_IO', `${this.controller}: cannot read ${this.path(file)}: ${errnoOf(e)}`, {
        path: this.path(file),
        cause: e,
      });
    }
  }

  /** Files of this directory matching `re`, for per-page-size and per-device knobs. */
  async list(re: RegExp): Promise<string[]> {
    try {
      return (await this.fs.files(this.dir)).filter((f) => re.test(f)).sort();
    } catch (e) {
      throw new BrigError('CGROUP_IO', `${this.controller}: cannot list ${this.dir}: ${errnoOf(e)}`, {
        path: this.dir,
        cause: e,
      });
    }
  }

  exists(file: string): Promise<boolean> {
    return this.fs.exists(this.path(file));
  }

  /** A single number; "max" reads as UNLIMITED. Undefined when the file is missing. */
  async readNumber(file: string): Promise<number | undefined> {
    const text = await this.readOptional(file);
    return text === undefined ? undefined : parseValue(text.trim());
  }

  /** "key value" lines (memory.stat, cpu.stat, memory.events) as a map. Empty when missing. */
  async readKeyed(file: string): Promise<Record<string, number>> {
    const text = await this.readOptional(file);
    return text === undefined ? {} : parseKeyed(text);
  }
}

export function parseValue(text: string): number {
  if (text === 'max') return UNLIMITED;
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

export function parseKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = parseValue(value);
  }
  return out;
}
