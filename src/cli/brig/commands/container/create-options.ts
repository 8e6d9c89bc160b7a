/**
 * The flags of `run` and `create`, and their translation into the Engine's create request
 * (docker's ContainerConfig + HostConfig), as docker's CLI does it (cli/command/container/
 * opts.go): the same flag names, value syntax and error wording. The engine checks the
 * request's values (ranges, what the host can give); this file only reads the flags.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ContainerCreateRequest, DeviceMapping, HealthConfig, HostConfig, RestartPolicy, Ulimit } from '../../../../engine/containers/config.js';
import { goDuration } from '../../../../util/docker-filters.js';
import { parseMountFlag, volumeFlags } from './mount-flags.js';
import { BrigError, hasErrno } from '../../../../errors/index.js';
import { ramInBytes } from '../../../../util/units.js';
import { parsePortSpecs } from '../../../../engine/engine.js';
import type { Flag, ParsedCommand } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import { readTextSync } from '../../../../util/read-text.js';

export const CREATE_FLAGS: Flag[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'group-add', type: 'list', help: 'Add additional groups to join' },
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { name: 'domainname', type: 'string', help: 'Container NIS domain name' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', help: 'Read in a line delimited file of labels' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'cidfile', type: 'string', help: 'Write the container ID to the file' },
  { name: 'pull', type: 'string', default: 'missing', help: 'Pull image before running ("always", "missing", "never")' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', help: 'Log driver options' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory' },
  { name: 'shm-size', type: 'string', valueName: 'bytes', help: 'Size of /dev/shm' },
  { name: 'ulimit', type: 'list', valueName: 'ulimit', help: 'Ulimit options' },
  { name: 'sysctl', type: 'list', valueName: 'map', help: 'Sysctl options' },
  { name: 'device', type: 'list', help: 'Add a host device to the container' },
  { name: 'device-cgroup-rule', type: 'list', help: 'Add a rule to the cgroup allowed devices list' },
  { name: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
  { name: 'security-opt', type: 'list', help: 'Security Options' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
  { name: 'memory-swap', type: 'string', valueName: 'bytes', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'memory-reservation', type: 'string', valueName: 'bytes', help: 'Memory soft limit' },
  { name: 'memory-swappiness', type: 'int', default: '-1', help: 'Tune container memory swappiness (0 to 100)' },
  { name: 'oom-kill-disable', type: 'bool', help: 'Disable OOM Killer' },
  { name: 'oom-score-adj', type: 'int', help: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs' },
  { name: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
  { name: 'cpu-period', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'blkio-weight', type: 'int', valueName: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'restart', type: 'string', default: 'no', help: 'Restart policy to apply when a container exits' },
  { name: 'health-cmd', type: 'string', help: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', valueName: 'duration', help: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', valueName: 'duration', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', type: 'string', valueName: 'duration', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-start-interval', type: 'string', valueName: 'duration', help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
  { name: 'mount', type: 'list', help: 'Attach a filesystem mount to the container' },
  { name: 'volumes-from', type: 'list', help: 'Mount volumes from the specified container(s)' },
  { name: 'ipc', type: 'string', help: 'IPC mode to use (private, shareable, host, none, container:NAME)' },
  { name: 'pid', type: 'string', help: 'PID namespace to use (host, container:NAME)' },
  { name: 'uts', type: 'string', help: 'UTS namespace to use (host, container:NAME)' },
  { name: 'network', type: 'string', help: 'Connect a container to a network' },
  { name: 'network-alias', type: 'list', help: 'Add network-scoped alias for the container' },
  { name: 'ip', type: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'mac-address', type: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'dns', type: 'list', help: 'Set custom DNS servers' },
  { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains' },
  { name: 'dns-option', type: 'list', help: 'Set DNS options' },
  { name: 'add-host', type: 'list', valueName: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'link', type: 'list', valueName: 'list', help: 'Add link to another container' },
  { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { name: 'expose', type: 'list', help: 'Expose a port or a range of ports' },
];

/** --network, -p, --dns and the rest into HostConfig, ExposedPorts and NetworkingConfig (docker's opts.go). */
function networkFlags(p: ParsedCommand): { host: HostConfig; exposed?: Record<string, Record<string, never>>; networking?: ContainerCreateRequest['NetworkingConfig'] } {
  const v = p.values;
  const list = (k: string) => (v[k] as string[] | undefined) ?? [];
  const given = (k: string) => p.given.has(k);
  const ports = parsePortSpecs(list('publish'));
  const exposed: Record<string, Record<string, never>> = { ...ports.exposed };
  for (const e of list('expose')) {
    const [range = '', proto = 'tcp'] = e.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m || (proto !== 'tcp' && proto !== 'udp')) throw flagError('expose', e, 'invalid range format for --expose');
    for (let port = Number(m[1]); port <= Number(m[2] ?? m[1]); port++) exposed[`${port}/${proto}`] = {};
  }
  const mode = v.network as string | undefined;
  const aliases = list('network-alias');
  const ip = v.ip as string | undefined;
  const userNet = mode !== undefined && !['bridge', 'default', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
  if ((aliases.length || ip) && !userNet) {
    throw new BrigError('INVALID_ARGUMENT', `${aliases.length ? 'network-scoped aliases' : 'user specified IP address'} are only supported for user-defined networks`, { field: aliases.length ? '--network-alias' : '--ip' });
  }
  const host: HostConfig = {
    ...(given('network') ? { NetworkMode: mode! } : {}),
    ...(given('publish') ? { PortBindings: ports.bindings } : {}),
    ...(v['publish-all'] === true ? { PublishAllPorts: true } : {}),
    ...(given('dns') ? { Dns: list('dns') } : {}),
    ...(given('dns-search') ? { DnsSearch: list('dns-search') } : {}),
    ...(given('dns-option') ? { DnsOptions: list('dns-option') } : {}),
    ...(given('add-host') ? { ExtraHosts: list('add-host') } : {}),
    ...(given('link') ? { Links: list('link') } : {}),
  };
  // docker's CLI: net.ParseMAC's forms (colons or dashes, 6 octets here), on the first network's endpoint.
  const mac = (v['mac-address'] as string | undefined)?.trim();
  if (mac !== undefined && !/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(mac)) throw new BrigError('INVALID_ARGUMENT', `${mac} is not a valid mac address`, { field: '--mac-address' });
  const endpoint = { ...(userNet && aliases.length ? { Aliases: aliases } : {}), ...(userNet && ip ? { IPAMConfig: { IPv4Address: ip } } : {}), ...(mac ? { MacAddress: mac.replace(/-/g, ':').toLowerCase() } : {}) };
  const networking = Object.keys(endpoint).length ? { EndpointsConfig: { [mode ?? 'default']: endpoint } } : undefined;
  return { host, ...(Object.keys(exposed).length ? { exposed } : {}), ...(networking ? { networking } : {}) };
}

