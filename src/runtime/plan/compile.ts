/**
 * The plan compiler: config.json (validated) + host facts → LaunchPlan. Pure: no I/O.
 *
 * This file is the one place where the start-up order is written down, with reasons
 * (runc's standard_init_linux.go and bubblewrap's main() are the models). The helper runs
 * the ops in exactly this order.
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import {
  CAPABILITIES,
  CLONE_NEW,
  IOPRIO_CLASS,
  MOUNT_ATTR,
  MS,
  makedev,
  PERSONALITY,
  RLIM_INFINITY,
  RLIMITS,
  S_IF,
  SCHED_FLAG,
  SCHED_POLICY,
} from '../linux/constants.js';
import { compileSeccomp } from '../seccomp/index.js';
import { invalid } from '../spec/check.js';
import { sysctlNamespace } from '../spec/validate.js';
import type { Device, Hook, IDMapping, Linux, Mount, NamespaceType, Process, Spec } from '../spec/types.js';
import type { CompileOptions, HostFacts } from './facts.js';
import { parseMountOptions } from './mount-options.js';
import { type LaunchPlan, type Op, op, PLAN_VERSION } from './ops.js';

/** CAP_SYS_ADMIN's bit: what loading a seccomp filter needs without no_new_privs. */
const CAP_SYS_ADMIN = 1n << BigInt(CAPABILITIES.indexOf('CAP_SYS_ADMIN'));

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The device nodes every container gets (runc's AllowedDevices minus the ptmx it links). */
export const DEFAULT_DEVICES: Required<Pick<Device, 'type' | 'path' | 'major' | 'minor' | 'fileMode'>>[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666 },
];

/** Files under /proc that may be mount destinations (lxcfs-style overrides), as runc allows. */
const PROC_MOUNT_ALLOWED = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

