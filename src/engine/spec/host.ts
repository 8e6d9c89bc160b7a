/**
 * What the engine needs to know about the host to turn a container request into a spec:
 * the capabilities it can hand out, CPUs, hard rlimits, whether swap can be limited, the
 * init binary for --init, the host's resolv.conf. Read once per process, lazily; tests pass
 * their own.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { hasErrno } from '../../errors/index.js';
import { parseLimits } from '../../runtime/host-facts.js';
import { CAPABILITIES } from '../../runtime/linux/constants.js';
import { readTextSync } from '../../util/read-text.js';

export interface EngineHost {
  /** Capabilities brig itself holds (its bounding set): all a container can be given. */
  capabilities: string[];
  /** Every capability this kernel knows (up to cap_last_cap). */
  kernelCapabilities: string[];
  /** CPUs this process may run on. */
  cpus: number;
  /** The host's online CPUs as a cpuset list ("0-1"). */
  onlineCpus: string;
  /** The host's memory nodes as a cpuset list ("0"). */
  onlineMems: string;
  memTotal: number;
  /** Hard rlimits of this process, by OCI name (RLIMIT_NOFILE ...); a container cannot get more. */
  hardLimits: Record<string, number>;
  /** The memory cgroup can limit memory+swap (v1 memsw, v2 memory.swap.max). */
  swapLimit: boolean;
  /** A statically linked init for --init (it runs inside any image), and why none was found. */
  init: { path: string } | { missing: string };
  /** The host's /etc/resolv.conf, as containers without their own DNS settings copy it. */
  resolvConf: string;
  /** The host's name (what a --uts host container is called). */
  hostname?: string;
}

/** Where --init looks, in order: Debian's tini-static, catatonit, docker's own name. */
export const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init'];

function readOr(file: string, fallback: string): string {
  try {
    return readTextSync(file);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'EACCES')) return fallback;
    throw e;
  }
}

export function capabilityNames(mask: bigint, lastCap: number): string[] {
  return CAPABILITIES.slice(0, lastCap + 1).filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/**
 * Whether an ELF file needs no program interpreter (PT_INTERP): only such a binary runs in
 * an image that has no C library, or another one.
 */
export function isStaticElf(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'EACCES') || hasErrno(e, 'EISDIR')) return false;
    throw e;
  }
  try {
    const h = Buffer.alloc(64);
    if (readSync(fd, h, 0, 64, 0) < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return false; // ELF64 LE
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    if (readSync(fd, ph, 0, ph.length, phoff) < ph.length) return false;
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

function findInit(): EngineHost['init'] {
  for (const c of INIT_CANDIDATES) if (isStaticElf(c)) return { path: c };
  return { missing: `no statically linked init found (looked for ${INIT_CANDIDATES.join(', ')})` };
}

function statusMask(status: string, key: string): bigint {
  const m = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

let cached: EngineHost | undefined;

export function readEngineHost(): EngineHost {
  if (cached) return cached;
  const lastCap = Number(readOr('/proc/sys/kernel/cap_last_cap', '40').trim());
  const status = readTextSync('/proc/self/status');
  const swap =
    readOr('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '') !== '' ||
    readOr('/sys/fs/cgroup/cgroup.controllers', '').includes('memory');
  cached = {
    capabilities: capabilityNames(statusMask(status, 'CapBnd'), lastCap),
    kernelCapabilities: CAPABILITIES.slice(0, lastCap + 1),
    cpus: availableParallelism(),
    onlineCpus: readOr('/sys/devices/system/cpu/online', '0').trim(),
    onlineMems: readOr('/sys/devices/system/node/online', '0').trim(),
    memTotal: totalmem(),
    hardLimits: parseLimits(readTextSync('/proc/self/limits')),
    swapLimit: swap,
    init: findInit(),
    resolvConf: readOr('/etc/resolv.conf', ''),
    hostname: hostname(),
  };
  return cached;
}
