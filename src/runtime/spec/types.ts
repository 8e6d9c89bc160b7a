/**
 * OCI runtime-spec 1.2 config.json types (the Linux parts brig honours).
 * Field names follow the spec exactly so a config round-trips unchanged.
 */
import type { LinuxResources } from '../cgroups/resources.js';
import type { LinuxSeccomp } from '../seccomp/types.js';

export interface Spec {
  ociVersion: string;
  root?: Root;
  process?: Process;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: IOPriority;
  execCPUAffinity?: { initial?: string; final?: string };
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export interface IOPriority {
  class: string;
  priority?: number;
}

export interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface Namespace {
  type: NamespaceType;
  path?: string;
}

export interface Device {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface TimeOffset {
  secs?: number;
  nanosecs?: number;
}

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  timeOffsets?: Record<string, TimeOffset>;
  devices?: Device[];
  cgroupsPath?: string;
  /** Applied by the cgroup managers (src/runtime/cgroups), which name the field in errors. */
  resources?: LinuxResources;
  rootfsPropagation?: string;
  /** Validated and compiled by src/runtime/seccomp (errors name linux.seccomp.* paths). */
  seccomp?: LinuxSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: string; flags?: string[] };
  intelRdt?: Record<string, unknown>;
  memoryPolicy?: Record<string, unknown>;
}

/** The state object the spec defines (`runtime state` output, hook stdin). */
export interface State {
  ociVersion: string;
  id: string;
  /** The spec's four, and runc's "paused" for a frozen container. */
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}