// Joined namespaces: user first (joining it grants the capabilities needed for the others
// when they belong to it), mount last (it changes how later paths would resolve; they are
// all opened before any join anyway).
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export function compilePlan(spec: Spec, facts: HostFacts, opts: CompileOptions): LaunchPlan {
  const proc = spec.process;
  if (!proc?.args) throw invalid('process', 'is required to start a container');
  const linux = spec.linux ?? {};
  const nsList = linux.namespaces ?? [];
  const nsIndex = new Map(nsList.map((n, i) => [n.type, i]));
  const isNew = (t: NamespaceType) => nsIndex.has(t) && nsList[nsIndex.get(t)!]!.path === undefined;
  if (!isNew('mount')) {
    throw invalid('linux.namespaces', 'a new mount namespace is required', 'add {"type": "mount"}');
  }
  const ops: Op[] = [];
  // Cgroups first, by host paths, before any namespace is joined.
  const cgroupJoin = cgroupJoinOps(opts.cgroupJoin, 'linux.cgroupsPath');
  ops.push(...cgroupJoin.beforeClone);
  const newUser = isNew('user');

  // 1. Join existing namespaces. All are opened first so every path resolves on the host.
  const joins = JOIN_ORDER.filter((t) => nsIndex.has(t) && !isNew(t));
  joins.forEach((t, slot) => {
    const i = nsIndex.get(t)!;
    ops.push(op('ns_open', `linux.namespaces[${i}].path`, { path: nsList[i]!.path!, slot }));
  });
  joins.forEach((t, slot) => {
    ops.push(op('ns_join', `linux.namespaces[${nsIndex.get(t)}]`, { slot, nstype: CLONE_NEW[t]! }));
  });

  // 2. A new time namespace applies to children, and its offsets can only be written before
  //    any process enters it, so it is unshared and set here, before the clone.
  if (isNew('time')) {
    const f = `linux.namespaces[${nsIndex.get('time')}]`;
    ops.push(op('unshare', f, { flags: CLONE_NEW.time! }));
    const lines = Object.entries(linux.timeOffsets ?? {}).map(
      ([clock, o]) => `${clock === 'monotonic' ? 1 : 7} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`,
    );
    if (lines.length > 0)
      ops.push(
        op('write_file', 'linux.timeOffsets', { path: '/proc/self/timens_offsets', data: lines.join('') }),
      );
  }

  // 2b. Id-mapped bind mounts are cut from the host tree here, while this process still
  //     holds CAP_SYS_ADMIN over the source filesystems; init attaches them later.
  const idmapped = compileIdmapPrep(spec, facts);
  ops.push(...idmapped.ops);

  if (proc.terminal) ops.push(terminalOp(opts, 'process.terminal'));

  if (opts.execFifo) {
    const hostRoot = (maps: IDMapping[] | undefined) => maps?.find((m) => m.containerID === 0)?.hostID ?? 0;
    ops.push(op('fifo_create', 'process', { path: opts.execFifo, uid: newUser ? hostRoot(linux.uidMappings) : 0, gid: newUser ? hostRoot(linux.gidMappings) : 0 }));
  }

  // 3. Clone init into the new namespaces. The cgroup namespace waits (step 5) until init
  //    sits in its own cgroup, so the namespace root is the container's cgroup.
  let cloneFlags = 0;
  for (const t of ['user', 'mount', 'pid', 'network', 'ipc', 'uts'] as const)
    if (isNew(t)) cloneFlags |= CLONE_NEW[t]!;
  ops.push(op('clone', 'linux.namespaces', { flags: cloneFlags, wait: opts.detach ? 0 : 1 }));
  // init's first act: into its v1 cgroups (before its cgroup namespace, step 5, takes the root).
  ops.push(...cgroupJoin.afterClone);

  // 4. Wait for the caller: it writes the id maps from outside (and moves init into its
  //    cgroups when the plan cannot: a cgroup namespace joined by path).
  ops.push(op('sync_go', 'linux.uidMappings', {}));
  // Its own session and process group, as runc's init: a job-control signal to the
  // caller's group or a hang-up of its terminal does not reach the container. With a
  // terminal, console_setup makes the session (it must, to take the pty as controlling tty).
  if (!proc.terminal) ops.push(op('setsid', 'process', {}));
  if (newUser) {
    const zeroUid = mapsId(linux.uidMappings!, 0);
    const zeroGid = mapsId(linux.gidMappings!, 0);
    // Become root of the namespace so files made during setup are owned by a mapped id.
    if (zeroUid && zeroGid) ops.push(op('set_ids', 'linux.uidMappings', { uid: 0, gid: 0 }));
  }
  // 5.
  if (isNew('cgroup'))
    ops.push(op('unshare', `linux.namespaces[${nsIndex.get('cgroup')}]`, { flags: CLONE_NEW.cgroup! }));
  // 6. A new network namespace has only a loopback, and it starts down: up, as runc
  //    brings it (programs expect 127.0.0.1). A joined one is whoever made it's to set up.
  if (isNew('network')) ops.push(op('link_up', `linux.namespaces[${nsIndex.get('network')}]`, { name: 'lo' }));
  //    In a joined uts namespace too, as runc, unless it is the host's own.
  for (const [field, name] of [['hostname', spec.hostname], ['domainname', spec.domainname]] as const) {
    if (!name) continue;
    if (facts.callersNamespaces?.includes('uts')) throw invalid(field, "cannot be set: the joined uts namespace is the host's", 'use a new uts namespace');
    ops.push(op(field === 'hostname' ? 'sethostname' : 'setdomainname', field, { name }));
  }
  if (opts.sessionKeyring) ops.push(sessionKeyringOp(opts.sessionKeyring, newUser));

  // 7. The root filesystem.
  const warnings: string[] = [];
  ops.push(...compileRootfs(spec, facts, opts, newUser, idmapped.slots, warnings));

  // 8. Kernel parameters of the container's own namespaces, through its own /proc.
  //    A joined namespace is the container's too (podman makes a network namespace, joins
  //    it by path and sets net.ipv4.ping_group_range), unless it is the caller's: then, as
  //    runc says, the sysctl would change the host.
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    const ns = sysctlNamespace(key);
    if (ns && facts.callersNamespaces?.includes(ns)) {
      throw invalid(`linux.sysctl.${key}`, `cannot be set: the joined ${ns} namespace is the host's`, `use a new ${ns} namespace, or one made for the container`);
    }
    const file = `/proc/sys/${key.includes('/') ? key : key.replaceAll('.', '/')}`;
    ops.push(op('write_file', `linux.sysctl.${key}`, { path: file, data: value }));
  }
  // 9. Masked and read-only paths go after every mount, so no later mount can uncover them.
  for (const [i, p] of (linux.readonlyPaths ?? []).entries())
    ops.push(op('readonly_path', `linux.readonlyPaths[${i}]`, { path: p }));
  for (const [i, p] of (linux.maskedPaths ?? []).entries())
    ops.push(op('mask_path', `linux.maskedPaths[${i}]`, { path: p }));
  if (spec.root?.readonly)
    ops.push(op('mount_setattr', 'root.readonly', { path: '/', attrs: MOUNT_ATTR.RDONLY, recursive: 0 }));

  // 9b. The terminal, from the container's own devpts, before privileges are dropped.
  if (proc.terminal) {
    ops.push(op('console_setup', 'process.terminal', { rows: proc.consoleSize?.height ?? 0, cols: proc.consoleSize?.width ?? 0, uid: proc.user.uid }));
  }

  // 10-14: the process itself; shared with exec.
  const at = ops.findIndex((o) => o.op === 'pivot_root' || o.op === 'chroot_root');
  const seccomp = compileProcess({ ...proc, args: proc.args }, linux, facts, { ...opts, startHooks: spec.hooks?.startContainer ?? [] }, ops, at, warnings);

  return {
    version: PLAN_VERSION,
    ops,
    meta: {
      rootfs: facts.rootfs,
      preserveFds: opts.preserveFds,
      ...(seccomp?.notify ? { seccompListener: { metadata: linux.seccomp!.listenerMetadata ?? '' } } : {}),
      ...(seccomp ? { seccompInstructions: seccomp.instructions } : {}),
      ...(newUser ? { uidMap: mapLines(linux.uidMappings!), gidMap: mapLines(linux.gidMappings!) } : {}),
      ...(warnings.length ? { warnings } : {}),
    },
  };
}

