/**
 * The OCI features document (runtime-spec features.md): what this build and this host
 * support, for `brig-runtime features`. Claims nothing the runtime would refuse.
 */
import { release } from 'node:os';
import { CAPABILITIES } from './linux/constants.js';
import type { CgroupLayout } from './plan/facts.js';
import { knownMountOptions } from './plan/mount-options.js';
import { ACTION_BASE, FLAG_BITS } from './seccomp/actions.js';
import { SCMP_ARCHES } from './seccomp/arch.js';
import { OPERATORS } from './seccomp/validate.js';

/** Kernel version that introduced each filter flag (seccomp(2)). */
const FLAG_SINCE: Record<string, [number, number]> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17],
  SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17],
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

function kernelAtLeast(rel: string, [maj, min]: [number, number]): boolean {
  const [a = 0, b = 0] = rel.split(/[.-]/).map(Number);
  return a > maj || (a === maj && b >= min);
}

export function featuresDocument(opts: {
  version: string;
  capLastCap: number;
  cgroupLayout: CgroupLayout;
  kernel?: string;
}) {
  const kernel = opts.kernel ?? release();
  const knownFlags = Object.keys(FLAG_BITS).sort();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: CAPABILITIES.slice(0, opts.capLastCap + 1),
      // Both managers are built in (v2 is tested in a VM); no systemd driver.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTION_BASE).sort(),
        operators: [...OPERATORS].sort(),
        archs: Object.entries(SCMP_ARCHES)
          .filter(([, abi]) => abi !== undefined)
          .map(([name]) => name)
          .sort(),
        knownFlags,
        supportedFlags: knownFlags.filter((f) => FLAG_SINCE[f] && kernelAtLeast(kernel, FLAG_SINCE[f]!)),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'io.github.brig.version': opts.version,
      'io.github.brig.cgroup.layout': opts.cgroupLayout,
      'io.github.brig.seccomp.compiler': 'brig (TypeScript, no libseccomp)',
    },
  };
}
