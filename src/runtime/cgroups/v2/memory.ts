/**
 * v2 memory: memory.max, memory.low (the spec's reservation), memory.swap.max. The spec's
 * `swap` keeps its v1 meaning (memory+swap), so memory.swap.max = swap - limit, as runc
 * converts. v2 has no per-cgroup swappiness, no switch for the OOM killer and no separate
 * kernel/TCP limits (they are charged to memory.max): asking for them is an error, except
 * `kernel`, which the spec deprecates and lets runtimes ignore (a warning).
 */
import { BrigError } from '../../../errors/index.js';
import { type Controller, checkInt, checkLimitAboveUsage, isSet, v2Limit } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import { UNLIMITED } from '../fs.js';
import type { LinuxMemory } from '../resources.js';

function unsupported(field: string, why: string, dir: ControllerDir): BrigError {
  return new BrigError(
    'CGROUP_UNSUPPORTED',
    `memory: linux.resources.memory.${field} cannot be applied on cgroup v2 (${dir.dir}): ${why}`,
    { field: `linux.resources.memory.${field}`, hint: `remove linux.resources.memory.${field}` },
  );
}

/** The v2 value for memory.swap.max, or undefined when nothing should be written. */
export function swapMax(m: LinuxMemory): string | undefined {
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  if (limit === -1 && swap === 0) return 'max';
  if (swap === -1) return 'max';
  if (swap === 0) return undefined;
  checkInt(swap, 'memory.swap', { min: -1 });
  if (limit === 0 || limit === -1) {
    throw new BrigError('CGROUP_INVALID', 'linux.resources.memory.swap needs memory.limit on cgroup v2', {
      field: 'linux.resources.memory.swap',
      hint: 'memory.swap.max is derived as swap - limit',
    });
  }
  if (swap < limit) {
    throw new BrigError(
      'CGROUP_INVALID',
      `linux.resources.memory.swap (${swap}) is smaller than memory.limit (${limit}): swap is memory+swap, so it must be >= limit`,
      { field: 'linux.resources.memory.swap' },
    );
  }
  return String(swap - limit);
}

export const memory: Controller = {
  name: 'memory',
  wanted: (r) => r.memory !== undefined && Object.values(r.memory).some(isSet),
  async set(dir, r, ctx) {
    const m = r.memory;
    if (!m) return;
    if (isSet(m.swappiness)) throw unsupported('swappiness', 'v2 has no per-cgroup swappiness', dir);
    if (m.disableOOMKiller === true) {
      throw unsupported('disableOOMKiller', 'v2 cannot disable the OOM killer for a cgroup', dir);
    }
    if (m.useHierarchy === false) throw unsupported('useHierarchy', 'v2 is always hierarchical', dir);
    if (isSet(m.kernelTCP)) {
      throw unsupported(
        'kernelTCP',
        'TCP buffer memory is charged to memory.max, there is no separate limit',
        dir,
      );
    }
    if (isSet(m.kernel)) {
      ctx.warn(
        `memory: linux.resources.memory.kernel=${m.kernel} ignored: cgroup v2 charges kernel memory to memory.max; the spec deprecates the field`,
      );
    }
    if (m.checkBeforeUpdate) await checkLimitAboveUsage(dir, m.limit, 'memory.current');
    const swap = swapMax(m);
    if (swap !== undefined) {
      try {
        await dir.write('memory.swap.max', swap);
      } catch (e) {
        // No swap accounting: "unlimited" and "none" are true anyway; any real limit fails.
        const missing = (e as { code?: string }).code === 'CGROUP_UNSUPPORTED';
        if (!(missing && (swap === 'max' || swap === '0'))) throw e;
      }
    }
    if (isSet(m.limit) && m.limit !== 0) await dir.write('memory.max', v2Limit(m.limit, 'memory.limit'));
    if (isSet(m.reservation) && m.reservation !== 0) {
      await dir.write('memory.low', v2Limit(m.reservation, 'memory.reservation'));
    }
  },
  async stats(dir, out) {
    const [current, max, peak, events, swapCurrent, swapMaxValue, raw] = await Promise.all([
      dir.readNumber('memory.current'),
      dir.readNumber('memory.max'),
      dir.readNumber('memory.peak'),
      dir.readKeyed('memory.events'),
      dir.readNumber('memory.swap.current'),
      dir.readNumber('memory.swap.max'),
      dir.readKeyed('memory.stat'),
    ]);
    out.memory.usage = { limit: max ?? UNLIMITED, failcnt: events.max ?? 0 };
    if (current) out.memory.usage.usage = current;
    if (peak) out.memory.usage.max = peak;
    // Reported as v1's memory+swap, as runc does, so numbers mean the same on both.
    const swapLimit = swapMaxValue === undefined || swapMaxValue === UNLIMITED || max === UNLIMITED;
    out.memory.swap = {
      limit: swapLimit ? UNLIMITED : (swapMaxValue ?? 0) + (max ?? 0),
      failcnt: 0,
    };
    const swapUsage = (swapCurrent ?? 0) + (current ?? 0);
    if (swapUsage) out.memory.swap.usage = swapUsage;
    out.memory.raw = raw;
    if (raw.file !== undefined) out.memory.cache = raw.file;
  },
};

/** memory.events: "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1" */
export async function oomKills(dir: ControllerDir): Promise<number> {
  return (await dir.readKeyed('memory.events')).oom_kill ?? 0;
}