/**
 * Where the pty master of a process with a terminal goes: to the console socket, or, for a
 * foreground process without one (runc run in a terminal), to stage 0, which relays it. A
 * detached process has nobody to hold it but a console socket's listener.
 */
export function terminalOp(opts: Pick<CompileOptions, 'consoleSocket' | 'detach' | 'stdinIsTerminal' | 'resizeFd'>, field: string): Op {
  if (opts.consoleSocket) return op('console_connect', field, { path: opts.consoleSocket });
  if (opts.detach) {
    throw invalid(field, 'a detached process with a terminal needs --console-socket (the pty master is handed to whoever listens there)', 'or set "terminal": false');
  }
  return op('console_relay', field, { tty: opts.stdinIsTerminal ? 1 : 0, resize_fd: opts.resizeFd ?? -1 });
}

/**
 * How the container's process joins its cgroups (see CompileOptions.cgroupJoin), in two
 * parts. Before the clone, by host paths and before any namespace is joined, stage 0 opens
 * each v1 `tasks` file and names the v2 directory init is cloned into. After it, init
 * writes "0" to each `tasks` file first thing: "0" moves the calling thread without the
 * kernel's threadgroup lock (and its RCU grace period), and stage 0, which waits for a
 * foreground init, stays out of the container's cgroups, counting against none of its
 * limits (a pids limit of 1 must leave room for init itself).
 */
export function cgroupJoinOps(join: CompileOptions['cgroupJoin'], field: string): { beforeClone: Op[]; afterClone: Op[] } {
  if (!join) return { beforeClone: [], afterClone: [] };
  if (join.threadFiles.length > FILE_SLOTS) {
    throw new BrigError('INTERNAL', `${join.threadFiles.length} cgroup v1 hierarchies: the helper holds at most ${FILE_SLOTS}`, { field });
  }
  const beforeClone = join.threadFiles.map((path, slot) => op('file_open', field, { path, slot }));
  if (join.cloneInto) beforeClone.push(op('clone_into_cgroup', field, { path: join.cloneInto }));
  const afterClone = join.threadFiles.map((path, slot) => op('file_write', field, { slot, data: '0', path }));
  return { beforeClone, afterClone };
}

/** The helper's file_open slots (FILE_SLOTS in native/helper/ops_proc.c). */
const FILE_SLOTS = 16;

/**
 * Join a keyring of the container's own as the session keyring, as root of the container,
 * so keys of whoever started it stay out of reach. It is made searchable the way runc
 * does: by its owner's uid, or with a user namespace by "other" (exec'd processes enter
 * with an unmapped host uid). exec (`creator` false) joins the keyring init made and, not
 * being its owner, leaves its permissions alone, as runc's setns init does.
 */
export function sessionKeyringOp(name: string, newUser: boolean, creator = true): Op {
  const KEY_USR_SEARCH = 0x08_0000;
  const KEY_OTH_SEARCH = 0x08;
  const permAdd = !creator ? 0 : newUser ? KEY_OTH_SEARCH : KEY_USR_SEARCH;
  return op('session_keyring', 'session keyring (--no-new-keyring skips it)', { name, perm_add: permAdd });
}

/**
 * Steps 10-14, the process itself (init for run/create, the new process for exec):
 * privileged attributes, identity and capabilities, cwd, the ready/start handshake,
 * no_new_privs and seccomp, exec. Returns the compiled seccomp program, if any.
 */
