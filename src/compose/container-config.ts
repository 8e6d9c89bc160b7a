/**
 * A compose service as Engine requests, as docker compose v2 makes them (compose's
 * pkg/compose/create.go): the ContainerCreateRequest of one replica, and the names and
 * labels that tie containers, networks and volumes to their project.
 *
 * Every service field is either carried out here, handled by the orchestration (up.ts:
 * depends_on, scale, build, pull_policy, profiles), or refused with its path
 * (services.web.gpus) — never silently dropped. A few swarm-only deploy keys that change
 * nothing on one host are warnings, as docker compose treats them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ContainerCreateRequest, EndpointSettings, HealthConfig, HostConfig, RestartPolicy } from '../engine/containers/config.js';
import type { MountRequest } from '../engine/volumes/mount-spec.js';
import { BrigError } from '../errors/index.js';
import { goDuration } from '../util/docker-filters.js';
import { readTextSync } from '../util/read-text.js';
import { ramInBytes } from '../util/units.js';
import { parseDotenv } from './dotenv.js';
import type { Dict, PortConfig, VolumeMount } from './normalize.js';
import type { Project } from './project.js';

/** compose's label keys (github.com/docker/compose/v2/pkg/api/labels.go). */
export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
} as const;

/** The compose version brig's labels claim: the Compose Specification level it implements (compose v2's). */
export const COMPOSE_VERSION = '2.24.0';

/** Keys up.ts handles (ordering, scale, images) or that only describe (no effect on a container). */
const ORCHESTRATION = new Set(['depends_on', 'scale', 'build', 'pull_policy', 'profiles', 'extends', 'image', 'container_name', 'develop']);

/** Service keys mapped onto the request below. */
const MAPPED = new Set([
  'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'networks', 'network_mode', 'healthcheck', 'restart', 'deploy',
  'logging', 'user', 'working_dir', 'cap_add', 'cap_drop', 'read_only', 'tmpfs', 'ulimits', 'extra_hosts', 'labels', 'stop_signal', 'stop_grace_period',
  'init', 'shm_size', 'sysctls', 'hostname', 'domainname', 'dns', 'dns_search', 'dns_opt', 'privileged', 'security_opt', 'oom_score_adj', 'group_add',
  'stdin_open', 'tty', 'mem_limit', 'mem_reservation', 'memswap_limit', 'mem_swappiness', 'cpus', 'cpu_shares', 'cpu_period', 'cpu_quota', 'cpuset',
  'pids_limit', 'oom_kill_disable', 'devices', 'ipc', 'pid', 'cgroup', 'volumes_from',
]);

/** deploy keys of swarm mode: one host has nothing to do with them (docker compose ignores them too). */
const SWARM_ONLY = new Set(['mode', 'placement', 'update_config', 'rollback_config', 'endpoint_mode', 'labels']);

function bad(field: string, why: string): BrigError {
  return new BrigError('INVALID_CONFIG', `${field}: ${why}`, { field });
}

function unsupported(field: string): BrigError {
  return new BrigError('UNSUPPORTED_FIELD', `${field}: not supported by brig compose`, { field, hint: 'remove it, or run this project with docker compose' });
}

/** compose's durations ("1m30s", "500ms", a bare number of seconds) in nanoseconds. */
export function durationNs(v: unknown, field: string): number {
  if (typeof v === 'number') return Math.round(v * 1e9);
  const ms = goDuration(String(v));
  if (ms === undefined || ms < 0) throw bad(field, `invalid duration "${String(v)}"`);
  return Math.round(ms * 1e6);
}

function bytes(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  try {
    return ramInBytes(String(v), field);
  } catch {
    throw bad(field, `invalid size "${String(v)}"`);
  }
}

export function containerName(project: string, service: string, n: number): string {
  return `${project}-${service}-${n}`;
}

/**
 * The engine's name of a project network or volume: its `name:`; else, external, the key itself
 * (or the deprecated `external: {name:}`), as the Compose Specification says, since the project
 * did not make it; else PROJECT_KEY. loadProject resolves these into `name:` already; this
 * covers a Project made elsewhere.
 */
