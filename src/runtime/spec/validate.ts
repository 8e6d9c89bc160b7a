/**
 * Validation of config.json against the runtime spec: shape (types, required fields) and
 * meaning (namespaces that make sense together, namespaced sysctls, mappings present with a
 * user namespace). A field brig cannot honour is an error naming its JSON path; unknown
 * properties are ignored as the spec requires.
 */
import {
  CAPABILITIES,
  IOPRIO_CLASS,
  PERSONALITY,
  RLIMITS,
  SCHED_FLAG,
  SCHED_POLICY,
} from '../linux/constants.js';
import { absPath, arr, bool, int, invalid, obj, opt, str, strArr, strMap, unsupported } from './check.js';
import type {
  Capabilities,
  Hook,
  Device,
  IDMapping,
  Linux,
  Mount,
  Namespace,
  NamespaceType,
  Process,
  Rlimit,
  Spec,
} from './types.js';

const NAMESPACE_TYPES: readonly NamespaceType[] = [
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
];
const U32 = 0xffffffff;

export interface ValidateOptions {
  /** `run`/`create` need a process; `delete` and `state` read configs that may lack one. */
  requireProcess: boolean;
}

/** Parses config.json text. Malformed JSON names the file and position. */
export function parseSpecJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw invalid(file, `invalid JSON: ${detail}`, 'check the file with `jq . config.json`');
  }
}

export function validateSpec(input: unknown, opts: ValidateOptions = { requireProcess: true }): Spec {
  const o = obj(input, '(config)');
  const ociVersion = str(o.ociVersion, 'ociVersion');
  if (!/^1\.\d+\.\d+(-[0-9A-Za-z.+-]+)?$/.test(ociVersion)) {
    throw invalid('ociVersion', `"${ociVersion}" is not a 1.x runtime-spec version`);
  }
  for (const other of ['windows', 'solaris', 'vm', 'zos'] as const) {
    if (o[other] !== undefined) throw unsupported(other, 'brig runs Linux containers only');
  }
  if (o.root === undefined) throw invalid('root', 'is required on Linux');
  const root = obj(o.root, 'root');
  const spec: Spec = {
    ociVersion,
    root: { path: str(root.path, 'root.path'), readonly: opt(root, 'readonly', 'root', bool) ?? false },
  };
  if (spec.root!.path === '') throw invalid('root.path', 'must not be empty');
  const hostname = opt(o, 'hostname', '', str);
  if (hostname !== undefined) spec.hostname = checkHostname(hostname, 'hostname');
  const domainname = opt(o, 'domainname', '', str);
  if (domainname !== undefined) spec.domainname = checkHostname(domainname, 'domainname');
  if (o.annotations !== undefined) spec.annotations = strMap(o.annotations, 'annotations');
  if (o.hooks !== undefined) spec.hooks = readHooks(o.hooks, 'hooks');
  if (o.mounts !== undefined)
    spec.mounts = arr(o.mounts, 'mounts').map((m, i) => readMount(m, `mounts[${i}]`));
  if (o.process !== undefined) spec.process = readProcess(o.process, 'process');
  else if (opts.requireProcess) throw invalid('process', 'is required to start a container');
  if (o.linux !== undefined) spec.linux = readLinux(o.linux, 'linux');
  checkMeaning(spec);
  return spec;
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

function readHooks(v: unknown, f: string): NonNullable<Spec['hooks']> {
  const o = obj(v, f);
  const out: NonNullable<Spec['hooks']> = {};
  for (const kind of HOOK_KINDS) {
    if (o[kind] === undefined) continue;
    out[kind] = arr(o[kind], `${f}.${kind}`).map((h, i) => {
      const hf = `${f}.${kind}[${i}]`;
      const ho = obj(h, hf);
      const hook: Hook = { path: absPath(ho.path, `${hf}.path`) };
      if (ho.args !== undefined) hook.args = strArr(ho.args, `${hf}.args`);
      if (ho.env !== undefined) hook.env = strArr(ho.env, `${hf}.env`);
      if (ho.timeout !== undefined) hook.timeout = int(ho.timeout, `${hf}.timeout`, 1);
      return hook;
    });
  }
  return out;
}

function checkHostname(v: string, field: string): string {
  if (v.length > 64) throw invalid(field, 'is longer than 64 bytes');
  if (/[\s/]/.test(v)) throw invalid(field, `"${v}" contains whitespace or "/"`);
  return v;
}

function readMount(v: unknown, f: string): Mount {
  const o = obj(v, f);
  const m: Mount = { destination: str(o.destination, `${f}.destination`) };
  if (m.destination === '') throw invalid(`${f}.destination`, 'must not be empty');
  if (o.source !== undefined) m.source = str(o.source, `${f}.source`);
  if (o.type !== undefined) m.type = str(o.type, `${f}.type`);
  if (o.options !== undefined) m.options = strArr(o.options, `${f}.options`);
  if (o.uidMappings !== undefined) m.uidMappings = readMappings(o.uidMappings, `${f}.uidMappings`);
  if (o.gidMappings !== undefined) m.gidMappings = readMappings(o.gidMappings, `${f}.gidMappings`);
  return m;
}

function readMappings(v: unknown, f: string): IDMapping[] {
  const list = arr(v, f).map((x, i) => {
    const o = obj(x, `${f}[${i}]`);
    return {
      containerID: int(o.containerID, `${f}[${i}].containerID`, 0, U32),
      hostID: int(o.hostID, `${f}[${i}].hostID`, 0, U32),
      size: int(o.size, `${f}[${i}].size`, 1, U32),
    };
  });
  if (list.length > 340) throw invalid(f, 'the kernel accepts at most 340 mapping lines');
  // Ranges must not overlap on either side, or the kernel refuses the whole map.
  for (const side of ['containerID', 'hostID'] as const) {
    const sorted = [...list].sort((a, b) => a[side] - b[side]);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      if (prev[side] + prev.size > sorted[i]![side]) throw invalid(f, `${side} ranges overlap`);
    }
  }
  return list;
}