export function compileProcess(
  proc: Process & { args: string[] },
  linux: Linux,
  facts: Pick<HostFacts, 'capLastCap' | 'hasCapSysResource' | 'hardRlimits' | 'oomScoreAdj' | 'arch'>,
  opts: Pick<CompileOptions, 'preserveFds' | 'execFifo' | 'seccompCache'> & { startHooks?: Hook[] },
  ops: Op[],
  connectAt: number,
  warnings: string[],
) {
  // 10. Process attributes that need privilege: before the user switch.
  if (proc.oomScoreAdj !== undefined) {
    if (proc.oomScoreAdj < facts.oomScoreAdj && !facts.hasCapSysResource) {
      throw new BrigError(
        'RLIMIT_TOO_HIGH',
        `process.oomScoreAdj: ${proc.oomScoreAdj} is below the caller's ${facts.oomScoreAdj}, which needs CAP_SYS_RESOURCE`,
        { field: 'process.oomScoreAdj', hint: `use a value of ${facts.oomScoreAdj} or more` },
      );
    }
    ops.push(
      op('write_file', 'process.oomScoreAdj', {
        path: '/proc/self/oom_score_adj',
        data: String(proc.oomScoreAdj),
      }),
    );
  }
  for (const [i, rl] of (proc.rlimits ?? []).entries()) {
    const hostHard = facts.hardRlimits[rl.type] ?? Number.POSITIVE_INFINITY;
    const hard = toRlim(rl.hard);
    const soft = toRlim(rl.soft);
    if (
      !facts.hasCapSysResource &&
      hard > (hostHard === Number.POSITIVE_INFINITY ? RLIM_INFINITY : BigInt(hostHard))
    ) {
      throw new BrigError(
        'RLIMIT_TOO_HIGH',
        `process.rlimits[${i}]: ${rl.type} hard limit ${rl.hard} is above this host's hard limit ${hostHard}`,
        {
          field: `process.rlimits[${i}].hard`,
          hint: `raising a hard limit needs CAP_SYS_RESOURCE; ask for at most ${hostHard}`,
        },
      );
    }
    ops.push(op('setrlimit', `process.rlimits[${i}]`, { resource: RLIMITS[rl.type]!, soft, hard }));
  }
  if (linux.personality)
    ops.push(op('personality', 'linux.personality', { persona: PERSONALITY[linux.personality.domain]! }));
  if (proc.ioPriority) {
    // IOPRIO_PRIO_VALUE(class, data) = class << 13 | data
    ops.push(
      op('ioprio', 'process.ioPriority', {
        value: (IOPRIO_CLASS[proc.ioPriority.class]! << 13) | (proc.ioPriority.priority ?? 0),
      }),
    );
  }
  if (proc.scheduler) {
    const s = proc.scheduler;
    ops.push(
      op('sched', 'process.scheduler', {
        policy: SCHED_POLICY[s.policy]!,
        flags: (s.flags ?? []).reduce((a, f) => a | SCHED_FLAG[f]!, 0),
        nice: BigInt.asUintN(64, BigInt(s.nice ?? 0)),
        priority: s.priority ?? 0,
        runtime: s.runtime ?? 0,
        deadline: s.deadline ?? 0,
        period: s.period ?? 0,
      }),
    );
  }

  // 11. Identity and privileges: bounding set first (dropping needs CAP_SETPCAP, which the
  //     user switch may remove), then groups and ids with capabilities kept, then the final
  //     capability sets, then ambient (which needs permitted and inheritable in place).
  const caps = proc.capabilities ?? {};
  const mask = (names: string[] | undefined) =>
    (names ?? []).reduce((m, c) => m | (1n << BigInt(CAPABILITIES.indexOf(c as never))), 0n);
  for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
    for (const [i, c] of (caps[set] ?? []).entries()) {
      if (CAPABILITIES.indexOf(c as never) > facts.capLastCap) {
        throw invalid(
          `process.capabilities.${set}[${i}]`,
          `${c} is not known to this kernel (last capability is ${facts.capLastCap})`,
        );
      }
    }
  }
  // Ambient capabilities the kernel cannot raise (not in both permitted and inheritable)
  // are left out with a warning, as runc and crun leave them (they ignore the raise's
  // EPERM): `runc spec` lists three of them with no inheritable set. Adding them to
  // inheritable instead would grant what the config did not ask for.
  const ambient: string[] = [];
  const unraisable: string[] = [];
  for (const [i, c] of (caps.ambient ?? []).entries()) {
    if ((caps.permitted ?? []).includes(c) && (caps.inheritable ?? []).includes(c)) ambient.push(c);
    else unraisable.push(`[${i}] ${c}`);
  }
  if (unraisable.length) {
    warnings.push(
      `process.capabilities.ambient: ${unraisable.join(', ')} not in both the permitted and the inheritable set, so the kernel cannot raise ${unraisable.length === 1 ? 'it' : 'them'}; not raised`,
    );
  }
  const final = { effective: mask(caps.effective), permitted: mask(caps.permitted), inheritable: mask(caps.inheritable) };

  // Seccomp goes last, right before exec, so that the filter constrains the program and
  // nothing of the set-up: a profile need not allow any call the runtime makes (close_range,
  // capset, prctl, chdir, the FIFO and sync writes, startContainer hooks). After the load
  // come only execve (once per PATH candidate), and, for a listener, the sendmsg of its fd;
  // on failure, the write of the error record. Loading a filter needs no_new_privs or
  // CAP_SYS_ADMIN: without no_new_privs, when the final effective set has no CAP_SYS_ADMIN,
  // the capabilities are set with CAP_SYS_ADMIN kept (permitted is still the helper's full
  // set after the uid switch) and one capset after the load drops it: then capset is the one
  // more call the profile must allow, as every runtime's is (runc makes a dozen more there).
  // Keeping it that long grants the program nothing: execve recomputes every set from the
  // bounding, inheritable and ambient sets, which are final by then.
  const seccomp = linux.seccomp ? compileSeccomp(linux.seccomp, { nativeArch: facts.arch, ...(opts.seccompCache ? { cache: opts.seccompCache } : {}) }) : undefined;
  if (seccomp?.notify) {
    // Connected while the host path is reachable (before the root switch, or before
    // joining the container's mount namespace for exec).
    ops.splice(
      connectAt,
      0,
      op('seccomp_connect', 'linux.seccomp.listenerPath', { path: linux.seccomp!.listenerPath! }),
    );
  }
  const adminUntilLoad = seccomp !== undefined && !proc.noNewPrivileges && (final.effective & CAP_SYS_ADMIN) === 0n;
  ops.push(op('umask', 'process.user.umask', { mask: proc.user.umask ?? 0o022 }));
  ops.push(op('cloexec_from', 'process', { first: 3 + opts.preserveFds }));
  ops.push(
    op('caps_bounding', 'process.capabilities.bounding', {
      keep: mask(caps.bounding),
      last: facts.capLastCap,
    }),
  );
  // Always set: otherwise init would keep the caller's supplementary groups.
  ops.push(
    op('setgroups', 'process.user.additionalGids', { gids: (proc.user.additionalGids ?? []).map(String) }),
  );
  ops.push(op('set_user', 'process.user', { uid: proc.user.uid, gid: proc.user.gid }));
  ops.push(
    op(
      'capset',
      'process.capabilities',
      adminUntilLoad
        ? { ...final, effective: final.effective | CAP_SYS_ADMIN, permitted: final.permitted | CAP_SYS_ADMIN }
        : final,
    ),
  );
  ops.push(op('caps_ambient', 'process.capabilities.ambient', { mask: mask(ambient) }));
  // 12. As the process user, so permissions are checked as that user.
  ops.push(op('chdir', 'process.cwd', { path: proc.cwd }));
  // 13. The caller records "created" and, for run, says start at once.
  ops.push(op('sync_ready', 'process', {}));
  // create: the caller is gone by now; `start` releases init through the FIFO.
  if (opts.execFifo) ops.push(op('fifo_wait', 'process', {}));
  // startContainer: in the container, after start, before the program.
  ops.push(...hookOps(opts.startHooks, 'hooks.startContainer'));
  if (proc.noNewPrivileges) ops.push(op('no_new_privs', 'process.noNewPrivileges', {}));
  if (seccomp) {
    ops.push(op('seccomp_load', 'linux.seccomp', { flags: seccomp.flags, program: seccomp.bytes }));
    if (adminUntilLoad) ops.push(op('capset', 'process.capabilities', final));
  }
  // 14.
  const env = proc.env ?? [];
  ops.push(
    op('exec', 'process.args', {
      candidates: execCandidates(proc.args[0]!, env, proc.cwd),
      argv: proc.args,
      envp: env,
    }),
  );

  return seccomp;
}