export interface CreatePlan {
  request: ContainerCreateRequest;
  name?: string;
  cidfile?: string;
  pull: 'missing' | 'always' | 'never';
  quiet: boolean;
}

function flagError(flag: string, value: string, why: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', `invalid argument "${value}" for "--${flag}" flag: ${why}`, { field: `--${flag}` });
}

/** docker's -e: "A=1" as given; "A" takes the caller's value, and is left out when it has none. */
export function envList(list: string[] | undefined, env: NodeJS.ProcessEnv): string[] | undefined {
  if (!list) return undefined;
  return list.flatMap((e) => (e.includes('=') ? [e] : env[e] !== undefined ? [`${e}=${env[e]}`] : []));
}

/**
 * docker's env and label files (opts.ParseEnvFile): a line per entry, leading blanks dropped,
 * blank lines and "#" comments skipped; NAME=value as written; a bare NAME takes the caller's
 * value (and is left out when it has none) for env files, an empty value for label files.
 */
export function readKeyValueFile(file: string, cwd: string, lookup: ((k: string) => string | undefined) | undefined, flag: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.resolve(cwd, file));
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) throw new BrigError('INVALID_ARGUMENT', `open ${file}: no such file or directory`, { field: `--${flag}`, path: file });
    throw e;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BrigError('INVALID_ARGUMENT', `env file ${file} contains invalid utf8 bytes`, { field: `--${flag}`, path: file });
  }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[ \t\n\v\f\r]+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw new BrigError('INVALID_ARGUMENT', `no variable name on line '${line}'`, { field: `--${flag}`, path: file });
    if (/\s/.test(key)) throw new BrigError('INVALID_ARGUMENT', `variable '${key.trimEnd()}' contains whitespaces`, { field: `--${flag}`, path: file });
    if (eq >= 0 || !lookup) out.push(line);
    else {
      const value = lookup(key);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  }
  return out;
}

