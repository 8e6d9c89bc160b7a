/**
 * What the compiler needs to know about the host, gathered once by the runtime (I/O) and
 * passed in, so compilation stays pure and golden-testable.
 */
import type { SeccompCache } from '../seccomp/disk-cache.js';
import type { CgroupSelfJoin } from '../cgroups/manager.js';
import type { NativeArch } from '../seccomp/types.js';
import type { NamespaceType } from '../spec/types.js';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

export interface HostFacts {
  /** Absolute, symlink-free bundle directory. */
  bundle: string;
  /** Absolute, symlink-free rootfs directory. */
  rootfs: string;
  /** The mount point that contains the rootfs (made private when the root propagation is shared). */
  rootfsParentMount: string;
  /** The machine's architecture, for seccomp. */
  arch: NativeArch;
  /** /proc/sys/kernel/cap_last_cap */
  capLastCap: number;
  /** Whether this process holds CAP_SYS_RESOURCE (raising hard rlimits, lowering oom_score_adj). */
  hasCapSysResource: boolean;
  /** The caller's hard rlimits by RLIMIT_* name; Infinity for unlimited. */
  hardRlimits: Record<string, number>;
  /** The caller's oom_score_adj. */
  oomScoreAdj: number;
  /** What each absolute bind-mount source is on the host. */
  sources: Record<string, 'dir' | 'file' | 'missing'>;
  /** Whether /proc/kcore exists (for the /dev/core link). */
  hasKcore: boolean;
  /**
   * Namespaces the config joins by path that are the caller's own (the host's): a sysctl,
   * hostname or domainname set in one would change the host.
   */
  callersNamespaces?: NamespaceType[];
  cgroupLayout: CgroupLayout;
  /** The caller's cgroups: v1 controller lists ("cpu,cpuacct") and paths, and the v2 path under "". */
  cgroups: { controllers: string; path: string }[];
  /** The v1 hierarchies mounted under /sys/fs/cgroup (directory names, e.g. "cpu,cpuacct", "memory"). */
  cgroupV1Mounts: string[];
}

export interface CompileOptions {
  /** Parent exits once init is started (runc --detach); otherwise it waits and reports init's status. */
  detach: boolean;
  /** chroot instead of pivot_root (runc --no-pivot). */
  noPivot: boolean;
  /** Extra fds passed to the container after stdio (runc --preserve-fds). */
  preserveFds: number;
  /** process.terminal: where the pty master goes (runc --console-socket). */
  consoleSocket?: string;
  /**
   * process.terminal without a console socket, in the foreground: the caller's stdin is a
   * terminal (stage 0 relays the pty to the caller's stdio, that terminal in raw mode).
   */
  stdinIsTerminal?: boolean;
  /** With the relay (no console socket): the helper's fd of a pipe of resizes (console_relay). */
  resizeFd?: number;
  /** create: init waits on this FIFO until `start` (runc's exec.fifo). */
  execFifo?: string;
  /**
   * The session keyring init joins instead of the caller's (runc: "_ses.<id>"); absent
   * with --no-new-keyring, when the container keeps the caller's session keyring.
   */
  sessionKeyring?: string;
  /**
   * How the plan joins the container's cgroups: init moves itself into the v1 ones and is
   * cloned into the v2 one (see CgroupManager.selfJoin). Absent: the caller moves init.
   */
  cgroupJoin?: CgroupSelfJoin;
  /** Compiled seccomp programs kept between runtime processes (seccomp/disk-cache.ts). */
  seccompCache?: SeccompCache;
}