function resourceName(p: Project, d: Dict, key: string): string {
  if (typeof d.name === 'string') return d.name;
  if (!isExternal(d)) return `${p.name}_${key}`;
  const legacy = typeof d.external === 'object' && d.external !== null ? (d.external as Dict).name : undefined;
  return typeof legacy === 'string' ? legacy : key;
}

export function networkName(p: Project, key: string): string {
  return resourceName(p, p.networks[key] ?? {}, key);
}

export function volumeName(p: Project, key: string): string {
  return resourceName(p, p.volumes[key] ?? {}, key);
}

export function isExternal(d: Dict): boolean {
  return d.external === true || (typeof d.external === 'object' && d.external !== null);
}

/** Labels every project resource carries. */
export function projectLabels(p: Project): Record<string, string> {
  return { [LABEL.project]: p.name, [LABEL.version]: COMPOSE_VERSION };
}

/** The image a service runs: its `image`, or the one `build` makes (compose's PROJECT-SERVICE). */
export function serviceImage(p: Project, name: string): string {
  const s = p.services[name]!;
  return typeof s.image === 'string' ? s.image : `${p.name}-${name}`;
}

/** How many containers a service wants: --scale, else `scale`, else deploy.replicas, else 1. */
export function serviceScale(s: Dict): number {
  const deploy = (s.deploy ?? {}) as Dict;
  if (typeof s.scale === 'number') return s.scale;
  if (typeof deploy.replicas === 'number') return deploy.replicas;
  return 1;
}

/**
 * compose's config-hash, taken of what the container is asked to be: the request with the
 * environment resolved (env_file contents, values from the shell) and the user's labels, so
 * any change that makes a different container changes it, and what does not (the replica
 * count, how the image is built, what the service waits for) does not.
 */
export function configHash(request: ContainerCreateRequest): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Dict)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(sorted(request))).digest('hex');
}