function mapsId(maps: IDMapping[], id: number): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

function mapLines(maps: IDMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function toRlim(v: number): bigint {
  // JSON cannot carry 2^64-1 exactly; anything at or past 2^63 means "unlimited".
  return v >= 2 ** 63 ? RLIM_INFINITY : BigInt(v);
}

/** execvp's search, resolved ahead: the helper tries these in order. */
export function execCandidates(arg0: string, env: string[], cwd: string): string[] {
  if (arg0.includes('/')) return [arg0];
  const pathVar = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  return pathVar.split(':').map((dir) => {
    const d = dir === '' ? '.' : dir;
    return path.posix.join(d.startsWith('/') ? d : path.posix.join(cwd, d), arg0);
  });
}

function normDest(dest: string): string {
  return path.posix.normalize(`/${dest}`).replace(/\/+$/, '') || '/';
}

function resolveSource(source: string, bundle: string): string {
  return path.posix.resolve(bundle, source);
}

/** Step 7: mounts, devices, links, the root switch. */
/**
 * For each idmap/ridmap bind mount: a user namespace with its mappings (one per distinct
 * mapping) and a detached, id-mapped copy of the source. Returns the slot per mount index.
 */
function compileIdmapPrep(spec: Spec, facts: HostFacts): { ops: Op[]; slots: Map<number, number> } {
  const ops: Op[] = [];
  const slots = new Map<number, number>();
  const userns = new Map<string, number>();
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const f = `mounts[${i}]`;
    const parsed = parseMountOptions(m.options ?? [], m.type === 'bind', `${f}.options`);
    if (!parsed.idmap) continue;
    const uid = mapLines(m.uidMappings ?? spec.linux!.uidMappings!);
    const gid = mapLines(m.gidMappings ?? spec.linux!.gidMappings!);
    const key = `${uid}|${gid}`;
    if (!userns.has(key)) {
      userns.set(key, userns.size);
      ops.push(op('userns_create', m.uidMappings ? `${f}.uidMappings` : 'linux.uidMappings', { slot: userns.get(key)!, uid_map: uid, gid_map: gid }));
    }
    const source = resolveSource(m.source ?? '', facts.bundle);
    const slot = slots.size;
    if (slot >= 16) throw invalid(f, 'at most 16 id-mapped mounts per container');
    slots.set(i, slot);
    ops.push(
      op('mount_detached', f, {
        slot,
        source,
        recursive: parsed.recursive ? 1 : 0,
        userns_slot: userns.get(key)!,
        idmap_recursive: parsed.idmap === 'ridmap' ? 1 : 0,
      }),
    );
  }
  return { ops, slots };
}

