/**
 * POST /containers/create's body: docker's container.Config with HostConfig and
 * NetworkingConfig, each field typed (a wrong type is a 400 naming it), the fields brig
 * carries out passed on to the Engine, docker's fields brig does not carry out accepted only
 * with their zero values (docker's CLI sends every field of the struct), fields docker does
 * not have dropped as docker's decoder drops them.
 */
import type { ContainerCreateRequest } from '../../engine/engine.js';
import { badRequest } from '../errors.js';
import { check, type Schema } from '../body.js';

const strings: Schema = { array: 'string', nullable: true };
const stringMap: Schema = { map: 'string', nullable: true };
const emptyObjects: Schema = { map: 'any', nullable: true };
/** Cmd and Entrypoint: docker's strslice takes a string too. */
const strslice: Schema = 'any';

/** Go's decoder leaves a field null sets at zero: docker-compose 1.29 sends StartPeriod: null. */
const nullableInt: Schema = { nullable: 'integer' };
const HEALTH: Schema = {
  object: { Test: strings, Interval: nullableInt, Timeout: nullableInt, StartPeriod: nullableInt, StartInterval: nullableInt, Retries: nullableInt },
  nullable: true,
};

/** docker's Resources fields brig does not carry out (create and update): zero values only. */
export const ZERO_RESOURCES: Record<string, Schema> = {
  CgroupParent: 'zero',
  BlkioWeightDevice: 'zero',
  BlkioDeviceReadBps: 'zero',
  BlkioDeviceWriteBps: 'zero',
  BlkioDeviceReadIOps: 'zero',
  BlkioDeviceWriteIOps: 'zero',
  CpuRealtimePeriod: 'zero',
  CpuRealtimeRuntime: 'zero',
  CpuCount: 'zero',
  CpuPercent: 'zero',
  IOMaximumIOps: 'zero',
  IOMaximumBandwidth: 'zero',
  KernelMemory: 'zero',
  KernelMemoryTCP: 'zero',
};

