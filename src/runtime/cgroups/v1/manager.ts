/**
 * The v1 (and hybrid) manager: one directory per mounted hierarchy, all at the same
 * relative path; on hybrid hosts also a directory in the unified hierarchy, which serves
 * the controllers only v2 has there (typically hugetlb).
 */
import { join } from 'node:path';
import { BrigError } from '../../../errors/index.js';
import { BaseManager, DEFAULT_TIMEOUT_MS, mkdirTracked, waitFor } from '../base.js';
import type { Controller, SetContext } from '../controller.js';
import { ControllerDir } from '../fs.js';
import type { CgroupManager, CgroupSelfJoin, CgroupState, FreezerState } from '../manager.js';
import type { LinuxResources } from '../resources.js';
import { type CgroupStats, emptyStats } from '../stats.js';
import { hugetlb as v2hugetlb } from '../v2/hugetlb.js';
import { blkio } from './blkio.js';
import { cpu } from './cpu.js';
import { cpuacct } from './cpuacct.js';
import { cpuset, initCpuset } from './cpuset.js';
import { devices } from './devices.js';
import { readFreezerState, writeFreezerState } from './freezer.js';
import { hugetlb } from './hugetlb.js';
import { memory, oomKills } from './memory.js';
import { netCls } from './net_cls.js';
import { netPrio } from './net_prio.js';
import { pids } from './pids.js';
import { rdma } from './rdma.js';

/** runc's order: cpuset before memory (mems), devices early, hugetlb/net after. */
const CONTROLLERS: Controller[] = [
  cpuset,
  devices,
  memory,
  cpu,
  cpuacct,
  pids,
  blkio,
  hugetlb,
  netCls,
  netPrio,
  rdma,
];

/** Where each v1 hierarchy's mount point is, by controller, for `apply`. */
export type V1Mounts = Record<string, string>;

export class V1Manager extends BaseManager implements CgroupManager {
  readonly version = 'v1' as const;

  /**
   * `state.dirs` maps each v1 controller to its directory; "unified" (hybrid only) is the
   * directory in the cgroup2 hierarchy. `mounts` (same keys) is needed only by `apply`.
   */
  constructor(
    state: Omit<CgroupState, 'version'>,
    opts: ConstructorParameters<typeof BaseManager>[1],
    private readonly mounts: V1Mounts = {},
  ) {
    super(state, opts);
  }

  private creating: Promise<void> | undefined;

  create(): Promise<void> {
    this.creating ??= (async () => {
      try {
        // One hierarchy per controller: independent, so made in parallel.
        const seen = new Set<string>();
        await Promise.all(
          Object.entries(this.dirs).map(async ([key, dir]) => {
            const mount = this.mounts[key];
            // Co-mounted controllers share a directory: create it once.
            if (mount === undefined || seen.has(dir) || this.created.includes(dir) || !dir.startsWith(mount)) return;
            seen.add(dir);
            const made = await mkdirTracked(this.fs, mount, dir.slice(mount.length));
            this.created.push(...made);
            if (key === 'cpuset') for (const d of made) await initCpuset(this.dirFor('cpuset', d));
          }),
        );
      } catch (e) {
        await this.removeCreated().catch(() => {});
        throw e;
      }
    })();
    return this.creating;
  }

  selfJoin(): CgroupSelfJoin {
    const unified = this.dirs.unified;
    return {
      threadFiles: this.distinctDirs()
        .filter((d) => d !== unified)
        .map((d) => join(d, 'tasks')),
      ...(unified !== undefined ? { cloneInto: unified } : {}),
    };
  }

  async apply(pid: number): Promise<void> {
    await this.create();
    try {
      await Promise.all(this.distinctDirs().map((dir) => this.dirFor(undefined, dir).write('cgroup.procs', pid)));
    } catch (e) {
      await this.removeCreated().catch(() => {});
      throw e;
    }
  }

  /** The directory, named in errors after the (first) controller mounted there. */
  private dirFor(controller: string | undefined, dir: string): ControllerDir {
    const key = Object.keys(this.dirs).find((k) => this.dirs[k] === dir) ?? 'cgroup';
    return new ControllerDir(controller ?? key, dir, this.fs, this.opts.onWrite);
  }

