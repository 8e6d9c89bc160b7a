/**
 * # The cgroup manager
 *
 * Namespaces decide what a container sees; cgroups decide how much it may use. A
 * CgroupManager owns the cgroup of ONE container for its whole life:
 *
 *   create  ──apply(pid)──▶ set(resources) ──▶ (running: stats / pids / oom / set = update)
 *           ──freeze()/thaw() = pause/resume ──▶ destroy() = delete
 *
 * ## The model
 *
 * A cgroup is a directory in a cgroup filesystem; its files are the knobs (memory.max) and
 * the readings (memory.current); writing a pid to `cgroup.procs` moves that process (and
 * the children it forks later) into it. Two kernel interfaces exist:
 *
 * - **v1** ("legacy"): one hierarchy per controller (or a few co-mounted), each mounted at
 *   /sys/fs/cgroup/<controller>. A container's cgroup is one directory *per hierarchy*, all
 *   with the same relative path; the process is written into each.
 * - **v2** ("unified"): one hierarchy; a container is one directory. A controller works in
 *   a directory only if every ancestor lists it in `cgroup.subtree_control`, and a cgroup
 *   with processes cannot delegate controllers to children ("no internal processes").
 *   Freezing is `cgroup.freeze`; device access is an eBPF program attached to the
 *   directory (see v2/device-bpf.ts), not a file.
 * - **hybrid** hosts (this project's machines) mount v1 controllers and a cgroup2 hierarchy
 *   at /sys/fs/cgroup/unified holding whatever controllers no v1 hierarchy took (here:
 *   hugetlb). brig uses the v1 manager there and the unified directory for those.
 *
 * ## Rules every implementation keeps
 *
 * 1. **Only what it created.** `apply` creates missing directories one level at a time and
 *    remembers exactly which it created (`state().created`); nothing is ever written to a
 *    directory brig did not create, except moving the container's own pid into the leaf.
 *    On v2 controllers are enabled only in `cgroup.subtree_control` of parents brig
 *    created; when an existing ancestor does not delegate a controller, the limit that
 *    needs it fails and says which file to fix.
 * 2. **Join before user code.** The runtime calls `apply(pid)` and `set(resources)` at the
 *    sync point where the container's init exists but has not exec'd the user program, so
 *    every byte and pid is counted from the start.
 * 3. **Never a silent no-op.** A requested limit that cannot be applied (controller not
 *    mounted, not delegated, file missing in this kernel) is an error naming the controller,
 *    the file and the value. Only where the OCI spec allows ignoring a field (kernel memory,
 *    deprecated since Linux 5.4) does the manager call `warn` instead.
 * 4. **Idempotent updates.** `set` writes only the fields present, so `update` passes just
 *    what changes; fields absent keep their current value.
 * 5. **delete leaves nothing.** `destroy` SIGKILLs whatever is left (freezing first on v1
 *    so a fork loop cannot outrun it), waits until the cgroup is empty, then removes the
 *    directories it created, deepest first, including child cgroups the container made
 *    inside its own.
 *
 * A manager can be rebuilt in another process (the `delete` verb runs long after `create`)
 * from `state()`, which the runtime keeps in the container's state file; see factory.ts.
 */
import type { CgroupFs, WriteObserver } from './fs.js';
import type { LinuxResources } from './resources.js';
import type { CgroupStats } from './stats.js';
import type { DeviceProgram } from './v2/device-bpf.js';

export type CgroupVersion = 'v1' | 'v2' | 'none';

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export interface OomEvent {
  /** oom_kill counter after the increase. */
  count: number;
  /** How many kills happened since the previous event (usually 1). */
  delta: number;
}

/** What is needed to rebuild a manager in another process. JSON-serialisable. */
export interface CgroupState {
  version: CgroupVersion;
  /** The resolved cgroup path inside each hierarchy, e.g. "/brig/abc". */
  path: string;
  /** Controller (v1) or "unified" → absolute directory. */
  dirs: Record<string, string>;
  /** Directories `apply` created, parents before children. Only these are ever removed. */
  created: string[];
}

/**
 * The directories `destroy` removes once the container's processes are gone, in its order:
 * first every one of `leaves` (the container's own; busy means processes are left, and
 * only `destroy`'s kill-and-retry path may go on), then each chain of `parents` (ones the
 * container created above its own, deepest first), where a busy or non-empty directory
 * stays, and so do those above it: another container uses them. The launcher's fast
 * `delete` (runtime/fast-plan.ts) carries this out without Node.
 */