function labels(files: string[], list: string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of [...files.flatMap((f) => readKeyValueFile(f, cwd, undefined, 'label-file')), ...list]) {
    const eq = kv.indexOf('=');
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

function logOpts(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new BrigError('INVALID_ARGUMENT', `invalid key value pair format in log options: ${kv}`, { field: '--log-opt' });
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** docker's --ulimit: NAME=SOFT[:HARD], -1 for unlimited. */
export function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw flagError('ulimit', s, s.includes('=') ? `invalid ulimit argument: ${s}` : `invalid ulimit argument: ${s}`);
  const soft = Number(m[2]);
  return { Name: m[1]!, Soft: soft, Hard: m[3] !== undefined ? Number(m[3]) : soft };
}

const DEVICE_MODE = /^[rwm]{1,3}$/;

/** docker's --device: HOST[:CONTAINER][:PERMISSIONS]. */
export function parseDevice(s: string): DeviceMapping {
  const parts = s.split(':');
  let host = parts[0]!;
  let container = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (DEVICE_MODE.test(parts[1]!)) perms = parts[1]!;
    else container = parts[1]!;
  } else if (parts.length === 3) {
    container = parts[1]!;
    perms = parts[2]!;
  } else if (parts.length > 3) {
    throw flagError('device', s, `invalid device specification: ${s}`);
  }
  if (!DEVICE_MODE.test(perms)) throw flagError('device', s, `invalid device mode: ${perms}`);
  if (host === '') throw flagError('device', s, `invalid device specification: ${s}`);
  if (!container.startsWith('/')) throw flagError('device', s, `${container} is not an absolute path`);
  host = path.posix.normalize(host);
  return { PathOnHost: host, PathInContainer: path.posix.normalize(container), CgroupPermissions: perms };
}

/** docker's --cpus: a decimal number of CPUs, as nanoCPUs. */
export function parseCpus(s: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s)) throw flagError('cpus', s, `failed to parse ${s} as a rational number`);
  const n = Math.round(Number(s) * 1e9);
  if (!Number.isSafeInteger(n)) throw flagError('cpus', s, 'value is too precise');
  return n;
}

function bytes(flag: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = v as string;
  if (flag === 'memory-swap' && s === '-1') return -1;
  try {
    return ramInBytes(s, `--${flag}`);
  } catch {
    throw flagError(flag, s, `invalid size: '${s}'`);
  }
}