  async set(r: LinuxResources): Promise<void> {
    if (r.unified && Object.keys(r.unified).length > 0) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `linux.resources.unified needs cgroup v2; this host uses v1 controllers (${Object.keys(r.unified).join(', ')})`,
        { field: 'linux.resources.unified', hint: 'use the v1 fields of linux.resources instead' },
      );
    }
    const ctx: SetContext = { warn: (m) => this.warn(m), attachDevices: this.opts.attachDevices };
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      if (this.dirs[c.name] !== undefined) {
        await c.set(this.dir(c.name), r, ctx);
      } else if (c.name === 'hugetlb' && this.dirs.unified !== undefined) {
        await this.requireUnified('hugetlb');
        await v2hugetlb.set(this.dir('hugetlb', 'unified'), r, ctx);
      } else {
        throw new BrigError(
          'CGROUP_UNSUPPORTED',
          `${c.name}: ${fieldFor(c.name)} cannot be applied: the ${c.name} controller is not mounted on this host`,
          {
            field: fieldFor(c.name),
            hint: `mount it (mount -t cgroup -o ${c.name} cgroup /sys/fs/cgroup/${c.name}) or drop the setting`,
          },
        );
      }
    }
  }

  /** In the unified directory, `controller` must have been delegated by the parent. */
  private async requireUnified(controller: string): Promise<void> {
    const d = this.dir(controller, 'unified');
    const enabled = ((await d.readOptional('cgroup.controllers')) ?? '').split(/\s+/);
    if (!enabled.includes(controller)) {
      const parent = join(d.dir, '..', 'cgroup.subtree_control');
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `${controller}: not enabled for ${d.dir}: ${parent} does not list ${controller}, and brig only writes to cgroups it created`,
        { path: parent, hint: `echo +${controller} > ${parent} (as the owner of that cgroup)` },
      );
    }
  }

  async freeze(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const dir = this.freezerDir();
    // FREEZING can stall while tasks are in uninterruptible sleep; rewriting FROZEN
    // nudges the kernel on, as runc does.
    const ok = await waitFor(
      async () => {
        await writeFreezerState(dir, 'FROZEN');
        return (await readFreezerState(dir)) === 'frozen';
      },
      { signal: opts.signal, timeoutMs: DEFAULT_TIMEOUT_MS },
    );
    if (!ok) {
      await writeFreezerState(dir, 'THAWED');
      throw new BrigError(
        'CGROUP_BUSY',
        `freezer: ${dir.path('freezer.state')} did not reach FROZEN in time`,
        {
          path: dir.path('freezer.state'),
        },
      );
    }
  }

  async thaw(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const dir = this.freezerDir();
    await writeFreezerState(dir, 'THAWED');
    await waitFor(async () => (await readFreezerState(dir)) === 'thawed', { signal: opts.signal });
  }

  freezerState(): Promise<FreezerState> {
    return readFreezerState(this.freezerDir());
  }

  private freezerDir(): ControllerDir {
    if (this.dirs.freezer === undefined) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        'freezer: cannot pause: the freezer controller is not mounted on this host',
        {
          hint: 'mount -t cgroup -o freezer cgroup /sys/fs/cgroup/freezer',
        },
      );
    }
    return this.dir('freezer');
  }

  async stats(): Promise<CgroupStats> {
    const out = emptyStats();
    for (const c of CONTROLLERS) {
      if (!c.stats) continue;
      if (this.dirs[c.name] !== undefined) await c.stats(this.dir(c.name), out);
      else if (c.name === 'hugetlb' && this.dirs.unified !== undefined)
        await v2hugetlb.stats?.(this.dir('hugetlb', 'unified'), out);
    }
    return out;
  }

  async pids(): Promise<number[]> {
    const key =
      ['pids', 'freezer', 'memory', 'cpu'].find((k) => this.dirs[k] !== undefined) ??
      Object.keys(this.dirs)[0];
    if (key === undefined) return [];
    return [...new Set(await this.procsBelow(this.dirs[key] as string))].sort((a, b) => a - b);
  }

  async oomKillCount(): Promise<number> {
    if (this.dirs.memory === undefined) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        'memory: cannot watch OOM kills: the memory controller is not mounted',
      );
    }
    return oomKills(this.dir('memory'));
  }

  protected ownLeaves(): string[] {
    return this.distinctDirs().filter((d) => this.created.includes(d));
  }

  async destroy(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const ours = this.ownLeaves();
    if (await this.removedIfEmpty(ours)) return this.removeOwnDirs(opts);
    const all = async () => {
      const found = await Promise.all(ours.map((d) => this.procsBelow(d)));
      return [...new Set(found.flat())];
    };
    const canFreeze = this.dirs.freezer !== undefined && ours.includes(this.dirs.freezer);
    const emptied = await waitFor(
      async () => {
        const pids = await all();
        if (pids.length === 0) return true;
        // Frozen, a fork loop cannot add tasks between reading the list and killing it;
        // SIGKILL is delivered once thawed.
        if (canFreeze) await writeFreezerState(this.dir('freezer'), 'FROZEN').catch(() => {});
        this.signalAll(pids);
        if (canFreeze) await writeFreezerState(this.dir('freezer'), 'THAWED');
        return false;
      },
      { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, stepMs: 20 },
    );
    if (!emptied) {
      throw new BrigError('CGROUP_BUSY', `cannot empty cgroup ${this.path}: processes survive SIGKILL`, {
        hint: 'processes in uninterruptible sleep (D state) die when their I/O completes; retry delete',
      });
    }
    await this.removeOwnDirs(opts);
  }

  state(): CgroupState {
    return { version: 'v1', path: this.path, dirs: { ...this.dirs }, created: [...this.created] };
  }
}

function fieldFor(controller: string): string {
  const fields: Record<string, string> = {
    cpuset: 'linux.resources.cpu.cpus/mems',
    devices: 'linux.resources.devices',
    memory: 'linux.resources.memory',
    cpu: 'linux.resources.cpu',
    pids: 'linux.resources.pids',
    blkio: 'linux.resources.blockIO',
    hugetlb: 'linux.resources.hugepageLimits',
    net_cls: 'linux.resources.network.classID',
    net_prio: 'linux.resources.network.priorities',
    rdma: 'linux.resources.rdma',
  };
  return fields[controller] ?? `linux.resources (${controller})`;
}
