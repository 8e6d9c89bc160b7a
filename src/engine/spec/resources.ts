/**
 * HostConfig's resource fields checked as dockerd checks them (moby daemon
 * verifyPlatformContainerResources, with its messages) and turned into the OCI
 * `linux.resources`, rlimits and oomScoreAdj. Pure: the host's facts come in.
 */
import { BrigError } from '../../errors/index.js';
import type { LinuxDeviceCgroup, LinuxResources } from '../../runtime/cgroups/resources.js';
import type { Rlimit } from '../../runtime/spec/types.js';
import type { HostConfig, Ulimit } from '../containers/config.js';
import type { EngineHost } from './host.js';

const MIN_MEMORY = 6 * 1024 * 1024;
/** docker's CPU period when --cpus sets a quota. */
const CPU_PERIOD = 100_000;

/** ulimit names docker takes (go-units ulimit.go), as RLIMIT_ names. */
export const ULIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

/** The open-files limit every container gets unless --ulimit says otherwise (podman's), within the host's hard limit. */
const DEFAULT_NOFILE = 1_048_576;

function err(message: string, field: string, hint?: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', message, { field: `HostConfig.${field}`, ...(hint ? { hint } : {}) });
}

/** A cpuset list ("0-2,4") as the set of numbers it names; undefined when malformed. */
export function parseCpuset(s: string): Set<number> | undefined {
  const out = new Set<number>();
  if (s.trim() === '') return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (b < a || b - a > 65536) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function checkCpuset(value: string, online: string, what: 'cpus' | 'mems', field: string): void {
  const want = parseCpuset(value);
  if (!want) throw err(`Invalid value ${value} for cpuset ${what}`, field);
  const have = parseCpuset(online) ?? new Set<number>();
  if ([...want].some((c) => !have.has(c))) {
    throw err(what === 'cpus' ? `Requested CPUs are not available - requested ${value}, available: ${online}` : `Requested memory nodes are not available - requested ${value}, available: ${online}`, field);
  }
}

const DEVICE_RULE = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/;

export function parseDeviceCgroupRule(rule: string, field: string): LinuxDeviceCgroup {
  const m = DEVICE_RULE.exec(rule);
  if (!m) throw err(`invalid device cgroup format '${rule}'`, field, 'e.g. "c 1:3 mr"');
  const num = (v: string) => (v === '*' ? -1 : Number(v));
  return { allow: true, type: m[1]!, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

export interface ResourcePlan {
  resources: LinuxResources;
  rlimits: Rlimit[];
  oomScoreAdj?: number;
  /** HostConfig as docker stores it after its adjustments (MemorySwap doubled, swap unsupported...). */
  adjusted: Partial<HostConfig>;
  warnings: string[];
}

export function resourcePlan(h: HostConfig, host: Pick<EngineHost, 'cpus' | 'onlineCpus' | 'onlineMems' | 'hardLimits' | 'swapLimit'>): ResourcePlan {
  const warnings: string[] = [];
  const adjusted: Partial<HostConfig> = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const mem = h.Memory ?? 0;
  let swap = h.MemorySwap ?? 0;
  const reservation = h.MemoryReservation ?? 0;
  if (mem < 0) throw err('Invalid memory limit: it can not be negative', 'Memory');
  if (mem > 0 && mem < MIN_MEMORY) throw err('Minimum memory limit allowed is 6MB', 'Memory');
  if (swap > 0 && mem === 0) throw err('You should always set the Memory limit when using Memoryswap limit, see usage', 'MemorySwap');
  if (swap > 0 && swap < mem) throw err('Minimum memoryswap limit should be larger than memory limit, see usage', 'MemorySwap');
  if (swap < -1) throw err('Invalid memoryswap limit: -1 (unlimited) or at least the memory limit', 'MemorySwap');
  if (reservation < 0) throw err('Invalid memory reservation: it can not be negative', 'MemoryReservation');
  if (reservation > 0 && reservation < MIN_MEMORY) throw err('Minimum memory reservation allowed is 6MB', 'MemoryReservation');
  if (mem > 0 && reservation > 0 && mem < reservation) throw err('Minimum memory limit can not be less than memory reservation limit, see usage', 'MemoryReservation');
  const swappiness = h.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw err(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`, 'MemorySwappiness');
  }
  if (mem > 0 && swap === 0) swap = host.swapLimit ? mem * 2 : 0; // docker: swap as much as memory
  if (swap !== 0 && !host.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    swap = -1;
  }
  if (mem > 0) memory.limit = mem;
  if (swap !== 0) {
    memory.swap = swap;
    adjusted.MemorySwap = swap;
  }
  if (reservation > 0) memory.reservation = reservation;
  if (swappiness !== undefined && swappiness !== null && swappiness >= 0) memory.swappiness = swappiness;
  if (h.OomKillDisable === true) {
    memory.disableOOMKiller = true;
    if (mem === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const nano = h.NanoCpus ?? 0;
  if (nano !== 0 && (h.CpuPeriod ?? 0) !== 0) throw err('Conflicting options: Nano CPUs and CPU Period cannot both be set', 'NanoCpus');
  if (nano !== 0 && (h.CpuQuota ?? 0) !== 0) throw err('Conflicting options: Nano CPUs and CPU Quota cannot both be set', 'NanoCpus');
  if (nano < 0 || nano > host.cpus * 1e9) throw err(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`, 'NanoCpus');
  if (nano > 0) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.max(1000, Math.round((nano * CPU_PERIOD) / 1e9));
  }
  const period = h.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw err('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)', 'CpuPeriod');
  if (period > 0) cpu.period = period;
  const quota = h.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw err('CPU cfs quota can not be less than 1ms (i.e. 1000)', 'CpuQuota');
  if (quota > 0) cpu.quota = quota;
  if ((h.CpuShares ?? 0) < 0) throw err('shares: invalid argument', 'CpuShares');
  if ((h.CpuShares ?? 0) > 0) cpu.shares = h.CpuShares!;
  if (h.CpusetCpus) {
    checkCpuset(h.CpusetCpus, host.onlineCpus, 'cpus', 'CpusetCpus');
    cpu.cpus = h.CpusetCpus;
  }
  if (h.CpusetMems) {
    checkCpuset(h.CpusetMems, host.onlineMems, 'mems', 'CpusetMems');
    cpu.mems = h.CpusetMems;
  }

  const resources: LinuxResources = {};
  if (Object.keys(memory).length) resources.memory = memory;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  const pids = h.PidsLimit ?? 0;
  if (pids > 0) resources.pids = { limit: pids };
  const weight = h.BlkioWeight ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw err('Range of blkio weight is from 10 to 1000', 'BlkioWeight');
  if (weight > 0) resources.blockIO = { weight };
  const rules = (h.DeviceCgroupRules ?? []).map((r, i) => parseDeviceCgroupRule(r, `DeviceCgroupRules[${i}]`));
  if (rules.length) resources.devices = rules;

  const oom = h.OomScoreAdj ?? 0;
  if (!Number.isInteger(oom) || oom < -1000 || oom > 1000) throw err(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`, 'OomScoreAdj');

  return { resources, rlimits: rlimits(h.Ulimits ?? [], host.hardLimits), ...(oom !== 0 ? { oomScoreAdj: oom } : {}), adjusted, warnings };
}

/**
 * --ulimit entries, plus the default open-files limit; a hard limit above the host's (which
 * brig cannot raise without CAP_SYS_RESOURCE) is an error naming it.
 */
function rlimits(ulimits: readonly Ulimit[], hard: Record<string, number>): Rlimit[] {
  const out = new Map<string, Rlimit>();
  const nofileHard = Math.min(DEFAULT_NOFILE, hard.RLIMIT_NOFILE ?? DEFAULT_NOFILE);
  out.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', soft: nofileHard, hard: nofileHard });
  ulimits.forEach((u, i) => {
    const field = `Ulimits[${i}]`;
    const type = ULIMIT_NAMES[u.Name];
    if (!type) throw err(`invalid ulimit type: ${u.Name}`, field, Object.keys(ULIMIT_NAMES).join(', '));
    if (u.Soft > u.Hard && u.Hard !== -1) throw err(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`, field);
    const max = hard[type] ?? Number.POSITIVE_INFINITY;
    const want = u.Hard === -1 ? Number.POSITIVE_INFINITY : u.Hard;
    if (want > max) {
      throw err(`ulimit ${u.Name}: hard limit ${u.Hard === -1 ? 'unlimited' : u.Hard} is above this host's ${max}, which brig cannot raise (it lacks CAP_SYS_RESOURCE)`, field, `at most --ulimit ${u.Name}=${max}`);
    }
    // -1 is unlimited: RLIM_INFINITY in the kernel's unsigned terms.
    const n = (v: number) => (v === -1 ? 2 ** 64 - 1 : v);
    out.set(type, { type, soft: n(u.Soft), hard: n(u.Hard) });
  });
  return [...out.values()];
}
