/**
 * docker update: the resource fields a running container can change, merged into its
 * HostConfig by dockerd's rules (moby container.UpdateContainer): a field left at zero is
 * not changed; --cpus cannot replace a CPU period or quota set before, nor they it; a memory
 * limit above the memory+swap limit needs the swap limit changed with it.
 */
import { BrigError } from '../../errors/index.js';
import type { HostConfig } from '../containers/config.js';

/** What `docker update` can change (restart policies join with restart support). */
export const UPDATABLE = ['BlkioWeight', 'CpuPeriod', 'CpuQuota', 'CpuShares', 'NanoCpus', 'CpusetCpus', 'CpusetMems', 'Memory', 'MemoryReservation', 'MemorySwap', 'PidsLimit'] as const;
export type ResourceUpdate = Partial<Pick<HostConfig, (typeof UPDATABLE)[number]>>;

function conflict(why: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', why, { field: 'HostConfig' });
}

export function mergeUpdate(current: HostConfig, u: ResourceUpdate): HostConfig {
  for (const k of Object.keys(u)) {
    if (!(UPDATABLE as readonly string[]).includes(k)) throw new BrigError('INVALID_ARGUMENT', `${k} cannot be updated`, { field: `HostConfig.${k}` });
  }
  const nano = u.NanoCpus ?? 0;
  if (nano > 0 && (current.CpuPeriod ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (nano > 0 && (current.CpuQuota ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((u.CpuPeriod ?? 0) > 0 && (current.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if ((u.CpuQuota ?? 0) > 0 && (current.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const out: HostConfig = { ...current };
  const swap = current.MemorySwap ?? 0;
  if ((u.Memory ?? 0) !== 0) {
    if (swap > 0 && u.Memory! > swap && (u.MemorySwap ?? 0) === 0) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    out.Memory = u.Memory!;
  }
  for (const k of ['BlkioWeight', 'CpuPeriod', 'CpuQuota', 'CpuShares', 'NanoCpus', 'MemoryReservation', 'MemorySwap'] as const) {
    if ((u[k] ?? 0) !== 0) out[k] = u[k]!;
  }
  for (const k of ['CpusetCpus', 'CpusetMems'] as const) if (u[k]) out[k] = u[k];
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) out.PidsLimit = u.PidsLimit;
  return out;
}
