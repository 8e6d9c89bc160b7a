/**
 * What the v1 and v2 managers share: creating directories while remembering which were
 * ours, removing only those, waiting with a deadline, and the OOM poller.
 */
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { timersPromises } from '../../util/builtins.js';
import { type CgroupFs, ControllerDir, nodeCgroupFs } from './fs.js';
import type { CgroupManagerOptions, CgroupRemoval, CgroupState, OomEvent } from './manager.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Resolves true once `check` does, false at the deadline; rejects when `signal` aborts. */
export async function waitFor(
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; signal?: AbortSignal | undefined; stepMs?: number } = {},
): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxStep = opts.stepMs ?? 10;
  // Back off from 1 ms: a SIGKILLed task or a freezer settles within a millisecond or two,
  // and a fixed step would make every delete pay the whole step.
  for (let step = 1; ; step = Math.min(step * 2, maxStep)) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await timersPromises().setTimeout(step, undefined, { signal: opts.signal });
  }
}

/**
 * mkdir each missing component of `path` below `mount`, top-down. Returns the directories
 * created, in creation order; an existing component is left alone.
 */
export async function mkdirTracked(fs: CgroupFs, mount: string, path: string): Promise<string[]> {
  const created: string[] = [];
  let dir = mount;
  for (const part of path.split('/').filter(Boolean)) {
    dir = join(dir, part);
    try {
      await fs.mkdir(dir);
      created.push(dir);
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) {
        throw new BrigError(
          'CGROUP_IO',
          `cannot create cgroup ${dir}: ${(e as { code?: string }).code ?? e}`,
          {
            path: dir,
            cause: e,
            hint:
              hasErrno(e, 'EACCES') || hasErrno(e, 'EPERM')
                ? 'run as root or use a delegated cgroup'
                : undefined,
          },
        );
      }
    }
  }
  return created;
}

export abstract class BaseManager {
  readonly path: string;
  protected readonly dirs: Record<string, string>;
  protected created: string[];
  protected readonly fs: CgroupFs;
  protected readonly opts: CgroupManagerOptions;

  constructor(state: Omit<CgroupState, 'version'>, opts: CgroupManagerOptions) {
    this.path = state.path;
    this.dirs = { ...state.dirs };
    this.created = [...state.created];
    this.opts = opts;
    this.fs = opts.fs ?? nodeCgroupFs;
  }

  protected dir(controller: string, key = controller): ControllerDir {
    const d = this.dirs[key];
    if (d === undefined) throw new BrigError('INTERNAL', `no directory for ${key}`);
    return new ControllerDir(controller, d, this.fs, this.opts.onWrite);
  }

  protected warn(message: string): void {
    this.opts.warn?.(message);
  }

  /** Distinct directories (co-mounted v1 controllers share one). */
  protected distinctDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  /** Undo a failed apply: remove what it created, deepest first, keeping the first error. */
  protected async removeCreated(): Promise<void> {
    for (const dir of [...this.created].reverse()) {
      try {
        await this.fs.rmdir(dir);
      } catch (e) {
        if (!hasErrno(e, 'ENOENT')) throw e;
      }
    }
    this.created = [];
  }

  /**
   * The usual end: init and all it started are gone, and an rmdir of each of these
   * (the container's leaves) just works. True if all are gone; false leaves the rest to
   * the careful path (kill what is left, remove sub-cgroups, retry while EBUSY).
   */
  protected async removedIfEmpty(dirs: string[]): Promise<boolean> {
    return (await Promise.all(dirs.map((dir) => this.rmdirIfEmpty(dir)))).every(Boolean);
  }

  /**
   * One rmdir: true when the cgroup is gone (or was), false while it holds tasks or child
   * cgroups (EBUSY; ENOTEMPTY on some kernels). Any other error is thrown.
   */
  private async rmdirIfEmpty(dir: string): Promise<boolean> {
    try {
      await this.fs.rmdir(dir);
      return true;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return true;
      if (hasErrno(e, 'EBUSY') || hasErrno(e, 'ENOTEMPTY')) return false;
      throw e;
    }
  }