function compileRootfs(spec: Spec, facts: HostFacts, opts: CompileOptions, newUser: boolean, idmapSlots: Map<number, number>, warnings: string[]): Op[] {
  const ops: Op[] = [];
  const linux = spec.linux ?? {};
  // Propagation of the whole tree first, so nothing mounted for the container leaks back to
  // the host (default rslave, as runc: host mounts still propagate in).
  const rootProp = linux.rootfsPropagation ? propagationFlags(linux.rootfsPropagation) : MS.SLAVE | MS.REC;
  ops.push(op('mount_propagation', 'linux.rootfsPropagation', { path: '/', flags: rootProp | MS.REC }));
  if (rootProp & MS.SHARED) {
    // pivot_root refuses a root whose parent mount is shared.
    ops.push(
      op('mount_propagation', 'linux.rootfsPropagation', {
        path: facts.rootfsParentMount,
        flags: MS.PRIVATE,
      }),
    );
  }
  ops.push(op('rootfs_open', 'root.path', { path: facts.rootfs }));

  const mounts = spec.mounts ?? [];
  let devIsBound = false;
  let hasDevPts = false;
  for (const [i, m] of mounts.entries()) {
    const f = `mounts[${i}]`;
    const dest = normDest(m.destination);
    checkProcDest(dest, m, f);
    const type = m.type ?? '';
    const parsed = parseMountOptions(m.options ?? [], type === 'bind', `${f}.options`);
    for (const [field, o] of parsed.ignored) warnings.push(`${field}: "${o}" has no effect on a bind mount; ignored`);
    if (dest === '/dev' && parsed.bind) devIsBound = true;
    if (dest === '/dev/pts') hasDevPts = true;
    if (parsed.bind) {
      if (m.source === undefined || m.source === '')
        throw invalid(`${f}.source`, 'a bind mount needs a source');
      const source = resolveSource(m.source, facts.bundle);
      const kind = facts.sources[source];
      if (kind === 'missing' || kind === undefined) {
        throw new BrigError('BUNDLE_NOT_FOUND', `${f}.source: ${source} does not exist`, {
          field: `${f}.source`,
          path: source,
        });
      }
      ops.push(
        kind === 'dir'
          ? op('mkdir_in_root', `${f}.destination`, { path: dest, mode: 0o755 })
          : op('mkfile_in_root', `${f}.destination`, { path: dest, mode: 0o644 }),
      );
      const slot = idmapSlots.get(i);
      if (slot !== undefined) {
        // Cut and id-mapped by stage 0 (compileIdmapPrep); attached here.
        ops.push(
          op('mount_attach', f, {
            slot,
            dest,
            attrs: parsed.attrs,
            attrs_clr: parsed.attrsClr,
            rec_attrs: parsed.recAttrs,
            rec_attrs_clr: parsed.recAttrsClr,
            propagation: parsed.propagation,
          }),
        );
        continue;
      }
      ops.push(
        op('mount_bind', f, {
          source,
          dest,
          recursive: parsed.recursive ? 1 : 0,
          attrs: parsed.attrs,
          attrs_clr: parsed.attrsClr,
          rec_attrs: parsed.recAttrs,
          rec_attrs_clr: parsed.recAttrsClr,
          propagation: parsed.propagation,
        }),
      );
      continue;
    }
    if (type === '') throw invalid(`${f}.type`, 'is required for a mount that is not a bind mount');
    if (!/^[a-z0-9_.-]+$/.test(type)) throw invalid(`${f}.type`, `"${type}" is not a filesystem type`);
    if (parsed.recAttrs !== 0 || parsed.recAttrsClr !== 0) {
      // A fresh mount has no submounts: recursive attributes are the plain ones.
      parsed.attrs |= parsed.recAttrs;
    }
    ops.push(op('mkdir_in_root', `${f}.destination`, { path: dest, mode: 0o755 }));
    if (type === 'cgroup' || type === 'cgroup2') {
      ops.push(
        ...compileCgroupMount(
          dest,
          parsed.attrs,
          facts,
          linux.namespaces?.some((n) => n.type === 'cgroup' && !n.path) ?? false,
          f,
        ),
      );
      continue;
    }
    ops.push(
      op('mount_fs', f, {
        fstype: type,
        source: m.source ?? type,
        dest,
        attrs: parsed.attrs,
        propagation: parsed.propagation,
        options: parsed.fsParams.flat(),
      }),
    );
  }

  // Device nodes and the standard /dev links, unless /dev is the host's (bound in).
  if (!devIsBound) {
    const devices = [
      ...DEFAULT_DEVICES.filter((d) => !(linux.devices ?? []).some((u) => u.path === d.path)),
      ...(linux.devices ?? []),
    ];
    for (const d of devices) {
      // As runc: /dev/ptmx is the link to the container's devpts below, never a node (a
      // privileged container's list of the host's devices has one).
      if (hasDevPts && d.path === '/dev/ptmx') continue;
      const userIdx = (linux.devices ?? []).indexOf(d as Device);
      const f = userIdx >= 0 ? `linux.devices[${userIdx}]` : `default device ${d.path}`;
      ops.push(...compileDevice(d, f, newUser, facts));
    }
    const links: [string, string][] = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ];
    if (facts.hasKcore) links.push(['/proc/kcore', '/dev/core']);
    if (hasDevPts) links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, p] of links) ops.push(op('symlink_in_root', 'mounts', { target, path: p }));
  }

  // Hooks of the create operation, before the root switch: the caller runs the runtime-
  // namespace ones at this sync point, then init runs createContainer in its namespaces.
  const h = spec.hooks ?? {};
  if (h.prestart?.length || h.createRuntime?.length || h.createContainer?.length) {
    ops.push(op('sync_hooks', 'hooks', {}));
    ops.push(...hookOps(h.createContainer, 'hooks.createContainer'));
  }
  ops.push(opts.noPivot ? op('chroot_root', 'root.path', {}) : op('pivot_root', 'root.path', {}));
  if (linux.rootfsPropagation) {
    ops.push(
      op('mount_propagation', 'linux.rootfsPropagation', {
        path: '/',
        flags: propagationFlags(linux.rootfsPropagation),
      }),
    );
  }
  return ops;
}