function tmpfs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list) {
    const i = t.indexOf(':');
    out[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  return out;
}

function sysctls(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw flagError('sysctl', kv, `sysctl '${kv}' is not a key=value pair`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * docker's --security-opt, as its CLI sends it: `seccomp=FILE` is read here and sent as the
 * profile's JSON (the engine may run elsewhere); "unconfined" and "builtin" stay as they are.
 */
function securityOpts(list: string[], cwd: string): string[] {
  return list.map((o) => {
    const m = /^seccomp[=:](.*)$/s.exec(o);
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin') return o;
    try {
      return `seccomp=${JSON.stringify(JSON.parse(readTextSync(path.resolve(cwd, m[1]!))))}`;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) throw new BrigError('INVALID_ARGUMENT', `opening seccomp profile (${m[1]}) failed: open ${m[1]}: no such file or directory`, { field: '--security-opt', path: m[1]! });
      if (e instanceof SyntaxError) throw new BrigError('INVALID_ARGUMENT', `decoding seccomp profile (${m[1]}) failed: ${e.message}`, { field: '--security-opt', path: m[1]! });
      throw e;
    }
  });
}

/** The resource flags (shared with `update`, which takes the same ones) as HostConfig fields. */
export function resourceFlags(p: ParsedCommand): Partial<HostConfig> {
  const v = p.values;
  const given = (k: string) => p.given.has(k);
  return {
    ...(given('memory') ? { Memory: bytes('memory', v.memory)! } : {}),
    ...(given('memory-swap') ? { MemorySwap: bytes('memory-swap', v['memory-swap'])! } : {}),
    ...(given('memory-reservation') ? { MemoryReservation: bytes('memory-reservation', v['memory-reservation'])! } : {}),
    ...(given('memory-swappiness') ? { MemorySwappiness: v['memory-swappiness'] as number } : {}),
    ...(v['oom-kill-disable'] === true ? { OomKillDisable: true } : {}),
    ...(given('oom-score-adj') ? { OomScoreAdj: v['oom-score-adj'] as number } : {}),
    ...(given('cpus') ? { NanoCpus: parseCpus(v.cpus as string) } : {}),
    ...(given('cpu-shares') ? { CpuShares: v['cpu-shares'] as number } : {}),
    ...(given('cpu-period') ? { CpuPeriod: v['cpu-period'] as number } : {}),
    ...(given('cpu-quota') ? { CpuQuota: v['cpu-quota'] as number } : {}),
    ...(given('cpuset-cpus') ? { CpusetCpus: v['cpuset-cpus'] as string } : {}),
    ...(given('cpuset-mems') ? { CpusetMems: v['cpuset-mems'] as string } : {}),
    ...(given('pids-limit') ? { PidsLimit: v['pids-limit'] as number } : {}),
    ...(given('blkio-weight') ? { BlkioWeight: v['blkio-weight'] as number } : {}),
  };
}

/** A Go duration flag (docker's DurationOpt), in nanoseconds as the API takes it. */
function durationFlag(p: ParsedCommand, name: string): number {
  if (!p.given.has(name)) return 0;
  const v = p.values[name] as string;
  const ms = goDuration(v);
  if (ms === undefined) throw new BrigError('INVALID_ARGUMENT', `invalid argument "${v}" for "--${name}" flag: time: invalid duration "${v}"`, { field: `--${name}` });
  if (ms < 0) throw new BrigError('INVALID_ARGUMENT', `--${name} cannot be negative`, { field: `--${name}` });
  return Math.round(ms * 1e6);
}

/** docker's CLI: --health-* and --no-healthcheck into Config.Healthcheck (opts.go). */
function healthcheck(p: ParsedCommand): HealthConfig | undefined {
  const cmd = p.values['health-cmd'] as string | undefined;
  const h = {
    Interval: durationFlag(p, 'health-interval'),
    Timeout: durationFlag(p, 'health-timeout'),
    StartPeriod: durationFlag(p, 'health-start-period'),
    StartInterval: durationFlag(p, 'health-start-interval'),
    Retries: (p.values['health-retries'] as number | undefined) ?? 0,
  };
  const any = (cmd !== undefined && cmd !== '') || Object.values(h).some((x) => x !== 0);
  if (p.values['no-healthcheck'] === true) {
    if (any) throw new BrigError('INVALID_ARGUMENT', '--no-healthcheck conflicts with --health-* options', { field: '--no-healthcheck' });
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (h.Retries < 0) throw new BrigError('INVALID_ARGUMENT', '--health-retries cannot be negative', { field: '--health-retries' });
  return { ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}), ...h };
}

/** docker's opts.ParseRestartPolicy: NAME[:MAX]. The engine checks the name and the count. */
export function parseRestartPolicy(v: string): RestartPolicy {
  const [name = '', max, ...rest] = v.split(':');
  if (rest.length) throw new BrigError('INVALID_ARGUMENT', `invalid restart policy format: ${v}`, { field: '--restart' });
  if (max === undefined) return { Name: name as RestartPolicy['Name'], MaximumRetryCount: 0 };
  if (!/^-?\d+$/.test(max)) throw new BrigError('INVALID_ARGUMENT', 'invalid restart policy format: maximum retry count must be an integer', { field: '--restart' });
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: Number(max) };
}