export function readProcess(v: unknown, f: string): Process {
  const o = obj(v, f);
  const user = obj(o.user, `${f}.user`);
  const p: Process = {
    user: {
      uid: int(user.uid, `${f}.user.uid`, 0, U32 - 1),
      gid: int(user.gid, `${f}.user.gid`, 0, U32 - 1),
    },
    cwd: absPath(o.cwd, `${f}.cwd`),
  };
  if (user.umask !== undefined) p.user.umask = int(user.umask, `${f}.user.umask`, 0, 0o777);
  if (user.additionalGids !== undefined) {
    p.user.additionalGids = arr(user.additionalGids, `${f}.user.additionalGids`).map((g, i) =>
      int(g, `${f}.user.additionalGids[${i}]`, 0, U32 - 1),
    );
  }
  if (o.args === undefined) throw invalid(`${f}.args`, 'is required: give the program to run');
  p.args = strArr(o.args, `${f}.args`);
  if (p.args.length === 0 || p.args[0] === '') throw invalid(`${f}.args`, 'must name a program to run');
  if (o.env !== undefined) {
    p.env = strArr(o.env, `${f}.env`);
    p.env.forEach((e, i) => {
      if (!/^[^=]+=/.test(e)) throw invalid(`${f}.env[${i}]`, `"${e}" is not of the form NAME=value`);
    });
  }
  if (o.terminal !== undefined) p.terminal = bool(o.terminal, `${f}.terminal`);
  if (o.consoleSize !== undefined) {
    const c = obj(o.consoleSize, `${f}.consoleSize`);
    p.consoleSize = { height: int(c.height, `${f}.consoleSize.height`, 0, 65535), width: int(c.width, `${f}.consoleSize.width`, 0, 65535) };
  }
  if (o.capabilities !== undefined) p.capabilities = readCaps(o.capabilities, `${f}.capabilities`);
  if (o.rlimits !== undefined) p.rlimits = readRlimits(o.rlimits, `${f}.rlimits`);
  if (o.noNewPrivileges !== undefined) p.noNewPrivileges = bool(o.noNewPrivileges, `${f}.noNewPrivileges`);
  if (o.oomScoreAdj !== undefined) p.oomScoreAdj = int(o.oomScoreAdj, `${f}.oomScoreAdj`, -1000, 1000);
  for (const label of ['apparmorProfile', 'selinuxLabel'] as const) {
    const l = opt(o, label, f, str);
    if (l)
      throw unsupported(
        `${f}.${label}`,
        `no ${label === 'apparmorProfile' ? 'AppArmor' : 'SELinux'} on this host`,
      );
  }
  if (o.scheduler !== undefined) {
    const s = obj(o.scheduler, `${f}.scheduler`);
    const policy = str(s.policy, `${f}.scheduler.policy`);
    if (SCHED_POLICY[policy] === undefined)
      throw invalid(`${f}.scheduler.policy`, `unknown policy "${policy}"`);
    p.scheduler = { policy };
    if (s.nice !== undefined) p.scheduler.nice = int(s.nice, `${f}.scheduler.nice`, -20, 19);
    if (s.priority !== undefined) p.scheduler.priority = int(s.priority, `${f}.scheduler.priority`, 0, 99);
    for (const k of ['runtime', 'deadline', 'period'] as const) {
      if (s[k] !== undefined) p.scheduler[k] = int(s[k], `${f}.scheduler.${k}`);
    }
    if (s.flags !== undefined) {
      p.scheduler.flags = strArr(s.flags, `${f}.scheduler.flags`);
      p.scheduler.flags.forEach((fl, i) => {
        if (SCHED_FLAG[fl] === undefined) throw invalid(`${f}.scheduler.flags[${i}]`, `unknown flag "${fl}"`);
      });
    }
    const rt = policy === 'SCHED_FIFO' || policy === 'SCHED_RR';
    if (rt && (p.scheduler.priority ?? 0) < 1) {
      throw invalid(`${f}.scheduler.priority`, `${policy} needs a priority from 1 to 99`);
    }
    if (!rt && policy !== 'SCHED_DEADLINE' && (p.scheduler.priority ?? 0) !== 0) {
      throw invalid(`${f}.scheduler.priority`, `${policy} takes priority 0`);
    }
  }
  if (o.ioPriority !== undefined) {
    const io = obj(o.ioPriority, `${f}.ioPriority`);
    const cls = str(io.class, `${f}.ioPriority.class`);
    if (IOPRIO_CLASS[cls] === undefined) throw invalid(`${f}.ioPriority.class`, `unknown class "${cls}"`);
    p.ioPriority = {
      class: cls,
      priority: opt(io, 'priority', `${f}.ioPriority`, (x, ff) => int(x, ff, 0, 7)) ?? 0,
    };
  }
  if (o.execCPUAffinity !== undefined)
    throw unsupported(`${f}.execCPUAffinity`, 'not supported by this build');
  return p;
}