function hookOps(hooks: Hook[] | undefined, field: string): Op[] {
  return (hooks ?? []).map((h, i) =>
    op('hook', `${field}[${i}]`, { path: h.path, args: h.args ?? [h.path], env: h.env ?? [], timeout_ms: (h.timeout ?? 0) * 1000 }),
  );
}

function propagationFlags(p: string): number {
  const base = p.replace(/^r/, '');
  const flag =
    base === 'private'
      ? MS.PRIVATE
      : base === 'slave'
        ? MS.SLAVE
        : base === 'shared'
          ? MS.SHARED
          : MS.UNBINDABLE;
  return p.startsWith('r') ? flag | MS.REC : flag;
}

function checkProcDest(dest: string, m: Mount, f: string): void {
  if (dest === '/proc' && m.type !== 'proc')
    throw invalid(`${f}.destination`, '/proc can only take a proc mount');
  if (dest.startsWith('/proc/') && !PROC_MOUNT_ALLOWED.has(dest)) {
    throw invalid(
      `${f}.destination`,
      `mounting over ${dest} is not allowed`,
      `allowed below /proc: ${[...PROC_MOUNT_ALLOWED].join(', ')}`,
    );
  }
}

function compileDevice(d: Device, f: string, newUser: boolean, facts: HostFacts): Op[] {
  const ops: Op[] = [];
  if (newUser) {
    // mknod is refused in a user namespace: bind the host's node instead, as runc does.
    if (facts.sources[d.path] !== 'file') {
      throw new BrigError(
        'BUNDLE_NOT_FOUND',
        `${f}: ${d.path} does not exist on the host to bind into a user-namespaced container`,
        { field: f, path: d.path },
      );
    }
    ops.push(op('mkfile_in_root', f, { path: d.path, mode: 0o644 }));
    ops.push(
      op('mount_bind', f, {
        source: d.path,
        dest: d.path,
        recursive: 0,
        attrs: MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOEXEC,
        attrs_clr: 0,
        rec_attrs: 0,
        rec_attrs_clr: 0,
        propagation: 0,
      }),
    );
    return ops;
  }
  const kind = d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : S_IF.CHR;
  const dir = path.posix.dirname(d.path);
  if (dir !== '/dev') ops.push(op('mkdir_in_root', f, { path: dir, mode: 0o755 }));
  ops.push(
    op('mknod_in_root', f, {
      path: d.path,
      mode: kind | ((d.fileMode ?? 0o666) & 0o7777),
      dev: d.type === 'p' ? 0 : makedev(d.major ?? 0, d.minor ?? 0),
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    }),
  );
  return ops;
}

