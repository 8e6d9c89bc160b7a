/**
 * A container request (docker's ContainerConfig + HostConfig) and its image, turned into
 * the OCI spec the runtime runs — the engine's whole policy in one place, in this order:
 *
 *   1. the request merged with the image config as dockerd merges them (what inspect shows);
 *   2. the process: args (init first with --init), env (PATH, HOSTNAME, TERM with a tty,
 *      then the container's), user resolved in the image's own passwd/group, cwd;
 *   3. privileges: capabilities, seccomp, no_new_privs, masked and read-only paths —
 *      docker's defaults, loosened only by --cap-add, --security-opt or --privileged;
 *   4. resources, rlimits, oom_score_adj, devices (resources.ts, devices.ts);
 *   5. mounts: docker's /proc, /dev, /dev/shm (--shm-size), /sys, cgroup; --tmpfs; the
 *      hostname/hosts/resolv.conf files; the init binary.
 *
 * Pure apart from reading the image's /etc/passwd and /etc/group (inside its rootfs) and
 * the host's device nodes for --device/--privileged. Errors name the HostConfig or Config
 * field, with docker's messages where docker has one.
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import { mergeHealthcheck, validateHealthcheck } from '../policy/health.js';
import { checkRestartPolicy } from '../policy/restart.js';
import { DEFAULT_PATH, imageToRuntimeConfig, mergeEnv, parseStopSignal } from '../../image/runtime-config.js';
import type { ImageConfig } from '../../image/manifest.js';
import type { LinuxResources } from '../../runtime/cgroups/resources.js';
import { defaultSeccompProfile } from '../../runtime/seccomp/index.js';
import type { LinuxSeccomp, NativeArch } from '../../runtime/seccomp/types.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultMounts } from '../../runtime/spec/default-spec.js';
import type { Mount, Namespace, Spec } from '../../runtime/spec/types.js';
import type { ContainerConfig, ContainerCreateRequest, HostConfig } from '../containers/config.js';
import { boundShm, DEFAULT_SHM_SIZE, isShareable, SHM_OPTIONS, shmDir } from '../containers/shared-shm.js';
import { capabilitiesForUser } from '../user-capabilities.js';
import { containerCapabilities } from './capabilities.js';
import { hostDevices, mappedDevices } from './devices.js';
import { type EtcFile, etcFiles } from './etc-files.js';
import type { EngineHost } from './host.js';
import { resourcePlan } from './resources.js';
import { dockerSeccompProfile } from './seccomp-profile.js';
import { parseSecurityOpts } from './security-opts.js';
import { tmpfsMounts } from './tmpfs.js';

/** Where docker puts the init binary in the container. */
export const INIT_PATH = '/sbin/docker-init';
/**
 * Where it goes in a rootfs brig shares read-only (the built-in host image, whose /sbin is
 * the host's own): on the image's /run tmpfs, never a file made in a host directory.
 */
export const SHARED_ROOT_INIT_PATH = '/run/docker-init';

/** What runc's AllowedDevices adds to the runtime's defaults: mknod of any node, and /dev/net/tun. */
const DOCKER_DEVICE_RULES: NonNullable<LinuxResources['devices']> = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** docker's whitelist of namespaced sysctls (opts.ValidateSysctl). */
const SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
const SYSCTL_PREFIXES = ['net.', 'fs.mqueue.'];

export interface SpecInput {
  id: string;
  request: ContainerCreateRequest;
  image: ImageConfig;
  /** The root filesystem: its path, whether it is shared read-only (the host image) and mounts it needs. */
  rootfs: { path: string; readonly?: boolean; mounts?: Mount[] };
  /** The container's directory: it holds the hostname, hosts and resolv.conf files, and a shareable container's shm. */
  etcDir: string;
  /** Volumes, binds and --mount tmpfs, made real by the engine (volumes/resolve.ts). */
  mounts?: Mount[];
  host: EngineHost;
  kernel: string;
  arch: NativeArch;
}

export interface BuiltContainer {
  spec: Spec;
  /** The request merged with the image: what inspect shows as Config. */
  config: ContainerConfig & { Hostname: string; Env: string[]; Cmd: string[]; Entrypoint: string[] | null; WorkingDir: string; User: string; Labels: Record<string, string>; StopSignal: string };
  /** The HostConfig as docker keeps it (its adjustments applied). */
  hostConfig: HostConfig;
  /** Contents of the files to write in etcDir before the container starts. */
  etc: Record<EtcFile, string>;
  warnings: string[];
}