  /** Read cgroup.procs of `dir` and every child cgroup below it. */
  protected async procsBelow(dir: string): Promise<number[]> {
    let text: string;
    try {
      text = await this.fs.readFile(join(dir, 'cgroup.procs'));
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out = text.split('\n').filter(Boolean).map(Number);
    for (const child of await this.fs.subdirs(dir).catch(() => []))
      out.push(...(await this.procsBelow(join(dir, child))));
    return out;
  }

  /** The container's own directories that `destroy` removes (those it created). */
  protected abstract ownLeaves(): string[];

  removal(): CgroupRemoval {
    const leaves = new Set(Object.values(this.dirs));
    return {
      leaves: this.ownLeaves(),
      parents: this.chains().map((c) => c.filter((d) => !leaves.has(d))).filter((c) => c.length > 0),
    };
  }

  /**
   * The created directories grouped by hierarchy, each deepest first. A created directory's
   * children are either created too (so earlier in its chain, so gone first) or the
   * container's own, which removeTree takes first.
   */
  private chains(): string[][] {
    const chains: string[][] = [];
    for (const dir of this.created) {
      const chain = chains.find((c) => dir.startsWith(`${c[0]}/`));
      if (chain) chain.push(dir);
      else chains.push([dir]);
    }
    return chains.map((c) => c.reverse());
  }

  /**
   * rmdir the directories we created, deepest first, plus any child cgroups the container
   * made inside them. The kernel may report EBUSY for a moment after the last task exits.
   */
  protected async removeOwnDirs(opts: {
    timeoutMs?: number;
    signal?: AbortSignal | undefined;
  }): Promise<void> {
    const removeTree = async (dir: string): Promise<void> => {
      if (await this.rmdirIfEmpty(dir)) return;
      for (const child of await this.fs.subdirs(dir).catch(() => [])) await removeTree(join(dir, child));
      if (!(await waitFor(() => this.rmdirIfEmpty(dir), { ...opts, stepMs: 20 }))) {
        throw new BrigError('CGROUP_BUSY', `cannot remove cgroup ${dir}: still busy`, { path: dir });
      }
    };
    // A parent this container created (the shared "/brig" of the default path, say) may hold
    // other containers' cgroups by now: it goes only if empty, one rmdir, and its children
    // are never touched. Only the container's own directory is emptied of sub-cgroups.
    // Chains in different hierarchies are independent: removed in parallel.
    const leaves = new Set(Object.values(this.dirs));
    await Promise.all(this.chains().map(async (c) => {
      for (const dir of c) {
        if (leaves.has(dir)) await removeTree(dir);
        else if (!(await this.rmdirIfEmpty(dir))) break; // in use by another cgroup: left, as are its parents
      }
    }));
    this.created = [];
  }

  abstract oomKillCount(): Promise<number>;

  async *watchOom(opts: { signal?: AbortSignal; intervalMs?: number } = {}): AsyncGenerator<OomEvent> {
    let last: number;
    try {
      last = await this.oomKillCount();
    } catch (e) {
      if ((e as { code?: string }).code === 'CGROUP_UNSUPPORTED') return;
      throw e;
    }
    for (;;) {
      try {
        await timersPromises().setTimeout(opts.intervalMs ?? 200, undefined, { signal: opts.signal });
      } catch (e) {
        if ((e as { name?: string }).name === 'AbortError') return;
        throw e;
      }
      let count: number;
      try {
        count = await this.oomKillCount();
      } catch (e) {
        // The cgroup went away (container deleted): the stream ends.
        if ((e as { code?: string }).code === 'CGROUP_UNSUPPORTED') return;
        throw e;
      }
      if (count > last) yield { count, delta: count - last };
      last = count;
    }
  }

  protected signalAll(pids: number[]): void {
    const kill = this.opts.kill;
    if (!kill) throw new BrigError('INTERNAL', 'cgroup manager built without a kill function');
    for (const pid of pids) {
      try {
        kill(pid, 'SIGKILL');
      } catch (e) {
        if (!hasErrno(e, 'ESRCH')) throw e;
      }
    }
  }
}