const HOST_CONFIG: Schema = {
  nullable: true,
  object: {
    Memory: 'integer',
    MemoryReservation: 'integer',
    MemorySwap: 'integer',
    MemorySwappiness: { nullable: 'integer' },
    NanoCpus: 'integer',
    CpuShares: 'integer',
    CpuPeriod: 'integer',
    CpuQuota: 'integer',
    CpusetCpus: 'string',
    CpusetMems: 'string',
    BlkioWeight: 'integer',
    PidsLimit: { nullable: 'integer' },
    OomKillDisable: { nullable: 'boolean' },
    Ulimits: { array: { object: { Name: 'string', Soft: 'integer', Hard: 'integer' } }, nullable: true },
    Devices: { array: { object: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' } }, nullable: true },
    DeviceCgroupRules: strings,
    ContainerIDFile: 'string',
    LogConfig: { object: { Type: 'string', Config: stringMap }, nullable: true },
    AutoRemove: 'boolean',
    RestartPolicy: { object: { Name: 'string', MaximumRetryCount: 'integer' }, nullable: true },
    Binds: strings,
    // Checked field by field by the engine (volumes/mount-spec.ts), which names them.
    Mounts: { array: 'any', nullable: true },
    VolumesFrom: strings,
    CapAdd: strings,
    CapDrop: strings,
    GroupAdd: strings,
    OomScoreAdj: 'integer',
    Privileged: 'boolean',
    ReadonlyRootfs: 'boolean',
    SecurityOpt: strings,
    Tmpfs: stringMap,
    ShmSize: 'integer',
    Sysctls: stringMap,
    Init: { nullable: 'boolean' },
    NetworkMode: 'string',
    PortBindings: { map: { array: { object: { HostIp: 'string', HostPort: 'string' } }, nullable: true }, nullable: true },
    PublishAllPorts: 'boolean',
    Dns: strings,
    DnsSearch: strings,
    DnsOptions: strings,
    ExtraHosts: strings,
    IpcMode: 'string',
    PidMode: 'string',
    UTSMode: 'string',
    CgroupnsMode: 'string',
    MaskedPaths: strings,
    ReadonlyPaths: strings,
    // The terminal's first size: the client resizes once the container runs (POST .../resize).
    ConsoleSize: 'any',
    // docker's, not brig's: zero values only.
    ...ZERO_RESOURCES,
    DeviceRequests: 'zero',
    VolumeDriver: 'zero',
    // Legacy links, name[:alias]: the engine writes them in /etc/hosts (default bridge only).
    Links: strings,
    Cgroup: 'zero',
    UsernsMode: 'zero',
    Isolation: 'zero',
    Runtime: 'zero',
    StorageOpt: 'zero',
    Annotations: 'zero',
  },
};

const ENDPOINT: Schema = {
  nullable: true,
  object: {
    IPAMConfig: { object: { IPv4Address: 'string', IPv6Address: 'zero', LinkLocalIPs: 'zero' }, nullable: true },
    Aliases: strings,
    Links: 'zero',
    // The interface's address (docker's --mac-address since API 1.44); the engine checks it.
    MacAddress: 'string',
    DriverOpts: 'zero',
    GwPriority: 'zero',
    // Filled by the daemon, sent empty by clients.
    NetworkID: 'string',
    EndpointID: 'zero',
    Gateway: 'zero',
    IPAddress: 'zero',
    IPPrefixLen: 'zero',
    IPv6Gateway: 'zero',
    GlobalIPv6Address: 'zero',
    GlobalIPv6PrefixLen: 'zero',
    DNSNames: 'zero',
  },
};

export const CREATE_BODY: { object: Record<string, Schema> } = {
  object: {
    Hostname: 'string',
    Domainname: 'string',
    User: 'string',
    AttachStdin: 'boolean',
    AttachStdout: 'boolean',
    AttachStderr: 'boolean',
    ExposedPorts: emptyObjects,
    Tty: 'boolean',
    OpenStdin: 'boolean',
    StdinOnce: 'boolean',
    Env: strings,
    Cmd: strslice,
    Healthcheck: HEALTH,
    Image: 'string',
    Volumes: emptyObjects,
    WorkingDir: 'string',
    Entrypoint: strslice,
    Labels: stringMap,
    StopSignal: 'string',
    StopTimeout: { nullable: 'integer' },
    ArgsEscaped: 'zero',
    NetworkDisabled: 'zero',
    MacAddress: 'zero',
    OnBuild: 'zero',
    Shell: 'zero',
    HostConfig: HOST_CONFIG,
    NetworkingConfig: { object: { EndpointsConfig: { map: ENDPOINT, nullable: true } }, nullable: true },
  },
};

function strsliceOf(v: unknown, field: string): string[] | null | undefined {
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw badRequest(`${field}: expected a string or an array of strings`);
}

/** Drops nulls (docker's "not set") so the engine sees only what was asked. */
function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** The Engine's request from a checked body. */
export function createRequest(raw: Record<string, unknown>): ContainerCreateRequest {
  if (typeof raw.Image !== 'string' || raw.Image === '') throw badRequest('Image: no image given (config.Image is required)');
  const { HostConfig, NetworkingConfig, Cmd, Entrypoint, ...config } = raw;
  const out: Record<string, unknown> = compact(config);
  if (out.Healthcheck) out.Healthcheck = compact(out.Healthcheck as Record<string, unknown>);
  const cmd = strsliceOf(Cmd, 'Cmd');
  if (cmd !== undefined) out.Cmd = cmd;
  const entrypoint = strsliceOf(Entrypoint, 'Entrypoint');
  // null: the image's entrypoint; [] (or [""]: docker's --entrypoint ""): none.
  if (entrypoint !== undefined) out.Entrypoint = entrypoint && entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint;
  if (HostConfig) {
    const { ConsoleSize: _size, ...h } = HostConfig as Record<string, unknown>;
    const host = compact(h);
    // docker's "default" network mode is the bridge on Linux.
    if (host.NetworkMode === 'default' || host.NetworkMode === '') delete host.NetworkMode;
    if (host.RestartPolicy && (host.RestartPolicy as { Name?: string }).Name === '') delete host.RestartPolicy;
    out.HostConfig = host;
  }
  const endpoints = (NetworkingConfig as { EndpointsConfig?: Record<string, Record<string, unknown> | null> } | null | undefined)?.EndpointsConfig;
  if (endpoints) {
    const mode = (out.HostConfig as { NetworkMode?: string } | undefined)?.NetworkMode ?? 'bridge';
    const kept = Object.entries(endpoints)
      // Endpoint settings for a mode with no endpoints (none, host, container:) say nothing,
      // but a MAC address there is the engine's to refuse ("conflicting options").
      .filter(([name, ep]) => !(['none', 'host'].includes(name) || name.startsWith('container:')) || name !== mode || !!ep?.MacAddress)
      // docker's CLI names the default network "default": the bridge on Linux.
      .map(([name, ep]) => [name === 'default' ? 'bridge' : name, compact({ Aliases: ep?.Aliases, IPAMConfig: ep?.IPAMConfig, MacAddress: ep?.MacAddress || undefined })] as const)
      .filter(([, ep]) => Object.keys(ep).length || Object.keys(endpoints).length > 1 || mode !== 'bridge');
    if (kept.length) out.NetworkingConfig = { EndpointsConfig: Object.fromEntries(kept) };
  }
  return out as unknown as ContainerCreateRequest;
}

export function checkCreate(body: unknown): ContainerCreateRequest {
  return createRequest(check(body, CREATE_BODY, '') as Record<string, unknown>);
}