export interface CgroupRemoval {
  leaves: string[];
  parents: string[][];
}

export interface CgroupSelfJoin {
  /**
   * v1 `tasks` files the container's process writes "0" to, first thing after the clone
   * (stage 0 opens them before it: the process may be in a new user namespace by then).
   */
  threadFiles: string[];
  /** The cgroup v2 directory the helper's clone is born in. */
  cloneInto?: string;
}

export interface CgroupManager {
  readonly version: CgroupVersion;
  /** The cgroup path (same in every hierarchy), for `state.json` and `brig-runtime ps`. */
  readonly path: string;

  /** Create the cgroup directories that are missing and move `pid` into them. */
  /**
   * Create the cgroup directories (idempotent), so limits can be set before any process
   * joins: the runtime does this while its helper starts, off the critical path.
   */
  create(): Promise<void>;
  /** Create (if not yet) and move `pid` in. */
  apply(pid: number): Promise<void>;
  /**
   * How the container's process joins these cgroups itself, without a cgroup.procs write
   * (which takes the global threadgroup lock and waits for an RCU grace period, 10-20 ms):
   *  - v1: the single-threaded process writes "0" to each hierarchy's `tasks` right after
   *    the clone, which moves the calling thread without that lock (stage 0 opened the
   *    files before, with its host credentials);
   *  - v2 (and the unified part of hybrid): its child is cloned straight into the directory
   *    with clone3(CLONE_INTO_CGROUP).
   * Undefined when there is nothing to join.
   */
  selfJoin(): CgroupSelfJoin | undefined;

  /** Write the given resources. Only fields present are touched (this is also `update`). */
  set(resources: LinuxResources): Promise<void>;

  /** Stop every process in the cgroup; resolves once the kernel reports it frozen. */
  freeze(opts?: { signal?: AbortSignal }): Promise<void>;
  thaw(opts?: { signal?: AbortSignal }): Promise<void>;
  freezerState(): Promise<FreezerState>;

  /** runc's `events --stats` data. Controllers not present are left at zero. */
  stats(): Promise<CgroupStats>;

  /** Every pid in the cgroup and its descendants (`brig-runtime ps`). */
  pids(): Promise<number[]>;

  /** The kernel's count of OOM kills in this cgroup (memory.oom_control / memory.events oom_kill). */
  oomKillCount(): Promise<number>;

  /**
   * Polls `oomKillCount()` and yields whenever it grows, until `signal` aborts. Polling,
   * because the v1 notification (eventfd + cgroup.event_control) is not reachable from Node.
   */
  watchOom(opts?: { signal?: AbortSignal; intervalMs?: number }): AsyncGenerator<OomEvent>;

  /** SIGKILL leftovers, wait until empty, remove every directory `apply` created. */
  destroy(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;

  /** What `destroy` removes when nothing is left in the cgroup, as data (see CgroupRemoval). */
  removal(): CgroupRemoval;

  state(): CgroupState;
}

/**
 * Loads the v2 device program and attaches it to the cgroup directory. The runtime passes
 * its native helper here: bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, license
 * `program.license`), then BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) to an
 * O_RDONLY|O_DIRECTORY fd of `cgroupDir`, then detach the device programs that were attached
 * before (BPF_PROG_QUERY for their ids, BPF_PROG_GET_FD_BY_ID, BPF_PROG_DETACH): with
 * ALLOW_MULTI every program must allow an access, so an `update` that kept the old program
 * would keep its denials. New first, old second, so there is never a moment without one.
 * native/devload/devload.c (brig-devload) does this. Without an attacher, device rules on
 * v2 are an error, not silently skipped.
 */
export type DeviceProgramAttacher = (cgroupDir: string, program: DeviceProgram) => Promise<void>;

export interface CgroupManagerOptions {
  /** Warnings the spec allows instead of errors (ignored kernel memory, ...). */
  warn?: (message: string) => void;
  /** How leftovers are killed by `destroy`; the factory passes process.kill. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  attachDevices?: DeviceProgramAttacher;
  /** Every write, for `--debug` logs and tests. */
  onWrite?: WriteObserver;
  /** Filesystem access; tests pass a fake that behaves like cgroupfs. */
  fs?: CgroupFs;
}
