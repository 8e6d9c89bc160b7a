/**
 * One controller of one cgroup version: which resources it handles, how it writes them and
 * how it reads its statistics. The v1 and v2 managers hold a list of these; each lives in
 * its own file (v1/memory.ts, v2/memory.ts, ...).
 */
import { BrigError } from '../../errors/index.js';
import type { ControllerDir } from './fs.js';
import type { DeviceProgramAttacher } from './manager.js';
import type { LinuxResources } from './resources.js';
import type { CgroupStats } from './stats.js';

export interface SetContext {
  warn: (message: string) => void;
  attachDevices?: DeviceProgramAttacher | undefined;
}

export interface Controller {
  /** The kernel's name for the controller ("memory", "io", "net_cls"...). */
  readonly name: string;
  /** True when `r` asks something of this controller, so a missing controller is an error. */
  wanted(r: LinuxResources): boolean;
  set(dir: ControllerDir, r: LinuxResources, ctx: SetContext): Promise<void>;
  stats?(dir: ControllerDir, out: CgroupStats): Promise<void>;
}

/** Rejects values the kernel would reject anyway, with the spec field named. */
export function checkInt(value: number, field: string, opts: { min?: number; max?: number } = {}): number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BrigError(
      'CGROUP_INVALID',
      `linux.resources.${field}: ${JSON.stringify(value)} is not an integer in [${min}, ${max}]`,
      { field: `linux.resources.${field}` },
    );
  }
  return value;
}

/** Present and not null. Spec JSON may carry explicit nulls, which mean "not set". */
export function isSet<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

/** OCI "-1 means unlimited" as the v1 files want it. */
export function v1Limit(value: number, field: string): string {
  checkInt(value, field, { min: -1 });
  return String(value);
}

/** OCI "-1 means unlimited" as the v2 files want it ("max"). */
export function v2Limit(value: number, field: string): string {
  checkInt(value, field, { min: -1 });
  return value === -1 ? 'max' : String(value);
}

/**
 * linux.resources.memory.checkBeforeUpdate: refuse a new limit below what the cgroup uses
 * now, instead of letting the kernel reclaim or OOM-kill to get there.
 */
export async function checkLimitAboveUsage(
  dir: ControllerDir,
  limit: number | undefined,
  usageFile: string,
): Promise<void> {
  if (!isSet(limit) || limit <= 0) return;
  const usage = await dir.readNumber(usageFile);
  if (usage !== undefined && limit < usage) {
    throw new BrigError(
      'CGROUP_INVALID',
      `memory: linux.resources.memory.limit=${limit} is below the current usage ${usage} (${dir.path(usageFile)}) and checkBeforeUpdate is set`,
      { field: 'linux.resources.memory.limit', path: dir.path(usageFile) },
    );
  }
}