function readCaps(v: unknown, f: string): Capabilities {
  const o = obj(v, f);
  const caps: Capabilities = {};
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    if (o[set] === undefined) continue;
    caps[set] = strArr(o[set], `${f}.${set}`);
    caps[set]!.forEach((c, i) => {
      if (!(CAPABILITIES as readonly string[]).includes(c)) {
        throw invalid(
          `${f}.${set}[${i}]`,
          `unknown capability "${c}"`,
          'names look like CAP_NET_BIND_SERVICE',
        );
      }
    });
  }
  return caps;
}

function readRlimits(v: unknown, f: string): Rlimit[] {
  const seen = new Set<string>();
  return arr(v, f).map((x, i) => {
    const o = obj(x, `${f}[${i}]`);
    const type = str(o.type, `${f}[${i}].type`);
    if (RLIMITS[type] === undefined) throw invalid(`${f}[${i}].type`, `unknown rlimit "${type}"`);
    if (seen.has(type)) throw invalid(`${f}[${i}].type`, `${type} is given twice`);
    seen.add(type);
    // 2^64-1 (RLIM_INFINITY) arrives as 18446744073709551616 after JSON rounding; accept it.
    const soft = rlimitValue(o.soft, `${f}[${i}].soft`);
    const hard = rlimitValue(o.hard, `${f}[${i}].hard`);
    if (soft > hard) throw invalid(`${f}[${i}]`, `soft limit ${soft} is above hard limit ${hard}`);
    return { type, soft, hard };
  });
}