/** dockerd's merge of a create request with its image's config (daemon/create.go merge). */
export function mergeWithImage(req: ContainerConfig, image: NonNullable<ImageConfig['config']>): ContainerConfig {
  const out: ContainerConfig = { ...req };
  if (!out.User) out.User = image.User ?? '';
  if (!out.Env?.length) out.Env = [...(image.Env ?? [])];
  else {
    const keys = new Set(out.Env.map((e) => e.split('=', 1)[0]));
    out.Env = [...out.Env, ...(image.Env ?? []).filter((e) => !keys.has(e.split('=', 1)[0]))];
  }
  out.Labels = { ...(image.Labels ?? {}), ...(req.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) out.Cmd = image.Cmd ?? [];
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = image.Entrypoint ?? null;
  }
  if (!out.WorkingDir) out.WorkingDir = image.WorkingDir ?? '';
  if (!out.StopSignal) out.StopSignal = image.StopSignal ?? '';
  const ports = { ...(image.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) };
  if (Object.keys(ports).length) out.ExposedPorts = ports as ContainerConfig['ExposedPorts'];
  const volumes = { ...(image.Volumes ?? {}), ...(req.Volumes ?? {}) };
  if (Object.keys(volumes).length) out.Volumes = volumes as ContainerConfig['Volumes'];
  const health = mergeHealthcheck(req.Healthcheck, image.Healthcheck);
  if (health) out.Healthcheck = health;
  return out;
}

/** Mounts ordered by the depth of their destination, stable within a depth. */
function byDepth(mounts: Mount[]): Mount[] {
  const depth = (m: Mount) => m.destination.split('/').filter(Boolean).length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map((x) => x.m);
}

function refuseUnsupported(h: HostConfig): void {
  const only = (field: keyof HostConfig, allowed: string[]) => {
    const v = h[field] as string | undefined;
    if (v !== undefined && v !== '' && !allowed.includes(v)) {
      throw new BrigError('UNSUPPORTED_FIELD', `HostConfig.${field} "${v}" is not supported yet`, { field: `HostConfig.${field}`, hint: allowed.length ? `only ${allowed.join(', ')}` : undefined });
    }
  };
  only('CgroupnsMode', ['private']);
  namespaceMode('IpcMode', h.IpcMode, ['private', 'shareable', 'host', 'none']);
  namespaceMode('PidMode', h.PidMode, ['host']);
  namespaceMode('UTSMode', h.UTSMode, ['host']);
}

/**
 * --ipc, --pid and --uts as docker (and podman, for --uts container:) take them: a mode
 * word or `container:NAME|ID`. The other container's namespace is joined at each start
 * (containers/namespaces.ts), when it has a process to join.
 */
function namespaceMode(field: 'IpcMode' | 'PidMode' | 'UTSMode', v: string | undefined, words: string[]): void {
  if (v === undefined || v === '' || words.includes(v)) return;
  if (v.startsWith('container:') && v.length > 'container:'.length) return;
  const what = { IpcMode: 'IPC', PidMode: 'PID', UTSMode: 'UTS' }[field];
  throw new BrigError('INVALID_ARGUMENT', `invalid ${what} mode: ${v}`, { field: `HostConfig.${field}`, hint: `one of ${[...words, 'container:NAME'].join(', ')}` });
}

/**
 * The namespaces a container gets: new ones, less those it shares with the host (--ipc host,
 * --pid host, --uts host). A `container:` mode keeps its entry; the start puts the other
 * container's path in it.
 */
function containerNamespaces(h: HostConfig): Namespace[] {
  const host = new Set<Namespace['type']>([...(h.IpcMode === 'host' ? ['ipc' as const] : []), ...(h.PidMode === 'host' ? ['pid' as const] : []), ...(h.UTSMode === 'host' ? ['uts' as const] : [])]);
  return (['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'] as const).filter((t) => !host.has(t)).map((type) => ({ type }));
}

/**
 * /dev/shm as the IPC mode wants it: the host's with --ipc host (docker binds /dev/shm),
 * none with --ipc none, a host tmpfs in the container's directory with --ipc shareable (the
 * engine mounts it at start), its own tmpfs otherwise. With a `container:` mode the start
 * puts the donor's in (containers/shared-shm.ts).
 */
function shmMount(m: Mount, h: HostConfig, size: number, containerDir: string): Mount | undefined {
  if (h.IpcMode === 'none') return undefined;
  if (h.IpcMode === 'host') return boundShm('/dev/shm');
  if (isShareable(h)) return boundShm(shmDir(containerDir));
  return { ...m, options: [...SHM_OPTIONS, 'mode=1777', `size=${size}`] };
}