/** The environment: env_file files in order, then `environment`; a null value from the project's environment (dropped when unset there). */
function environment(p: Project, name: string, s: Dict): string[] {
  const at = `services.${name}`;
  const env = new Map<string, string>();
  for (const [i, f] of ((s.env_file ?? []) as { path: string; required?: boolean }[]).entries()) {
    if (!existsSync(f.path)) {
      if (f.required === false) continue;
      throw bad(`${at}.env_file[${i}]`, `env file ${f.path} not found`);
    }
    for (const [k, v] of parseDotenv(readTextSync(f.path), f.path, (n) => env.get(n) ?? p.environment[n])) env.set(k, v);
  }
  for (const [k, v] of Object.entries((s.environment ?? {}) as Record<string, string | null>)) {
    if (v !== null) env.set(k, v);
    else if (p.environment[k] !== undefined) env.set(k, p.environment[k]);
    else env.delete(k);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

function mounts(p: Project, name: string, s: Dict): MountRequest[] {
  return ((s.volumes ?? []) as VolumeMount[]).map((v, i): MountRequest => {
    const at = `services.${name}.volumes[${i}]`;
    const ro = v.read_only === true ? { ReadOnly: true } : {};
    for (const [group, known] of [['bind', ['propagation', 'create_host_path', 'selinux']], ['volume', ['nocopy', 'subpath']], ['tmpfs', ['size', 'mode']]] as const) {
      for (const k of Object.keys((v[group] ?? {}) as Dict)) if (!(known as readonly string[]).includes(k)) throw unsupported(`${at}.${group}.${k}`);
      if (v[group] !== undefined && group !== v.type) throw bad(`${at}.${group}`, `options for a ${group} mount on a ${v.type} mount`);
    }
    if (v.type === 'bind') {
      if (v.bind?.selinux) throw unsupported(`${at}.bind.selinux`);
      return {
        Type: 'bind',
        Source: v.source!,
        Target: v.target,
        ...ro,
        BindOptions: { ...(v.bind?.propagation ? { Propagation: v.bind.propagation } : {}), ...(v.bind?.create_host_path ? { CreateMountpoint: true } : {}) },
      };
    }
    if (v.type === 'tmpfs') {
      const t = v.tmpfs ?? {};
      return { Type: 'tmpfs', Target: v.target, ...ro, TmpfsOptions: { ...(t.size !== undefined ? { SizeBytes: bytes(t.size, `${at}.tmpfs.size`) } : {}), ...(t.mode !== undefined ? { Mode: t.mode } : {}) } };
    }
    // A named volume is the project's (or its external name); no source: an anonymous one.
    return {
      Type: 'volume',
      ...(v.source !== undefined ? { Source: volumeName(p, v.source) } : {}),
      Target: v.target,
      ...ro,
      ...(v.volume?.nocopy || v.volume?.subpath ? { VolumeOptions: { ...(v.volume.nocopy ? { NoCopy: true } : {}), ...(v.volume.subpath ? { Subpath: v.volume.subpath } : {}) } } : {}),
    };
  });
}

function portBindings(s: Dict): { exposed: Record<string, Record<string, never>>; bindings: HostConfig['PortBindings'] } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: NonNullable<HostConfig['PortBindings']> = {};
  for (const e of (s.expose ?? []) as string[]) {
    const [port, proto = 'tcp'] = e.split('/');
    const [a, b = a] = port!.split('-').map(Number) as [number, number?];
    for (let n = a; n <= b!; n++) exposed[`${n}/${proto}`] = {};
  }
  for (const pc of (s.ports ?? []) as PortConfig[]) {
    const key = `${pc.target}/${pc.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: pc.host_ip ?? '', HostPort: pc.published ?? '' });
  }
  return { exposed, bindings };
}

function healthcheck(name: string, h: Dict): HealthConfig {
  const at = `services.${name}.healthcheck`;
  if (h.disable === true) return { Test: ['NONE'] };
  const out: HealthConfig = {};
  if (h.test !== undefined) out.Test = (h.test as unknown[]).map(String);
  if (h.interval !== undefined) out.Interval = durationNs(h.interval, `${at}.interval`);
  if (h.timeout !== undefined) out.Timeout = durationNs(h.timeout, `${at}.timeout`);
  if (h.start_period !== undefined) out.StartPeriod = durationNs(h.start_period, `${at}.start_period`);
  if (h.start_interval !== undefined) out.StartInterval = durationNs(h.start_interval, `${at}.start_interval`);
  if (h.retries !== undefined) out.Retries = Number(h.retries);
  return out;
}

function restartPolicy(name: string, s: Dict): RestartPolicy | undefined {
  if (typeof s.restart === 'string') {
    const [policy, count] = s.restart.split(':');
    if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(policy!)) throw bad(`services.${name}.restart`, `invalid restart policy "${s.restart}"`);
    if (count !== undefined && policy !== 'on-failure') throw bad(`services.${name}.restart`, `a retry count only goes with on-failure: "${s.restart}"`);
    return { Name: policy as RestartPolicy['Name'], ...(count !== undefined ? { MaximumRetryCount: Number(count) } : {}) };
  }
  // deploy.restart_policy stands in when `restart` is not set (compose's getRestartPolicy).
  const rp = ((s.deploy ?? {}) as Dict).restart_policy as Dict | undefined;
  if (!rp) return undefined;
  const at = `services.${name}.deploy.restart_policy`;
  for (const k of Object.keys(rp)) if (k !== 'condition' && k !== 'max_attempts') throw unsupported(`${at}.${k}`);
  const cond = (rp.condition as string | undefined) ?? 'any';
  const Name = cond === 'none' ? 'no' : cond === 'on-failure' ? 'on-failure' : 'always';
  return { Name, ...(rp.max_attempts !== undefined && Name === 'on-failure' ? { MaximumRetryCount: Number(rp.max_attempts) } : {}) };
}

/** deploy.resources and the service-level limits (mem_limit, cpus, ...); deploy's win, as in compose. */
function resources(name: string, s: Dict, warn: (m: string) => void): Partial<HostConfig> {
  const at = `services.${name}`;
  const r: Partial<HostConfig> = {};
  if (s.mem_limit !== undefined) r.Memory = bytes(s.mem_limit, `${at}.mem_limit`);
  if (s.mem_reservation !== undefined) r.MemoryReservation = bytes(s.mem_reservation, `${at}.mem_reservation`);
  if (s.memswap_limit !== undefined) r.MemorySwap = s.memswap_limit === -1 ? -1 : bytes(s.memswap_limit, `${at}.memswap_limit`);
  if (s.mem_swappiness !== undefined) r.MemorySwappiness = Number(s.mem_swappiness);
  if (s.cpus !== undefined) r.NanoCpus = Math.round(Number(s.cpus) * 1e9);
  if (s.cpu_shares !== undefined) r.CpuShares = Number(s.cpu_shares);
  if (s.cpu_period !== undefined) r.CpuPeriod = Number(s.cpu_period);
  if (s.cpu_quota !== undefined) r.CpuQuota = Number(s.cpu_quota);
  if (s.cpuset !== undefined) r.CpusetCpus = String(s.cpuset);
  if (s.pids_limit !== undefined) r.PidsLimit = Number(s.pids_limit);
  if (s.oom_kill_disable !== undefined) r.OomKillDisable = s.oom_kill_disable === true;
  const deploy = (s.deploy ?? {}) as Dict;
  for (const k of Object.keys(deploy)) {
    if (k === 'replicas' || k === 'resources' || k === 'restart_policy') continue;
    if (SWARM_ONLY.has(k)) warn(`${at}.deploy.${k}: swarm mode only, ignored on one host (as docker compose does)`);
    else throw unsupported(`${at}.deploy.${k}`);
  }
  const res = (deploy.resources ?? {}) as Dict;
  for (const k of Object.keys(res)) if (k !== 'limits' && k !== 'reservations') throw unsupported(`${at}.deploy.resources.${k}`);
  const limits = (res.limits ?? {}) as Dict;
  for (const [k, v] of Object.entries(limits)) {
    const f = `${at}.deploy.resources.limits.${k}`;
    if (k === 'cpus') r.NanoCpus = Math.round(Number(v) * 1e9);
    else if (k === 'memory') r.Memory = bytes(v, f);
    else if (k === 'pids') r.PidsLimit = Number(v);
    else throw unsupported(f);
  }
  const reservations = (res.reservations ?? {}) as Dict;
  for (const [k, v] of Object.entries(reservations)) {
    const f = `${at}.deploy.resources.reservations.${k}`;
    if (k === 'memory') r.MemoryReservation = bytes(v, f);
    // A cpu reservation is a guaranteed share under contention: cpu.shares relative to the
    // default 1024 per CPU, as podman maps Kubernetes' cpu requests (compose ignores it).
    else if (k === 'cpus') r.CpuShares = Math.max(2, Math.round(Number(v) * 1024));
    else throw unsupported(f);
  }
  return r;
}

function ulimits(name: string, u: Dict): NonNullable<HostConfig['Ulimits']> {
  return Object.entries(u).map(([k, v]) => {
    if (typeof v === 'number') return { Name: k, Soft: v, Hard: v };
    const d = v as Dict;
    if (typeof d.soft !== 'number' || typeof d.hard !== 'number') throw bad(`services.${name}.ulimits.${k}`, 'needs soft and hard');
    return { Name: k, Soft: d.soft, Hard: d.hard };
  });
}

/**
 * The network mode and endpoints. A container's aliases on each network are compose v2's
 * (getAliases): its own name, then, unless it is a one-off (`run`), the service's name and
 * the network's aliases.
 */
function networking(p: Project, name: string, s: Dict, container: string, oneoff: boolean): Pick<HostConfig, 'NetworkMode'> & { endpoints?: Record<string, EndpointSettings> } {
  const at = `services.${name}`;
  if (typeof s.network_mode === 'string') {
    const mode = s.network_mode;
    if (mode.startsWith('service:')) {
      const dep = mode.slice('service:'.length);
      if (!p.services[dep]) throw bad(`${at}.network_mode`, `service "${dep}" is not defined`);
      return { NetworkMode: `container:${containerName(p.name, dep, 1)}` };
    }
    return { NetworkMode: mode };
  }
  const nets = (s.networks ?? { default: null }) as Record<string, Dict | null>;
  // Priority first (compose's order), then by name, so the primary network is stable.
  const keys = Object.keys(nets).sort((a, b) => Number(nets[b]?.priority ?? 0) - Number(nets[a]?.priority ?? 0) || a.localeCompare(b));
  const endpoints: Record<string, EndpointSettings> = {};
  for (const k of keys) {
    const n = nets[k] ?? {};
    for (const f of Object.keys(n)) if (!['aliases', 'ipv4_address', 'priority'].includes(f)) throw unsupported(`${at}.networks.${k}.${f}`);
    const aliases = oneoff ? [container] : [container, name, ...((n.aliases as string[] | undefined) ?? [])];
    endpoints[networkName(p, k)] = { Aliases: aliases, ...(typeof n.ipv4_address === 'string' ? { IPAMConfig: { IPv4Address: n.ipv4_address } } : {}) };
  }
  return { NetworkMode: networkName(p, keys[0]!), endpoints };
}

/**
 * `ipc:` and `pid:` as docker compose maps them: a mode of the engine's, `container:NAME`
 * as it is, and `service:NAME` as the service's first container (an implicit depends_on,
 * normalize.ts, starts it first). The engine checks the rest (a non-shareable IPC donor).
 */
function shareMode(p: Project, field: string, v: unknown, modes: string[]): string {
  const mode = String(v);
  if (mode.startsWith('service:')) {
    const dep = mode.slice('service:'.length);
    if (!p.services[dep]) throw bad(field, `service "${dep}" is not defined`);
    return `container:${containerName(p.name, dep, 1)}`;
  }
  if (modes.includes(mode) || (mode.startsWith('container:') && mode.length > 'container:'.length)) return mode;
  throw bad(field, `${JSON.stringify(mode)} is not one of ${[...modes, 'service:NAME', 'container:NAME'].join(', ')}`);
}

export interface ServiceRequest {
  name: string;
  request: ContainerCreateRequest;
}

/**
 * The request for replica `number` of a service. `oneoff` is `compose run`'s container.
 * `warn` gets what brig leaves to the user's attention (swarm-only keys).
 */
export function containerRequest(p: Project, service: string, number: number, opts: { oneoff?: boolean; warn: (m: string) => void; imageId?: string }): ServiceRequest {
  const s = p.services[service];
  if (!s) throw new BrigError('INVALID_ARGUMENT', `no such service: ${service}`, { field: 'SERVICE' });
  const at = `services.${service}`;
  for (const k of Object.keys(s)) {
    if (k.startsWith('x-') || ORCHESTRATION.has(k) || MAPPED.has(k)) continue;
    throw unsupported(`${at}.${k}`);
  }
  if (s.cgroup !== undefined) throw unsupported(`${at}.cgroup`);
  if (s.devices !== undefined) throw unsupported(`${at}.devices`);
  if (s.volumes_from !== undefined) throw unsupported(`${at}.volumes_from`);
  const logging = (s.logging ?? {}) as Dict;
  for (const k of Object.keys(logging)) if (k !== 'driver' && k !== 'options') throw unsupported(`${at}.logging.${k}`);
  const name = typeof s.container_name === 'string' && !opts.oneoff ? s.container_name : opts.oneoff ? `${p.name}-${service}-run-${Math.random().toString(16).slice(2, 14)}` : containerName(p.name, service, number);
  const { exposed, bindings } = portBindings(s);
  const net = networking(p, service, s, name, opts.oneoff === true);
  const restart = restartPolicy(service, s);
  const tmpfs = Object.fromEntries(((s.tmpfs ?? []) as string[]).map((t) => {
    const i = t.indexOf(':');
    return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
  }));
  const userLabels = (s.labels ?? {}) as Record<string, string>;
  const labels: Record<string, string> = {
    ...userLabels,
    ...projectLabels(p),
    [LABEL.service]: service,
    [LABEL.number]: String(number),
    [LABEL.oneoff]: opts.oneoff ? 'True' : 'False',
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.files.join(','),
    [LABEL.dependsOn]: Object.entries((s.depends_on ?? {}) as Record<string, Dict>).map(([d, c]) => `${d}:${String(c.condition)}:${String(c.restart ?? false)}`).join(','),
    ...(opts.imageId ? { [LABEL.image]: opts.imageId } : {}),
  };
  const hostConfig: HostConfig = {
    ...resources(service, s, opts.warn),
    ...(Object.keys(bindings ?? {}).length ? { PortBindings: bindings } : {}),
    NetworkMode: net.NetworkMode!,
    ...(restart ? { RestartPolicy: restart } : {}),
    Mounts: mounts(p, service, s),
    ...(logging.driver !== undefined || logging.options !== undefined
      ? { LogConfig: { ...(typeof logging.driver === 'string' ? { Type: logging.driver } : {}), ...(logging.options ? { Config: Object.fromEntries(Object.entries(logging.options as Dict).map(([k, v]) => [k, String(v)])) } : {}) } }
      : {}),
    ...(s.cap_add !== undefined ? { CapAdd: s.cap_add as string[] } : {}),
    ...(s.cap_drop !== undefined ? { CapDrop: s.cap_drop as string[] } : {}),
    ...(s.read_only === true ? { ReadonlyRootfs: true } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ...(s.ulimits !== undefined ? { Ulimits: ulimits(service, s.ulimits as Dict) } : {}),
    // compose's host=ip (or host:ip) to the engine's host:ip.
    ...(s.extra_hosts !== undefined ? { ExtraHosts: (s.extra_hosts as string[]).map((e) => (e.includes('=') ? e.replace('=', ':') : e)) } : {}),
    ...(s.init !== undefined ? { Init: s.init === true } : {}),
    ...(s.shm_size !== undefined ? { ShmSize: bytes(s.shm_size, `${at}.shm_size`) } : {}),
    ...(s.sysctls !== undefined ? { Sysctls: s.sysctls as Record<string, string> } : {}),
    ...(s.dns !== undefined ? { Dns: (s.dns as unknown[]).map(String) } : {}),
    ...(s.dns_search !== undefined ? { DnsSearch: (s.dns_search as unknown[]).map(String) } : {}),
    ...(s.dns_opt !== undefined ? { DnsOptions: (s.dns_opt as unknown[]).map(String) } : {}),
    ...(s.privileged === true ? { Privileged: true } : {}),
    ...(s.security_opt !== undefined ? { SecurityOpt: (s.security_opt as unknown[]).map(String) } : {}),
    ...(s.oom_score_adj !== undefined ? { OomScoreAdj: Number(s.oom_score_adj) } : {}),
    ...(s.group_add !== undefined ? { GroupAdd: (s.group_add as unknown[]).map(String) } : {}),
    ...(s.ipc !== undefined ? { IpcMode: shareMode(p, `${at}.ipc`, s.ipc, ['private', 'shareable', 'host', 'none']) } : {}),
    ...(s.pid !== undefined ? { PidMode: shareMode(p, `${at}.pid`, s.pid, ['host']) } : {}),
  };
  const request: ContainerCreateRequest = {
    Image: serviceImage(p, service),
    ...(s.command !== undefined ? { Cmd: s.command as string[] | null } : {}),
    ...(s.entrypoint !== undefined ? { Entrypoint: s.entrypoint as string[] | null } : {}),
    Env: environment(p, service, s),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(typeof s.user === 'string' || typeof s.user === 'number' ? { User: String(s.user) } : {}),
    ...(typeof s.working_dir === 'string' ? { WorkingDir: s.working_dir } : {}),
    ...(typeof s.hostname === 'string' ? { Hostname: s.hostname } : {}),
    ...(typeof s.domainname === 'string' ? { Domainname: s.domainname } : {}),
    ...(typeof s.stop_signal === 'string' ? { StopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period !== undefined ? { StopTimeout: Math.ceil(durationNs(s.stop_grace_period, `${at}.stop_grace_period`) / 1e9) } : {}),
    ...(s.healthcheck !== undefined ? { Healthcheck: healthcheck(service, s.healthcheck as Dict) } : {}),
    ...(s.tty === true ? { Tty: true } : {}),
    ...(s.stdin_open === true ? { OpenStdin: true } : {}),
    Labels: userLabels,
    HostConfig: hostConfig,
    ...(net.endpoints ? { NetworkingConfig: { EndpointsConfig: net.endpoints } } : {}),
  };
  request.Labels = { ...labels, [LABEL.configHash]: configHash(request) };
  return { name, request };
}