export function createPlan(ctx: BrigContext, p: ParsedCommand): CreatePlan {
  const [image, ...cmd] = p.args;
  const v = p.values;
  const list = (k: string) => (v[k] as string[] | undefined) ?? [];
  const given = (k: string) => p.given.has(k);
  const lookup = (k: string) => ctx.env[k];
  const env = [...list('env-file').flatMap((f) => readKeyValueFile(f, ctx.cwd, lookup, 'env-file')), ...(envList(list('env'), ctx.env) ?? [])];
  const pull = v.pull as string;
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never') {
    throw new BrigError('INVALID_ARGUMENT', `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, { field: '--pull' });
  }
  if (v.workdir !== undefined && !(v.workdir as string).startsWith('/')) {
    throw new BrigError('INVALID_ARGUMENT', `the working directory '${v.workdir}' is invalid, it needs to be an absolute path`, { field: '--workdir' });
  }
  const vols = volumeFlags(list('volume'), ctx.cwd);
  const net = networkFlags(p);
  const host: HostConfig = {
    AutoRemove: v.rm === true,
    ...(given('log-driver') || given('log-opt') ? { LogConfig: { ...(given('log-driver') ? { Type: v['log-driver'] as string } : {}), Config: logOpts(list('log-opt')) } } : {}),
    ...(v.init === true ? { Init: true } : {}),
    ...(v['read-only'] === true ? { ReadonlyRootfs: true } : {}),
    ...(v.privileged === true ? { Privileged: true } : {}),
    ...(given('tmpfs') ? { Tmpfs: tmpfs(list('tmpfs')) } : {}),
    ...(given('shm-size') ? { ShmSize: bytes('shm-size', v['shm-size'])! } : {}),
    ...(given('ulimit') ? { Ulimits: list('ulimit').map(parseUlimit) } : {}),
    ...(given('sysctl') ? { Sysctls: sysctls(list('sysctl')) } : {}),
    ...(given('device') ? { Devices: list('device').map(parseDevice) } : {}),
    ...(given('device-cgroup-rule') ? { DeviceCgroupRules: list('device-cgroup-rule') } : {}),
    ...(given('cap-add') ? { CapAdd: list('cap-add') } : {}),
    ...(given('cap-drop') ? { CapDrop: list('cap-drop') } : {}),
    ...(given('security-opt') ? { SecurityOpt: securityOpts(list('security-opt'), ctx.cwd) } : {}),
    ...(given('group-add') ? { GroupAdd: list('group-add') } : {}),
    ...(given('ipc') ? { IpcMode: v.ipc as string } : {}),
    ...(given('pid') ? { PidMode: v.pid as string } : {}),
    ...(given('uts') ? { UTSMode: v.uts as string } : {}),
    ...resourceFlags(p),
    ...net.host,
    ...(given('cidfile') ? { ContainerIDFile: v.cidfile as string } : {}),
    ...(given('restart') ? { RestartPolicy: parseRestartPolicy(v.restart as string) } : {}),
    ...(vols.binds.length ? { Binds: vols.binds } : {}),
    ...(given('mount') ? { Mounts: list('mount').map(parseMountFlag) } : {}),
    ...(given('volumes-from') ? { VolumesFrom: list('volumes-from') } : {}),
  };
  if (host.AutoRemove && host.RestartPolicy && host.RestartPolicy.Name !== 'no' && host.RestartPolicy.Name !== '') {
    throw new BrigError('INVALID_ARGUMENT', 'Conflicting options: --restart and --rm', { field: '--restart' });
  }
  const health = healthcheck(p);
  const interactive = v.interactive === true;
  const request: ContainerCreateRequest = {
    Image: image!,
    ...(cmd.length ? { Cmd: cmd } : {}),
    ...(given('entrypoint') ? { Entrypoint: v.entrypoint === '' ? [] : [v.entrypoint as string] } : {}),
    ...(env.length || given('env') || given('env-file') ? { Env: env } : {}),
    ...(v.workdir !== undefined ? { WorkingDir: v.workdir as string } : {}),
    ...(v.user !== undefined ? { User: v.user as string } : {}),
    ...(v.hostname !== undefined ? { Hostname: v.hostname as string } : {}),
    ...(v.domainname !== undefined ? { Domainname: v.domainname as string } : {}),
    ...(given('label') || given('label-file') ? { Labels: labels(list('label-file'), list('label'), ctx.cwd) } : {}),
    ...(v['stop-signal'] !== undefined ? { StopSignal: v['stop-signal'] as string } : {}),
    ...(v['stop-timeout'] !== undefined ? { StopTimeout: v['stop-timeout'] as number } : {}),
    ...(health ? { Healthcheck: health } : {}),
    ...(Object.keys(vols.volumes).length ? { Volumes: vols.volumes } : {}),
    ...(net.exposed ? { ExposedPorts: net.exposed } : {}),
    ...(net.networking ? { NetworkingConfig: net.networking } : {}),
    Tty: v.tty === true,
    OpenStdin: interactive,
    StdinOnce: interactive,
    AttachStdin: interactive,
    HostConfig: host,
  };
  return {
    request,
    pull,
    quiet: v.quiet === true,
    ...(v.name !== undefined ? { name: v.name as string } : {}),
    ...(v.cidfile !== undefined ? { cidfile: path.resolve(ctx.cwd, v.cidfile as string) } : {}),
  };
}
