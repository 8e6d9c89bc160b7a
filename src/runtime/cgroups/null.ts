/**
 * The "disabled" manager: for hosts without cgroups, or rootless without a delegated
 * cgroup. It creates nothing and removes nothing. Asking it for a limit, a pause or
 * statistics is an error naming the controller — a container must never believe it is
 * limited when it is not. (The runtime drops linux.resources.devices itself when it runs
 * without cgroups, as runc rootless does; passing them here is an error like the rest.)
 */
import { BrigError } from '../../errors/index.js';
import type { CgroupManager, CgroupRemoval, CgroupState, FreezerState, OomEvent } from './manager.js';
import type { LinuxResources } from './resources.js';
import type { CgroupStats } from './stats.js';

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isEmpty);
  return false;
}

const FIELDS: [keyof LinuxResources, string][] = [
  ['memory', 'memory'],
  ['cpu', 'cpu'],
  ['pids', 'pids'],
  ['blockIO', 'blkio/io'],
  ['hugepageLimits', 'hugetlb'],
  ['devices', 'devices'],
  ['network', 'net_cls/net_prio'],
  ['rdma', 'rdma'],
  ['unified', 'unified'],
];

export class NullManager implements CgroupManager {
  readonly version = 'none' as const;

  constructor(
    readonly path = '',
    private readonly reason = 'cgroups are disabled for this container',
  ) {}

  private refuse(controller: string, what: string, field?: string): BrigError {
    return new BrigError('CGROUP_UNSUPPORTED', `${controller}: cannot ${what}: ${this.reason}`, {
      ...(field ? { field } : {}),
      hint: 'run with cgroups enabled (as root, or with a delegated cgroup v2 subtree)',
    });
  }

  async create(): Promise<void> {}

  async apply(): Promise<void> {}

  selfJoin(): undefined {
    return undefined;
  }

  async set(r: LinuxResources): Promise<void> {
    for (const [key, controller] of FIELDS) {
      if (!isEmpty(r[key]))
        throw this.refuse(controller, `apply linux.resources.${key}`, `linux.resources.${key}`);
    }
  }

  async freeze(): Promise<void> {
    throw this.refuse('freezer', 'pause the container');
  }

  async thaw(): Promise<void> {
    throw this.refuse('freezer', 'resume the container');
  }

  async freezerState(): Promise<FreezerState> {
    return 'thawed';
  }

  async stats(): Promise<CgroupStats> {
    throw this.refuse('cgroup', 'read statistics');
  }

  async pids(): Promise<number[]> {
    throw this.refuse('cgroup', 'list the container processes');
  }

  async oomKillCount(): Promise<number> {
    throw this.refuse('memory', 'count OOM kills');
  }

  async *watchOom(): AsyncGenerator<OomEvent> {}

  async destroy(): Promise<void> {}

  removal(): CgroupRemoval {
    return { leaves: [], parents: [] };
  }

  state(): CgroupState {
    return { version: 'none', path: this.path, dirs: {}, created: [] };
  }
}
