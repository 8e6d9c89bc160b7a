/**
 * A container record as the Docker Engine API shows it: ContainerJSON (GET
 * /containers/{id}/json, `inspect`) and ContainerSummary (GET /containers/json, `ps`). Every
 * field docker has is present, with docker's value for "not set", so clients that read a
 * field brig does not use yet (compose reads HostConfig.RestartPolicy, NetworkSettings, ...)
 * find what they expect.
 */
import type { HostConfig } from './config.js';
import type { ContainerSettings, StoredConfig } from './service.js';
import { humanStatus, isRunningLike } from './state.js';
import type { ContainerRecord, HealthState } from './store.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** GET /containers/json's shape. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: unknown[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: unknown[];
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

/** GET /containers/{id}/json's shape. */
export interface ContainerJSON {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: Required<Pick<HostConfig, 'AutoRemove' | 'Privileged' | 'ReadonlyRootfs' | 'NetworkMode'>> & HostConfig & Record<string, unknown>;
  GraphDriver: { Data: Record<string, string> | null; Name: string };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: unknown[];
  Config: StoredConfig & { AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean; Tty: boolean; OpenStdin: boolean; StdinOnce: boolean; Image: string };
  NetworkSettings: Record<string, unknown>;
}

/** docker's HostConfig with nothing set: what inspect shows for a field the request left out. */
function hostConfigDefaults(): Record<string, unknown> {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'none',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: 'private',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'brig',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
    Init: null,
  };
}

export function containerState(r: ContainerRecord): ContainerState {
  const st = r.state;
  return {
    Status: st.status,
    Running: st.status === 'running' || st.status === 'paused',
    Paused: st.status === 'paused',
    Restarting: st.status === 'restarting',
    OOMKilled: st.oomKilled,
    Dead: st.status === 'dead',
    Pid: isRunningLike(st.status) ? st.pid : 0,
    ExitCode: st.exitCode,
    Error: st.error,
    StartedAt: st.startedAt || ZERO_TIME,
    FinishedAt: st.finishedAt || ZERO_TIME,
    ...(st.health ? { Health: st.health } : {}),
  };
}

export function containerJSON(r: ContainerRecord, s: ContainerSettings): ContainerJSON {
  const dir = s.bundle;
  const c = s.config;
  return {
    Id: r.id,
    Created: r.created,
    Path: s.path,
    Args: s.args,
    State: containerState(r),
    Image: r.imageId,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    // docker names a log file only for json-file (the local driver's is its own business).
    LogPath: s.log.driver === 'json-file' ? (s.files.log ?? '') : '',
    Name: `/${r.name}`,
    RestartCount: r.restartCount,
    Driver: s.rootfs ? 'overlayfs' : 'host',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: { ...hostConfigDefaults(), ...s.hostConfig } as ContainerJSON['HostConfig'],
    GraphDriver: { Data: s.rootfs ? { MergedDir: s.rootfs.path } : null, Name: s.rootfs ? 'overlayfs' : 'host' },
    Mounts: s.mounts ?? [],
    Config: {
      ...c,
      AttachStdin: c.AttachStdin === true,
      AttachStdout: c.AttachStdout !== false,
      AttachStderr: c.AttachStderr !== false,
      Tty: c.Tty === true,
      OpenStdin: c.OpenStdin === true,
      StdinOnce: c.StdinOnce === true,
      Image: r.image,
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: {},
      SandboxKey: '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: networks(),
    },
  };
}

/** The summary's Status ("Up 5 minutes", "Exited (0) 2 hours ago"): the only part of it that changes with the clock alone. */
export function summaryStatus(r: ContainerRecord, now: Date): string {
  return humanStatus({ status: r.state.status, exitCode: r.state.exitCode, startedAt: r.state.startedAt, finishedAt: r.state.finishedAt, ...(r.state.health ? { health: r.state.health.Status } : {}) }, now);
}

export function containerSummary(r: ContainerRecord, s: ContainerSettings, now: Date, status = summaryStatus(r, now)): ContainerSummary {
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.image,
    ImageID: r.imageId,
    // dockerd's list: an argument with a space in it is shown in single quotes.
    Command: [s.path, ...s.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    State: r.state.status,
    Status: status,
    Ports: [],
    Labels: r.labels,
    HostConfig: { NetworkMode: s.hostConfig.NetworkMode ?? 'none' },
    NetworkSettings: { Networks: networks() },
    // docker's list shows a mount's type, name, source, destination, driver, mode, RW and propagation.
    Mounts: s.mounts ?? [],
  };
}

/** A container's networks as docker keys them: brig has none yet, so each is in "none". */
function networks(): Record<string, unknown> {
  return { none: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } };
}
