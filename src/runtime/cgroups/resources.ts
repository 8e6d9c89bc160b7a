/**
 * The OCI runtime spec's `linux.resources`, as it appears in config.json (and in
 * `brig-runtime update --resources`). Field names and units are the spec's; every field is
 * optional because `update` sends only what changes. Numbers are JS numbers: the values the
 * kernel accepts here all fit in 2^53 except "unlimited", which the spec spells -1.
 *
 * Kept here rather than imported from the spec module so the cgroup layer has no upward
 * imports; the shapes are structurally identical, so a validated spec object passes as is.
 */

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** 'a' (all), 'c' (char) or 'b' (block); absent means 'a'. */
  type?: string;
  /** Absent or -1 means any. */
  major?: number;
  minor?: number;
  /** Any of 'r', 'w', 'm'; absent means 'rwm'. */
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  /** Memory plus swap (the v1 memsw meaning, which the spec keeps on v2 too). */
  swap?: number;
  /** Deprecated by the spec; kernels since 5.4 no longer enforce it. */
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  limit?: number;
}

export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** "2MB", "1GB", "64KB" ... */
  pageSize: string;
  limit: number;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}

export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  /** Keyed by HCA device name, e.g. "mlx5_1". */
  rdma?: Record<string, LinuxRdma>;
  /** cgroup v2 only: file name → content, written as given. */
  unified?: Record<string, string>;
}
