/** v1 cpuacct: CPU usage statistics only (no limits live here). */
import type { Controller } from '../controller.js';

/** cpuacct.stat counts USER_HZ ticks, which is 100 on every Linux architecture brig runs on. */
const NS_PER_TICK = 1e9 / 100;

function numbers(text: string | undefined): number[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

export const cpuacct: Controller = {
  name: 'cpuacct',
  wanted: () => false,
  async set() {},
  async stats(dir, out) {
    const [total, percpu, stat, all] = await Promise.all([
      dir.readNumber('cpuacct.usage'),
      dir.readOptional('cpuacct.usage_percpu'),
      dir.readKeyed('cpuacct.stat'),
      dir.readOptional('cpuacct.usage_all'),
    ]);
    const u = out.cpu.usage;
    if (total) u.total = total;
    const per = numbers(percpu);
    if (per.length) u.percpu = per;
    u.user = (stat.user ?? 0) * NS_PER_TICK;
    u.kernel = (stat.system ?? 0) * NS_PER_TICK;
    // usage_all: "cpu user system" header, then one line per cpu.
    const rows = (all ?? '').trim().split('\n').slice(1).map(numbers);
    if (rows.length && rows.every((r) => r.length === 3)) {
      u.percpu_user = rows.map((r) => r[1] ?? 0);
      u.percpu_kernel = rows.map((r) => r[2] ?? 0);
    }
  },
};