function rlimitValue(v: unknown, f: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw invalid(f, `expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function readLinux(v: unknown, f: string): Linux {
  const o = obj(v, f);
  const l: Linux = {};
  if (o.namespaces !== undefined) {
    const seen = new Set<string>();
    l.namespaces = arr(o.namespaces, `${f}.namespaces`).map((x, i): Namespace => {
      const n = obj(x, `${f}.namespaces[${i}]`);
      const type = str(n.type, `${f}.namespaces[${i}].type`) as NamespaceType;
      if (!NAMESPACE_TYPES.includes(type)) {
        throw invalid(
          `${f}.namespaces[${i}].type`,
          `unknown namespace type "${type}"`,
          `one of ${NAMESPACE_TYPES.join(', ')}`,
        );
      }
      if (seen.has(type)) throw invalid(`${f}.namespaces[${i}].type`, `namespace "${type}" is listed twice`);
      seen.add(type);
      const ns: Namespace = { type };
      if (n.path !== undefined) ns.path = absPath(n.path, `${f}.namespaces[${i}].path`);
      return ns;
    });
  }
  if (o.uidMappings !== undefined) l.uidMappings = readMappings(o.uidMappings, `${f}.uidMappings`);
  if (o.gidMappings !== undefined) l.gidMappings = readMappings(o.gidMappings, `${f}.gidMappings`);
  if (o.timeOffsets !== undefined) {
    const t = obj(o.timeOffsets, `${f}.timeOffsets`);
    l.timeOffsets = {};
    for (const [clock, val] of Object.entries(t)) {
      if (clock !== 'monotonic' && clock !== 'boottime') {
        throw invalid(`${f}.timeOffsets.${clock}`, 'only "monotonic" and "boottime" clocks can be offset');
      }
      const off = obj(val, `${f}.timeOffsets.${clock}`);
      l.timeOffsets[clock] = {
        secs: opt(off, 'secs', `${f}.timeOffsets.${clock}`, (x, ff) => int(x, ff, -(2 ** 53) + 1)) ?? 0,
        nanosecs:
          opt(off, 'nanosecs', `${f}.timeOffsets.${clock}`, (x, ff) => int(x, ff, 0, 999_999_999)) ?? 0,
      };
    }
  }
  if (o.devices !== undefined)
    l.devices = arr(o.devices, `${f}.devices`).map((d, i) => readDevice(d, `${f}.devices[${i}]`));
  if (o.cgroupsPath !== undefined) l.cgroupsPath = str(o.cgroupsPath, `${f}.cgroupsPath`);
  // Shape-checked here; values are checked by the cgroup controllers, which name the field.
  if (o.resources !== undefined) l.resources = obj(o.resources, `${f}.resources`) as Linux['resources'];
  if (o.rootfsPropagation !== undefined) {
    l.rootfsPropagation = str(o.rootfsPropagation, `${f}.rootfsPropagation`);
    const ok = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];
    if (!ok.includes(l.rootfsPropagation)) {
      throw invalid(`${f}.rootfsPropagation`, `"${l.rootfsPropagation}" is not one of ${ok.join(', ')}`);
    }
  }
  // Checked field by field by the seccomp compiler, which names linux.seccomp.* paths.
  if (o.seccomp !== undefined) l.seccomp = obj(o.seccomp, `${f}.seccomp`) as unknown as Linux['seccomp'];
  if (o.sysctl !== undefined) l.sysctl = strMap(o.sysctl, `${f}.sysctl`);
  if (o.maskedPaths !== undefined)
    l.maskedPaths = strArr(o.maskedPaths, `${f}.maskedPaths`).map((p, i) =>
      absPath(p, `${f}.maskedPaths[${i}]`),
    );
  if (o.readonlyPaths !== undefined)
    l.readonlyPaths = strArr(o.readonlyPaths, `${f}.readonlyPaths`).map((p, i) =>
      absPath(p, `${f}.readonlyPaths[${i}]`),
    );
  if (opt(o, 'mountLabel', f, str)) throw unsupported(`${f}.mountLabel`, 'no SELinux on this host');
  if (o.personality !== undefined) {
    const p = obj(o.personality, `${f}.personality`);
    const domain = str(p.domain, `${f}.personality.domain`);
    if (PERSONALITY[domain] === undefined)
      throw invalid(`${f}.personality.domain`, `"${domain}" is not LINUX or LINUX32`);
    const flags = opt(p, 'flags', `${f}.personality`, strArr) ?? [];
    if (flags.length > 0)
      throw unsupported(`${f}.personality.flags`, 'personality flags are not defined by the spec yet');
    l.personality = { domain, flags };
  }
  for (const k of ['intelRdt', 'memoryPolicy'] as const) {
    if (o[k] !== undefined) throw unsupported(`${f}.${k}`, 'not supported by this build');
  }
  return l;
}

function readDevice(v: unknown, f: string): Device {
  const o = obj(v, f);
  const type = str(o.type, `${f}.type`);
  if (!['c', 'b', 'u', 'p'].includes(type)) throw invalid(`${f}.type`, `"${type}" is not one of c, b, u, p`);
  const d: Device = { type, path: absPath(o.path, `${f}.path`) };
  if (!d.path.startsWith('/dev/') || d.path.split('/').includes('..')) {
    throw invalid(`${f}.path`, `"${d.path}" must be below /dev`);
  }
  if (type !== 'p') {
    d.major = int(o.major, `${f}.major`, 0, 0xfff);
    d.minor = int(o.minor, `${f}.minor`, 0, 0xfffff);
  }
  if (o.fileMode !== undefined) d.fileMode = int(o.fileMode, `${f}.fileMode`, 0, 0o7777);
  if (o.uid !== undefined) d.uid = int(o.uid, `${f}.uid`, 0, U32 - 1);
  if (o.gid !== undefined) d.gid = int(o.gid, `${f}.gid`, 0, U32 - 1);
  return d;
}

/** Sysctls the kernel scopes to a namespace (runc's list), and the namespace they need. */
export function sysctlNamespace(name: string): NamespaceType | undefined {
  const key = name.replaceAll('/', '.'); // "net/ipv4/ip_forward", as sysctl(8) also takes it
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key)) return 'ipc';
  if (key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

function checkMeaning(spec: Spec): void {
  const ns = new Map((spec.linux?.namespaces ?? []).map((n) => [n.type, n]));
  const newNs = (t: NamespaceType) => ns.has(t) && ns.get(t)!.path === undefined;
  const l = spec.linux ?? {};
  if (newNs('user')) {
    if (!l.uidMappings?.length) throw invalid('linux.uidMappings', 'a new user namespace needs uid mappings');
    if (!l.gidMappings?.length) throw invalid('linux.gidMappings', 'a new user namespace needs gid mappings');
  } else if (l.uidMappings?.length || l.gidMappings?.length) {
    throw invalid(
      l.uidMappings?.length ? 'linux.uidMappings' : 'linux.gidMappings',
      'mappings need a new user namespace in linux.namespaces',
    );
  }
  // A joined uts namespace will do, unless it is the host's (the compiler checks that).
  if (spec.hostname !== undefined && spec.hostname !== '' && !ns.has('uts')) {
    throw invalid('hostname', 'setting a hostname needs a uts namespace in linux.namespaces');
  }
  if (spec.domainname !== undefined && spec.domainname !== '' && !ns.has('uts')) {
    throw invalid('domainname', 'setting a domainname needs a uts namespace in linux.namespaces');
  }
  if (l.timeOffsets !== undefined && !newNs('time')) {
    throw invalid('linux.timeOffsets', 'time offsets need a new time namespace');
  }
  for (const [key] of Object.entries(l.sysctl ?? {})) {
    const field = `linux.sysctl.${key}`;
    if (!/^[a-z0-9_][a-z0-9_./-]*$/i.test(key) || key.split(/[./]/).includes('..')) {
      throw invalid(field, 'is not a valid sysctl name');
    }
    const need = sysctlNamespace(key);
    if (need === undefined) {
      throw invalid(
        field,
        'is not namespaced: it would change the host',
        'only ipc (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), net.* and uts sysctls may be set',
      );
    }
    // A joined namespace that is the host's is refused by the compiler, which knows the host.
    if (!ns.has(need)) throw invalid(field, `needs a ${need} namespace in linux.namespaces`);
  }
  const p = spec.process;
  if (p !== undefined) {
    const inUserNs = ns.has('user');
    if (inUserNs && newNs('user')) {
      const mapped = (id: number, maps: IDMapping[]) =>
        maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
      if (!mapped(p.user.uid, l.uidMappings!))
        throw invalid('process.user.uid', `${p.user.uid} is not mapped in linux.uidMappings`);
      if (!mapped(p.user.gid, l.gidMappings!))
        throw invalid('process.user.gid', `${p.user.gid} is not mapped in linux.gidMappings`);
    }
  }
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const idmapped = (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap');
    if ((m.uidMappings || m.gidMappings) && !idmapped) {
      throw invalid(`mounts[${i}].options`, 'uidMappings/gidMappings need the "idmap" or "ridmap" option');
    }
    if (idmapped && !m.uidMappings !== !m.gidMappings) {
      throw invalid(`mounts[${i}].${m.uidMappings ? 'gidMappings' : 'uidMappings'}`, 'give both uid and gid mappings, or neither');
    }
    if (idmapped && !m.uidMappings && !newNs('user')) {
      throw invalid(`mounts[${i}].uidMappings`, 'an id-mapped mount without mappings takes the container user namespace mappings, and there is none');
    }
  }
}