/**
 * A `cgroup` mount. With a v2 host and a cgroup namespace, a fresh cgroup2 mount shows the
 * container its own root. Otherwise the container gets read-only binds of its own cgroup
 * directories (v1: one per hierarchy under a tmpfs), never the host's whole tree.
 */
function compileCgroupMount(
  dest: string,
  attrs: number,
  facts: HostFacts,
  cgroupNs: boolean,
  f: string,
): Op[] {
  const ops: Op[] = [];
  const own = (controllers: string) => facts.cgroups.find((c) => c.controllers === controllers)?.path ?? '/';
  if (facts.cgroupLayout === 'unified') {
    if (cgroupNs) {
      ops.push(
        op('mount_fs', f, { fstype: 'cgroup2', source: 'cgroup2', dest, attrs, propagation: 0, options: [] }),
      );
    } else {
      ops.push(
        op('mount_bind', f, {
          source: path.posix.join('/sys/fs/cgroup', own('')),
          dest,
          recursive: 1,
          attrs,
          attrs_clr: 0,
          rec_attrs: attrs,
          rec_attrs_clr: 0,
          propagation: 0,
        }),
      );
    }
    return ops;
  }
  if (facts.cgroupLayout === 'none')
    throw invalid(`${f}.type`, 'this host has no cgroup filesystem to mount');
  ops.push(
    op('mount_fs', f, {
      fstype: 'tmpfs',
      source: 'cgroup',
      dest,
      attrs: attrs & ~MOUNT_ATTR.RDONLY,
      propagation: 0,
      options: ['mode', '755'],
    }),
  );
  for (const c of facts.cgroups) {
    const name = c.controllers === '' ? 'unified' : c.controllers.replace(/^name=/, '');
    if (c.controllers !== '' && !facts.cgroupV1Mounts.includes(name)) continue;
    if (c.controllers === '' && facts.cgroupLayout !== 'hybrid') continue;
    const sub = path.posix.join(dest, name);
    ops.push(op('mkdir_in_root', f, { path: sub, mode: 0o755 }));
    ops.push(
      op('mount_bind', f, {
        source: path.posix.join('/sys/fs/cgroup', name, c.path),
        dest: sub,
        recursive: 1,
        attrs: attrs | MOUNT_ATTR.RDONLY,
        attrs_clr: 0,
        rec_attrs: MOUNT_ATTR.RDONLY,
        rec_attrs_clr: 0,
        propagation: 0,
      }),
    );
    // Co-mounted controllers ("cpu,cpuacct") are also reachable by each name, as on the host.
    if (name.includes(',')) {
      for (const single of name.split(','))
        ops.push(op('symlink_in_root', f, { target: name, path: path.posix.join(dest, single) }));
    }
  }
  if (attrs & MOUNT_ATTR.RDONLY)
    ops.push(op('mount_setattr', f, { path: dest, attrs: MOUNT_ATTR.RDONLY, recursive: 0 }));
  return ops;
}
