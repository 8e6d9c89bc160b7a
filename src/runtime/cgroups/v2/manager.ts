/**
 * The v2 manager: one directory in the unified hierarchy. Controllers are enabled top-down
 * in cgroup.subtree_control of the parents brig created (never in one it did not); the leaf
 * holds the processes and enables nothing (no internal processes).
 */
import { dirname, join } from 'node:path';
import { BrigError } from '../../../errors/index.js';
import { BaseManager, DEFAULT_TIMEOUT_MS, mkdirTracked, waitFor } from '../base.js';
import type { Controller, SetContext } from '../controller.js';
import { ControllerDir } from '../fs.js';
import type { CgroupManager, CgroupSelfJoin, CgroupState, FreezerState } from '../manager.js';
import type { LinuxResources } from '../resources.js';
import { type CgroupStats, emptyStats } from '../stats.js';
import { cpu } from './cpu.js';
import { cpuset } from './cpuset.js';
import { devices } from './devices.js';
import { readFreezerState, writeFreeze } from './freezer.js';
import { hugetlb } from './hugetlb.js';
import { io } from './io.js';
import { memory, oomKills } from './memory.js';
import { pids } from './pids.js';
import { rdma } from './rdma.js';
import { unified } from './unified.js';

const CONTROLLERS: Controller[] = [cpuset, memory, cpu, io, pids, hugetlb, rdma, devices, unified];
/** Not listed in cgroup.controllers: devices is eBPF, unified checks per key. */
const CORE = new Set(['devices', 'unified', 'freezer']);

export class V2Manager extends BaseManager implements CgroupManager {
  readonly version = 'v2' as const;

  constructor(
    state: Omit<CgroupState, 'version'>,
    opts: ConstructorParameters<typeof BaseManager>[1],
    private readonly mount?: string,
  ) {
    super(state, opts);
  }

  private get leaf(): ControllerDir {
    return this.dir('cgroup', 'unified');
  }

  private creating: Promise<void> | undefined;

  create(): Promise<void> {
    this.creating ??= (async () => {
      if (this.mount === undefined) return;
      try {
        const made = await mkdirTracked(this.fs, this.mount, this.leaf.dir.slice(this.mount.length));
        this.created.push(...made);
        // Every created directory but the leaf passes on all it has.
        for (const d of made.slice(0, -1)) {
          const dir = new ControllerDir('cgroup', d, this.fs, this.opts.onWrite);
          const available = (await dir.read('cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
          if (available.length) await dir.write('cgroup.subtree_control', available.map((c) => `+${c}`).join(' '));
        }
      } catch (e) {
        await this.removeCreated().catch(() => {});
        throw e;
      }
    })();
    return this.creating;
  }

  /**
   * Born in its cgroup: clone3(CLONE_INTO_CGROUP) needs no migration, so no wait for the
   * RCU grace period a cgroup.procs write takes, and stage 0 stays out of the count.
   */
  selfJoin(): CgroupSelfJoin {
    return { threadFiles: [], cloneInto: this.leaf.dir };
  }

  async apply(pid: number): Promise<void> {
    await this.create();
    try {
      await this.leaf.write('cgroup.procs', pid);
    } catch (e) {
      await this.removeCreated().catch(() => {});
      throw e;
    }
  }

  async set(r: LinuxResources): Promise<void> {
    const ctx: SetContext = { warn: (m) => this.warn(m), attachDevices: this.opts.attachDevices };
    let enabled: string[] | undefined;
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      if (!CORE.has(c.name)) {
        enabled ??= ((await this.leaf.readOptional('cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean);
        if (!enabled.includes(c.name)) throw this.notDelegated(c.name);
      }
      await c.set(this.dir(c.name, 'unified'), r, ctx);
    }
  }

  private notDelegated(controller: string): BrigError {
    const parent = join(dirname(this.leaf.dir), 'cgroup.subtree_control');
    const ours = this.created.includes(dirname(this.leaf.dir));
    return new BrigError(
      'CGROUP_UNSUPPORTED',
      `${controller}: the ${controller} controller is not available in ${this.leaf.dir}: ${parent} does not enable it`,
      {
        path: parent,
        hint: ours
          ? `the hierarchy above does not offer ${controller}; enable it at the top (echo +${controller} > .../cgroup.subtree_control)`
          : `brig does not write to cgroups it did not create; the owner of ${dirname(this.leaf.dir)} can run: echo +${controller} > ${parent}`,
      },
    );
  }

  async freeze(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const leaf = this.leaf;
    await writeFreeze(leaf, true);
    const ok = await waitFor(async () => (await readFreezerState(leaf)) === 'frozen', {
      signal: opts.signal,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    if (!ok) {
      await writeFreeze(leaf, false);
      throw new BrigError(
        'CGROUP_BUSY',
        `freezer: ${leaf.path('cgroup.events')} did not report frozen in time`,
        {
          path: leaf.path('cgroup.events'),
        },
      );
    }
  }

  async thaw(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const leaf = this.leaf;
    await writeFreeze(leaf, false);
    await waitFor(async () => (await readFreezerState(leaf)) === 'thawed', { signal: opts.signal });
  }

  freezerState(): Promise<FreezerState> {
    return readFreezerState(this.leaf);
  }

  async stats(): Promise<CgroupStats> {
    const out = emptyStats();
    for (const c of CONTROLLERS) if (c.stats) await c.stats(this.dir(c.name, 'unified'), out);
    return out;
  }

  async pids(): Promise<number[]> {
    return [...new Set(await this.procsBelow(this.leaf.dir))].sort((a, b) => a - b);
  }

  oomKillCount(): Promise<number> {
    return oomKills(this.dir('memory', 'unified'));
  }

  protected ownLeaves(): string[] {
    return this.created.includes(this.leaf.dir) ? [this.leaf.dir] : [];
  }

  async destroy(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const leaf = this.leaf;
    if (!(await this.removedIfEmpty(this.ownLeaves()))) {
      // cgroup.kill (5.14+) kills the whole subtree atomically; otherwise freeze, signal, thaw.
      const hasKill = await leaf.exists('cgroup.kill');
      const emptied = await waitFor(
        async () => {
          const pids = await this.procsBelow(leaf.dir);
          if (pids.length === 0) return true;
          if (hasKill) {
            await leaf.write('cgroup.kill', '1');
          } else {
            await writeFreeze(leaf, true).catch(() => {});
            this.signalAll(pids);
            await writeFreeze(leaf, false);
          }
          return false;
        },
        { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, stepMs: 20 },
      );
      if (!emptied) {
        throw new BrigError('CGROUP_BUSY', `cannot empty cgroup ${leaf.dir}: processes survive SIGKILL`, {
          path: leaf.dir,
          hint: 'processes in uninterruptible sleep (D state) die when their I/O completes; retry delete',
        });
      }
    }
    await this.removeOwnDirs(opts);
  }

  state(): CgroupState {
    return { version: 'v2', path: this.path, dirs: { ...this.dirs }, created: [...this.created] };
  }
}
