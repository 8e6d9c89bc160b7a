/**
 * v1 memory: memory.limit_in_bytes, memory.memsw.limit_in_bytes (the spec's `swap` is
 * memory+swap, exactly v1's memsw), soft limit, swappiness, OOM killer, kernel memory.
 */
import { BrigError, hasErrno } from '../../../errors/index.js';
import { type Controller, checkInt, checkLimitAboveUsage, isSet, v1Limit } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { LinuxMemory } from '../resources.js';
import type { CgroupStats, MemoryEntry } from '../stats.js';

const LIMIT = 'memory.limit_in_bytes';
const MEMSW = 'memory.memsw.limit_in_bytes';

function checkSwap(m: LinuxMemory): void {
  if (isSet(m.limit) && isSet(m.swap) && m.swap !== -1 && m.limit !== -1 && m.swap < m.limit) {
    throw new BrigError(
      'CGROUP_INVALID',
      `linux.resources.memory.swap (${m.swap}) is smaller than memory.limit (${m.limit}): swap is memory+swap, so it must be >= limit`,
      { field: 'linux.resources.memory.swap' },
    );
  }
}

/**
 * The kernel refuses memsw < limit at every moment, so the order of the two writes depends
 * on whether the limits grow or shrink (same rule as runc's setMemoryAndSwap).
 */
async function setLimitAndSwap(dir: ControllerDir, m: LinuxMemory): Promise<void> {
  let limit = m.limit;
  let swap = m.swap;
  // Unlimited memory without a swap value means unlimited swap too, or the write fails.
  if (limit === -1 && !isSet(swap)) swap = -1;
  if (isSet(limit) && isSet(swap)) {
    const current = Number((await dir.read(LIMIT)).trim());
    const swapFirst = swap === -1 || current < swap;
    if (swapFirst) {
      await dir.write(MEMSW, v1Limit(swap, 'memory.swap'));
      await dir.write(LIMIT, v1Limit(limit, 'memory.limit'));
    } else {
      await dir.write(LIMIT, v1Limit(limit, 'memory.limit'));
      await dir.write(MEMSW, v1Limit(swap, 'memory.swap'));
    }
    limit = undefined;
    swap = undefined;
  }
  if (isSet(limit)) await dir.write(LIMIT, v1Limit(limit, 'memory.limit'));
  if (isSet(swap)) await dir.write(MEMSW, v1Limit(swap, 'memory.swap'));
}

async function entry(dir: ControllerDir, prefix: string): Promise<MemoryEntry> {
  const [usage, max, limit, failcnt] = await Promise.all([
    dir.readNumber(`${prefix}.usage_in_bytes`),
    dir.readNumber(`${prefix}.max_usage_in_bytes`),
    dir.readNumber(`${prefix}.limit_in_bytes`),
    dir.readNumber(`${prefix}.failcnt`),
  ]);
  const e: MemoryEntry = { limit: limit ?? 0, failcnt: failcnt ?? 0 };
  if (usage) e.usage = usage;
  if (max) e.max = max;
  return e;
}

export const memory: Controller = {
  name: 'memory',
  wanted: (r) => r.memory !== undefined && Object.values(r.memory).some(isSet),
  async set(dir, r, ctx) {
    const m = r.memory;
    if (!m) return;
    checkSwap(m);
    if (m.checkBeforeUpdate) await checkLimitAboveUsage(dir, m.limit, 'memory.usage_in_bytes');
    await setLimitAndSwap(dir, m);
    if (isSet(m.reservation)) {
      await dir.write('memory.soft_limit_in_bytes', v1Limit(m.reservation, 'memory.reservation'));
    }
    if (isSet(m.swappiness)) {
      await dir.write('memory.swappiness', checkInt(m.swappiness, 'memory.swappiness', { min: 0, max: 100 }));
    }
    if (isSet(m.disableOOMKiller)) await dir.write('memory.oom_control', m.disableOOMKiller ? '1' : '0');
    if (isSet(m.useHierarchy)) await dir.write('memory.use_hierarchy', m.useHierarchy ? '1' : '0');
    if (isSet(m.kernel)) {
      // Deprecated in the spec ("may be ignored by runtimes"); Linux >= 5.4 no longer enforces
      // it and 6.x rejects the write or lacks the file. Try, and warn when the kernel refuses.
      const value = v1Limit(m.kernel, 'memory.kernel');
      try {
        await dir.write('memory.kmem.limit_in_bytes', value);
      } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        if (!hasErrno(cause, 'ENOENT') && !hasErrno(cause, 'EOPNOTSUPP') && !hasErrno(cause, 'EINVAL'))
          throw e;
        ctx.warn(
          `memory: linux.resources.memory.kernel=${value} ignored: this kernel does not limit kernel memory (${dir.path('memory.kmem.limit_in_bytes')}: ${(cause as { code?: string }).code}); the spec deprecates the field`,
        );
      }
    }
    if (isSet(m.kernelTCP)) {
      await dir.write('memory.kmem.tcp.limit_in_bytes', v1Limit(m.kernelTCP, 'memory.kernelTCP'));
    }
  },
  async stats(dir, out: CgroupStats) {
    const [usage, swap, kernel, kernelTCP, raw] = await Promise.all([
      entry(dir, 'memory'),
      entry(dir, 'memory.memsw'),
      entry(dir, 'memory.kmem'),
      entry(dir, 'memory.kmem.tcp'),
      dir.readKeyed('memory.stat'),
    ]);
    out.memory = { usage, swap, kernel, kernelTCP, raw };
    if (raw.cache !== undefined) out.memory.cache = raw.cache;
  },
};

/** memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill N" (oom_kill since 4.13). */
export async function oomKills(dir: ControllerDir): Promise<number> {
  return (await dir.readKeyed('memory.oom_control')).oom_kill ?? 0;
}
