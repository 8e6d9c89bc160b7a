/**
 * v1 cpu: CFS shares/quota/period/burst, realtime budget, idle. Statistics of throttling
 * come from cpu.stat; usage lives in cpuacct (v1/cpuacct.ts).
 */
import { BrigError, hasErrno } from '../../../errors/index.js';
import { type Controller, checkInt, isSet } from '../controller.js';
import type { LinuxCPU } from '../resources.js';

const SHARES = 'cpu.shares';

export function cpuWanted(c: LinuxCPU | undefined): boolean {
  return (
    c !== undefined &&
    [c.shares, c.quota, c.period, c.burst, c.realtimePeriod, c.realtimeRuntime, c.idle].some(isSet)
  );
}

export const cpu: Controller = {
  name: 'cpu',
  wanted: (r) => cpuWanted(r.cpu),
  async set(dir, r) {
    const c = r.cpu;
    if (!c) return;
    if (isSet(c.shares) && c.shares !== 0) {
      const want = checkInt(c.shares, 'cpu.shares', { min: 0 });
      await dir.write(SHARES, want);
      // The kernel clamps to [2, 262144] without an error; say so rather than run with a
      // different weight than asked.
      const got = Number((await dir.read(SHARES)).trim());
      if (got !== want) {
        throw new BrigError(
          'CGROUP_INVALID',
          `cpu: linux.resources.cpu.shares=${want} was clamped by the kernel to ${got} (${dir.path(SHARES)}); the allowed range is 2..262144`,
          { field: 'linux.resources.cpu.shares', path: dir.path(SHARES) },
        );
      }
    }
    // A smaller period can be refused (EINVAL) while the old quota/new period ratio exceeds
    // the parent's; then write the quota first and the period again (runc does the same).
    let retryPeriod: string | undefined;
    if (isSet(c.period) && c.period !== 0) {
      const period = String(checkInt(c.period, 'cpu.period', { min: 1 }));
      try {
        await dir.write('cpu.cfs_period_us', period);
      } catch (e) {
        if (!(hasErrno((e as { cause?: unknown }).cause, 'EINVAL') && isSet(c.quota) && c.quota !== 0))
          throw e;
        retryPeriod = period;
      }
    }
    if (isSet(c.quota) && c.quota !== 0) {
      const quota = checkInt(c.quota, 'cpu.quota', { min: -1 });
      await dir.write('cpu.cfs_quota_us', quota);
      if (retryPeriod) await dir.write('cpu.cfs_period_us', retryPeriod);
    }
    if (isSet(c.burst)) await dir.write('cpu.cfs_burst_us', checkInt(c.burst, 'cpu.burst', { min: 0 }));
    // The period must allow the runtime, so it goes first.
    if (isSet(c.realtimePeriod) && c.realtimePeriod !== 0) {
      await dir.write('cpu.rt_period_us', checkInt(c.realtimePeriod, 'cpu.realtimePeriod', { min: 1 }));
    }
    if (isSet(c.realtimeRuntime) && c.realtimeRuntime !== 0) {
      await dir.write('cpu.rt_runtime_us', checkInt(c.realtimeRuntime, 'cpu.realtimeRuntime', { min: -1 }));
    }
    if (isSet(c.idle)) await dir.write('cpu.idle', checkInt(c.idle, 'cpu.idle', { min: 0, max: 1 }));
  },
  async stats(dir, out) {
    const s = await dir.readKeyed('cpu.stat');
    if (s.nr_periods) out.cpu.throttling.periods = s.nr_periods;
    if (s.nr_throttled) out.cpu.throttling.throttledPeriods = s.nr_throttled;
    if (s.throttled_time) out.cpu.throttling.throttledTime = s.throttled_time;
  },
};
