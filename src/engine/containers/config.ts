/**
 * What a container is asked to be, in the Docker Engine API's own shapes: the body of
 * `POST /containers/create` (a ContainerConfig with a HostConfig beside it). The CLI turns
 * its flags into this (as docker's CLI does), `brig serve` will take it off the wire, and
 * the engine keeps it in the container's record, so `inspect` returns what was asked in the
 * shape docker shows it. The fields listed are the ones brig carries out; the engine refuses
 * a request that sets any other (src/engine/spec/container-spec.ts), never ignores it.
 */

import type { MountRequest } from '../volumes/mount-spec.js';

/** docker's container.Config. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  /** `user`, `uid`, `user:group`, `uid:gid`. */
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[] | null;
  /** null: the image's; []: none. */
  Entrypoint?: string[] | null;
  Image: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Seconds `stop` waits before SIGKILL. */
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
}

/**
 * docker's container.HealthConfig (also the image config's Healthcheck). Durations in
 * nanoseconds, 0 for "inherit" (the image's, else docker's default).
 * Test: [] inherit, ["NONE"] disabled, ["CMD", args...], ["CMD-SHELL", command].
 */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** docker's RestartPolicy: "" and "no" mean none; MaximumRetryCount only with on-failure. */
export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  /** Any of r, w, m. */
  CgroupPermissions: string;
}

export interface LogConfigRequest {
  Type?: string;
  Config?: Record<string, string>;
}

/** docker's container.HostConfig (with its Resources inlined, as on the wire). */
export interface HostConfig {
  // ---- Resources
  Memory?: number;
  MemoryReservation?: number;
  /** Memory plus swap; -1 unlimited. */
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  /** null or 0: unlimited (docker's 0 means "not set"); -1 unlimited. */
  PidsLimit?: number | null;
  OomKillDisable?: boolean | null;
  Ulimits?: Ulimit[] | null;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  // ---- Everything else
  /** docker run --cidfile: the CLI writes it, the engine records it. */
  ContainerIDFile?: string;
  LogConfig?: LogConfigRequest;
  AutoRemove?: boolean;
  RestartPolicy?: RestartPolicy;
  /** `-v`: `name:/dst[:mode]`, `/host:/dst[:mode]` (volumes/mount-spec.ts). */
  Binds?: string[] | null;
  /** `--mount`: docker's mount.Mount objects. */
  Mounts?: MountRequest[] | null;
  /** `--volumes-from`: `container[:ro|rw]`. */
  VolumesFrom?: string[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  GroupAdd?: string[] | null;
  OomScoreAdj?: number;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  /** `no-new-privileges[:true|false]`, `seccomp=unconfined`, `seccomp=<profile JSON>`, `label=...`, `apparmor=...`, `systempaths=unconfined`. */
  SecurityOpt?: string[] | null;
  /** Path in the container -> tmpfs mount options. */
  Tmpfs?: Record<string, string>;
  /** Bytes; 0: docker's default of 64 MiB. */
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  /** Run an init (tini or catatonit from the host) as PID 1. */
  Init?: boolean | null;
  /** bridge (default), none, host, container:NAME|ID, or a user network's name. */
  NetworkMode?: string;
  /** "80/tcp" -> host bindings (docker's nat.PortMap); HostPort "" for a free one. */
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  /** -P: every exposed port to a free host port. */
  PublishAllPorts?: boolean;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  /** host:ip entries for /etc/hosts; ip may be "host-gateway". */
  ExtraHosts?: string[] | null;
  /** Legacy links: "name[:alias]" (an /etc/hosts entry for the other container). */
  Links?: string[] | null;
  /** Only "private" (every container gets its own namespace) or absent. */
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

/** docker's network.EndpointSettings, as a create request or `network connect` gives it. */
export interface EndpointSettings {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
  /** The interface's address (docker's --mac-address, on the first network). */
  MacAddress?: string;
}

/** The body of POST /containers/create. */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}
