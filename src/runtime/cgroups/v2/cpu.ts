/**
 * v2 cpu: cpu.weight (from the spec's shares), cpu.max "quota period", cpu.max.burst,
 * cpu.idle. v2 has no realtime group budget, so realtimeRuntime/Period are an error.
 */
import { BrigError, hasErrno } from '../../../errors/index.js';
import { type Controller, checkInt, isSet } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { LinuxCPU } from '../resources.js';
import { cpuWanted } from '../v1/cpu.js';

/** runc/crun: shares 2..262144 onto weight 1..10000, linearly. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** "quota period" for cpu.max; a period alone keeps the current quota rather than resetting it. */
async function cpuMax(dir: ControllerDir, c: LinuxCPU): Promise<string | undefined> {
  const hasQuota = isSet(c.quota) && c.quota !== 0;
  const hasPeriod = isSet(c.period) && c.period !== 0;
  if (!hasQuota && !hasPeriod) return undefined;
  let quota: string;
  if (hasQuota) {
    const q = checkInt(c.quota as number, 'cpu.quota', { min: -1 });
    quota = q === -1 ? 'max' : String(q);
  } else {
    quota = (await dir.read('cpu.max')).trim().split(/\s+/)[0] ?? 'max';
  }
  return hasPeriod ? `${quota} ${checkInt(c.period as number, 'cpu.period', { min: 1 })}` : quota;
}

export const cpu: Controller = {
  name: 'cpu',
  wanted: (r) => cpuWanted(r.cpu),
  async set(dir, r) {
    const c = r.cpu;
    if (!c) return;
    if (
      (isSet(c.realtimeRuntime) && c.realtimeRuntime !== 0) ||
      (isSet(c.realtimePeriod) && c.realtimePeriod !== 0)
    ) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `cpu: linux.resources.cpu.realtimeRuntime/realtimePeriod cannot be applied on cgroup v2 (${dir.dir}): the kernel has no realtime group budget in v2`,
        { field: 'linux.resources.cpu.realtimeRuntime', hint: 'remove the realtime fields' },
      );
    }
    if (isSet(c.idle)) await dir.write('cpu.idle', checkInt(c.idle, 'cpu.idle', { min: 0, max: 1 }));
    if (isSet(c.shares) && c.shares !== 0) {
      const shares = checkInt(c.shares, 'cpu.shares', { min: 2, max: 262144 });
      await dir.write('cpu.weight', sharesToWeight(shares));
    }
    // A larger burst can be refused (EINVAL) until the new quota is in; then retry after.
    let retryBurst: string | undefined;
    const max = await cpuMax(dir, c);
    if (isSet(c.burst)) {
      const burst = String(checkInt(c.burst, 'cpu.burst', { min: 0 }));
      try {
        await dir.write('cpu.max.burst', burst);
      } catch (e) {
        if (!(hasErrno((e as { cause?: unknown }).cause, 'EINVAL') && max !== undefined)) throw e;
        retryBurst = burst;
      }
    }
    if (max !== undefined) {
      await dir.write('cpu.max', max);
      if (retryBurst !== undefined) await dir.write('cpu.max.burst', retryBurst);
    }
  },
  async stats(dir, out) {
    const s = await dir.readKeyed('cpu.stat');
    const u = out.cpu.usage;
    if (s.usage_usec) u.total = s.usage_usec * 1000;
    u.user = (s.user_usec ?? 0) * 1000;
    u.kernel = (s.system_usec ?? 0) * 1000;
    if (s.nr_periods) out.cpu.throttling.periods = s.nr_periods;
    if (s.nr_throttled) out.cpu.throttling.throttledPeriods = s.nr_throttled;
    if (s.throttled_usec) out.cpu.throttling.throttledTime = s.throttled_usec * 1000;
  },
};
