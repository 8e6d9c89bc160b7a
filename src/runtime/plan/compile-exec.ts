/**
 * The plan for `exec`: a new process in a running container. Stage 0 joins every
 * namespace of the container's init (user first, mount last), clones (so the pid and time
 * namespaces apply), and the child joins the container's cgroups (as init did, see
 * compile.ts cgroupJoinOps) and then becomes the process exactly as init did: the same
 * steps 10-14 as compile.ts, with the container's seccomp profile.
 */
import { CLONE_NEW, NS_PROC_NAME } from '../linux/constants.js';
import type { Linux, NamespaceType, Process } from '../spec/types.js';
import { cgroupJoinOps, compileProcess, sessionKeyringOp, terminalOp } from './compile.js';
import type { CompileOptions, HostFacts } from './facts.js';
import { type LaunchPlan, type Op, op, PLAN_VERSION } from './ops.js';

const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export interface ExecTarget {
  /**
   * Host pid of the container's init, or 'cwd': namespaces named relative to the helper's
   * working directory ("ns/mnt"), for a plan compiled once and run by a caller that starts
   * the helper in /proc/<init pid> (the monitor's health probes, across restarts).
   */
  initPid: number | 'cwd';
  /** The namespace types the container has (new or joined); the rest it shares with the host. */
  namespaces: NamespaceType[];
  /** The container's linux section: its seccomp profile applies to exec'd processes too. */
  linux: Linux;
}

export function compileExecPlan(
  proc: Process & { args: string[] },
  target: ExecTarget,
  facts: Pick<HostFacts, 'capLastCap' | 'hasCapSysResource' | 'hardRlimits' | 'oomScoreAdj' | 'arch'>,
  opts: Pick<CompileOptions, 'detach' | 'preserveFds' | 'consoleSocket' | 'stdinIsTerminal' | 'resizeFd' | 'sessionKeyring' | 'cgroupJoin' | 'seccompCache'>,
): LaunchPlan {
  const ops: Op[] = [];
  // Host paths: the cgroups are joined before the container's mount (and user) namespace.
  const cgroupJoin = cgroupJoinOps(opts.cgroupJoin, 'container cgroup');
  ops.push(...cgroupJoin.beforeClone);
  if (proc.terminal) ops.push(terminalOp(opts, 'process.terminal'));
  const joins = JOIN_ORDER.filter((t) => target.namespaces.includes(t));
  joins.forEach((t, slot) => {
    const dir = target.initPid === 'cwd' ? 'ns' : `/proc/${target.initPid}/ns`;
    ops.push(op('ns_open', `container ${t} namespace`, { path: `${dir}/${NS_PROC_NAME[t]}`, slot }));
  });
  // Cloned into a cgroup, the cgroup namespace is joined after the clone: the kernel refuses
  // CLONE_INTO_CGROUP (ENOENT) when the caller's own cgroup lies outside its cgroup namespace.
  const afterClone = (t: NamespaceType) => t === 'cgroup' && opts.cgroupJoin?.cloneInto !== undefined;
  const join = (t: NamespaceType, slot: number) => op('ns_join', `container ${t} namespace`, { slot, nstype: CLONE_NEW[t]! });
  joins.forEach((t, slot) => {
    if (!afterClone(t)) ops.push(join(t, slot));
  });
  // setns into a pid (or time) namespace applies to children: the process is a clone.
  ops.push(op('clone', 'process', { flags: 0, wait: opts.detach ? 0 : 1 }));
  ops.push(...cgroupJoin.afterClone);
  joins.forEach((t, slot) => {
    if (afterClone(t)) ops.push(join(t, slot));
  });
  ops.push(op('sync_go', 'process', {}));
  // A session of its own, like init (compile.ts step 4); console_setup makes it with a terminal.
  if (!proc.terminal) ops.push(op('setsid', 'process', {}));
  if (proc.terminal) {
    ops.push(op('console_setup', 'process.terminal', { rows: proc.consoleSize?.height ?? 0, cols: proc.consoleSize?.width ?? 0, uid: proc.user.uid }));
  }
  // The container's session keyring, as init joined it (runc's setns init does the same).
  if (opts.sessionKeyring) ops.push(sessionKeyringOp(opts.sessionKeyring, target.namespaces.includes('user'), false));
  // A seccomp agent is connected before the container's mount namespace hides its socket.
  const warnings: string[] = [];
  compileProcess(proc, target.linux, facts, { preserveFds: opts.preserveFds, ...(opts.seccompCache ? { seccompCache: opts.seccompCache } : {}) }, ops, 0, warnings);
  return { version: PLAN_VERSION, ops, meta: { rootfs: '', preserveFds: opts.preserveFds, ...(warnings.length ? { warnings } : {}) } };
}