function checkSysctls(sysctls: Record<string, string>): void {
  for (const k of Object.keys(sysctls)) {
    if (!SYSCTLS.includes(k) && !SYSCTL_PREFIXES.some((p) => k.startsWith(p))) {
      throw new BrigError('INVALID_ARGUMENT', `sysctl '${k}' is not whitelisted`, { field: `HostConfig.Sysctls[${k}]`, hint: `namespaced sysctls only: ${SYSCTLS.join(', ')}, net.*, fs.mqueue.*` });
    }
  }
}

export async function buildContainerSpec(input: SpecInput): Promise<BuiltContainer> {
  const req = input.request;
  const h: HostConfig = req.HostConfig ?? {};
  const warnings: string[] = [];
  refuseUnsupported(h);

  // 1. The request merged with the image's config.
  const merged = mergeWithImage(req, input.image.config ?? {});
  const ownUts = !h.UTSMode;
  // dockerd's ErrConflictUTSHostname: the host's name is not the container's to set.
  if (h.UTSMode === 'host' && req.Hostname) throw new BrigError('INVALID_ARGUMENT', 'conflicting options: hostname and the UTS mode', { field: 'Config.Hostname' });
  // docker: --uts host shows the host's name.
  const hostname = h.UTSMode === 'host' ? (input.host.hostname ?? 'localhost') : merged.Hostname || input.id.slice(0, 12);
  if (merged.Hostname && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(merged.Hostname)) {
    throw new BrigError('INVALID_ARGUMENT', `invalid hostname format: ${merged.Hostname}`, { field: 'Config.Hostname' });
  }
  if (req.WorkingDir && !req.WorkingDir.startsWith('/')) {
    throw new BrigError('INVALID_ARGUMENT', `the working directory '${req.WorkingDir}' is invalid, it needs to be an absolute path`, { field: 'Config.WorkingDir' });
  }
  const stopSignal = parseStopSignal(merged.StopSignal || undefined);
  validateHealthcheck(merged.Healthcheck);
  const restartPolicy = checkRestartPolicy(h.RestartPolicy, h.AutoRemove === true);

  // 2. The process, resolved in the image's rootfs.
  const fromImage = await imageToRuntimeConfig({ ...input.image, config: { ...input.image.config, Env: [] } }, input.rootfs.path, {
    entrypoint: merged.Entrypoint ?? [],
    cmd: merged.Cmd ?? [],
    ...(merged.WorkingDir ? { workdir: merged.WorkingDir } : {}),
    ...(merged.User ? { user: merged.User } : {}),
    ...(h.GroupAdd?.length ? { groupAdd: h.GroupAdd } : {}),
  });
  const proc = fromImage.spec.process;
  // docker: PATH, HOSTNAME and (with a tty) TERM first, replaced by the container's own; HOME
  // from the user's passwd entry when the container sets none (runc's rule).
  const home = fromImage.spec.process.env.find((e) => e.startsWith('HOME='));
  const env = mergeEnv([`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(merged.Tty ? ['TERM=xterm'] : [])], merged.Env);
  if (!env.some((e) => e.startsWith('HOME=')) && home) env.push(home);
  let args = proc.args;
  const mounts: Mount[] = [];
  if (h.Init === true) {
    if ('missing' in input.host.init) {
      throw new BrigError('HOST_UNSUPPORTED', `--init: ${input.host.init.missing}`, { field: 'HostConfig.Init', hint: 'apt-get install tini (its tini-static) or catatonit' });
    }
    const at = input.rootfs.readonly === true ? SHARED_ROOT_INIT_PATH : INIT_PATH;
    mounts.push({ destination: at, type: 'bind', source: input.host.init.path, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    args = [at, '--', ...args];
  }

  // 3. Privileges.
  const privileged = h.Privileged === true;
  const security = parseSecurityOpts(h.SecurityOpt ?? []);
  warnings.push(...security.warnings);
  const { caps, warnings: capWarnings } = containerCapabilities({ privileged, add: h.CapAdd ?? [], drop: h.CapDrop ?? [] }, input.host.capabilities);
  warnings.push(...capWarnings);
  let seccomp: LinuxSeccomp | undefined;
  const nativeArch = input.arch === 'aarch64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64';
  if (privileged || security.seccomp === 'unconfined') seccomp = undefined;
  else if (security.seccomp === 'default') seccomp = defaultSeccompProfile({ capabilities: caps, arch: input.arch });
  else seccomp = dockerSeccompProfile(security.seccomp.profile, { caps, nativeArch, kernel: input.kernel });
  const unmasked = privileged || security.unmaskSystemPaths;

  // 4. Resources and devices.
  const plan = resourcePlan(h, input.host);
  warnings.push(...plan.warnings);
  const mapped = mappedDevices(h.Devices ?? []);
  const devices = privileged ? hostDevices() : mapped.map((m) => m.device);
  const resources: LinuxResources = { ...plan.resources };
  resources.devices = privileged
    ? [{ allow: true, access: 'rwm' }]
    : [...DOCKER_DEVICE_RULES, ...mapped.map((m) => m.rule), ...(plan.resources.devices ?? [])];
  const sysctls = h.Sysctls ?? {};
  checkSysctls(sysctls);

  // 5. Mounts: docker's defaults, /dev/shm sized, the etc files, --tmpfs.
  const shm = h.ShmSize ?? 0;
  if (shm < 0) throw new BrigError('INVALID_ARGUMENT', 'SHM size can not be less than 0', { field: 'HostConfig.ShmSize' });
  const shmSize = shm || DEFAULT_SHM_SIZE;
  const base = defaultMounts().flatMap((m): Mount[] => {
    if (m.destination === '/dev/shm') return [shmMount(m, h, shmSize, input.etcDir)].filter((x) => x !== undefined);
    if (privileged && (m.destination === '/sys' || m.destination === '/sys/fs/cgroup')) return [{ ...m, options: m.options!.filter((o) => o !== 'ro') }];
    return [m];
  });
  const etcRo = h.ReadonlyRootfs === true ? ['ro'] : [];
  const etcMounts: Mount[] = (['hostname', 'hosts', 'resolv.conf'] as const).map((f) => ({
    destination: `/etc/${f}`,
    type: 'bind',
    source: path.join(input.etcDir, f),
    options: ['rbind', 'rprivate', ...etcRo],
  }));
  const tmpfs = tmpfsMounts(h.Tmpfs ?? {});

  const spec: Spec = {
    ociVersion: '1.2.0',
    process: {
      terminal: merged.Tty === true,
      user: proc.user,
      args,
      env,
      cwd: proc.cwd,
      capabilities: capabilitiesForUser({ bounding: caps, effective: caps, permitted: caps }, proc.user.uid),
      rlimits: plan.rlimits,
      noNewPrivileges: !privileged && security.noNewPrivileges,
      ...(plan.oomScoreAdj !== undefined ? { oomScoreAdj: plan.oomScoreAdj } : {}),
    },
    root: { path: input.rootfs.path, readonly: input.rootfs.readonly === true || h.ReadonlyRootfs === true },
    // Another's (or the host's) uts namespace keeps its own names.
    ...(ownUts ? { hostname, ...(merged.Domainname ? { domainname: merged.Domainname } : {}) } : {}),
    // The user's mounts by depth, parents first (docker sorts them so): a volume on /etc goes
    // under the hostname and hosts files, a bind on /data before one on /data/x.
    mounts: [...base, ...(input.rootfs.mounts ?? []), ...byDepth([...etcMounts, ...tmpfs, ...(input.mounts ?? [])]), ...mounts],
    annotations: { ...fromImage.spec.annotations, ...merged.Labels },
    linux: {
      namespaces: containerNamespaces(h),
      ...(devices.length ? { devices } : {}),
      resources,
      ...(Object.keys(sysctls).length ? { sysctl: { ...sysctls } } : {}),
      ...(seccomp ? { seccomp } : {}),
      maskedPaths: unmasked ? [] : (h.MaskedPaths ?? [...DEFAULT_MASKED_PATHS]),
      readonlyPaths: unmasked ? [] : (h.ReadonlyPaths ?? [...DEFAULT_READONLY_PATHS]),
    },
  };

  const hostConfig: HostConfig = {
    ...h,
    ...plan.adjusted,
    ShmSize: shmSize,
    NetworkMode: h.NetworkMode || 'bridge',
    IpcMode: h.IpcMode || 'private',
    PidMode: h.PidMode ?? '',
    UTSMode: h.UTSMode ?? '',
    CgroupnsMode: h.CgroupnsMode || 'private',
    Privileged: privileged,
    ReadonlyRootfs: h.ReadonlyRootfs === true,
    AutoRemove: h.AutoRemove === true,
    RestartPolicy: restartPolicy,
    ...(unmasked ? {} : { MaskedPaths: spec.linux!.maskedPaths!, ReadonlyPaths: spec.linux!.readonlyPaths! }),
  };
  const config: BuiltContainer['config'] = {
    ...merged,
    Hostname: hostname,
    Env: merged.Env ?? [],
    Cmd: merged.Cmd ?? [],
    Entrypoint: merged.Entrypoint?.length ? merged.Entrypoint : null,
    WorkingDir: merged.WorkingDir ?? '',
    User: merged.User ?? '',
    Labels: merged.Labels ?? {},
    StopSignal: stopSignal,
    Image: req.Image,
  };
  return { spec, config, hostConfig, etc: etcFiles(hostname, input.host.resolvConf), warnings };
}
