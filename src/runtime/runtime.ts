/**
 * The OCI runtime: the verbs of `brig-runtime`, over the plan compiler, the native helper
 * and the state store. Side effects come in through the constructor.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { decodeErrorRecord, ERROR_RECORD_SIZE, type ErrorRecord, toBrigError } from '../native/errors.js';
import type { Helper, HelperProcess } from '../native/helper.js';
import type { Stage0 } from '../native/stage0.js';
import { DEFAULT_SECCOMP_CACHE, DiskSeccompCache, type SeccompCache } from './seccomp/disk-cache.js';
import { type Logger, nullLogger } from '../util/log.js';
import { procStat } from '../util/proc-stat.js';
import { currentOwner, ownerAlive } from '../util/owner.js';
import {
  type CgroupHost,
  type CgroupManager,
  type CgroupState,
  type CgroupStats,
  createCgroupManager,
  DEFAULT_ALLOWED_DEVICES,
  describeCgroups,
  type DeviceProgramAttacher,
  detectCgroups,
  type LinuxResources,
  openCgroupManager,
} from './cgroups/index.js';
import { releaseInit } from './exec-fifo.js';
import { compileFastPlans, FAST_PLAN_FILES, writeFastPlans } from './fast-plan.js';
import { gatherFacts } from './host-facts.js';
import { runHook, runHooks } from './hooks.js';
import { compilePlan } from './plan/compile.js';
import { compileExecPlan } from './plan/compile-exec.js';
import type { CompileOptions } from './plan/facts.js';
import type { LaunchPlan, Op } from './plan/ops.js';
import type { Process, Spec, State } from './spec/types.js';
import { parseSpecJson, validateSpec } from './spec/validate.js';
import { checkId, StateStore, type StoredState } from './state.js';
import { readTextSync } from '../util/read-text.js';

export interface RuntimeDeps {
  /** State directory (runc's --root). */
  root: string;
  /** Compiled seccomp programs kept between processes; default: /run/brig/seccomp-cache. */
  seccompCache?: SeccompCache;
  helper: Helper;
  log?: Logger;
  now?: () => Date;
  /** Loads cgroup v2 device programs (the native brig-devload); without it v2 device rules fail. */
  attachDevices?: DeviceProgramAttacher;
  /** Cgroup layout detection (tests point it elsewhere). */
  detectCgroups?: () => Promise<CgroupHost>;
}

export interface RunOptions extends Partial<CompileOptions> {
  bundle: string;
  /** runc --no-new-keyring: keep the caller's session keyring instead of "_ses.<id>". */
  noNewKeyring?: boolean;
  pidFile?: string;
  /** fds for stdin, stdout, stderr and any preserved fds. */
  stdio: (number | 'ignore')[];
  signal?: AbortSignal;
  /**
   * Awaited once init is set up, before it is let go (before it execs the program in a run):
   * work the caller does meanwhile that the program must find done, such as wiring the
   * network namespace init has joined. A rejection fails the launch like a helper error.
   */
  beforeStart?: () => Promise<void>;
  /**
   * A stage 0 already started for this launch (a container monitor's: the engine drives the
   * runtime in-process and init is the monitor's descendant); stdio is then stage 0's own.
   */
  stage0?: Stage0 | Promise<Stage0>;
}

/** The process to exec: given whole, or made from the container's own (runc's exec flags). */
export type ExecProcess = (Process & { args: string[] }) | ((container: Process) => Process & { args: string[] });

export interface ExecOptions {
  detach?: boolean;
  /** With process.terminal: where the pty master goes. */
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  stdio: (number | 'ignore')[];
  /**
   * With process.terminal and no console socket: the read end of a pipe on which the caller
   * writes the terminal's new sizes (rows, cols as big-endian u16, one 4-byte write each);
   * stage 0 holds it (after stdio and the preserved fds) and resizes the pty it relays.
   */
  resizeFd?: number;
  signal?: AbortSignal;
}

export interface Started {
  pid: number;
  /**
   * Foreground runs: init's exit code, after the container's state is removed.
   * Detached runs: resolves at once to 0.
   */
  exit: Promise<number>;
}

const STAGE0_ORIGINS: Record<Stage0['origin'], string> = { launcher: 'forked by the launcher', spawned: 'spawned', monitor: "forked by the container's monitor" };

export class Runtime {
  readonly store: StateStore;
  private readonly seccompCache: SeccompCache;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly deps: RuntimeDeps) {
    this.store = new StateStore(deps.root);
    // Not in the state root, whose every entry is a container to those who list it (and to
    // runc's conventions); /run is root's and a tmpfs on most hosts: the cache goes at reboot.
    this.seccompCache = deps.seccompCache ?? new DiskSeccompCache(DEFAULT_SECCOMP_CACHE);
    this.log = deps.log ?? nullLogger;
    this.now = deps.now ?? (() => new Date());
  }

  /** Reads and validates <bundle>/config.json. */
  async loadSpec(bundle: string): Promise<Spec> {
    const file = path.join(bundle, 'config.json');
    let text: string;
    try {
      // Sync: one small file on the start-up path (see host-facts.ts).
      text = readTextSync(file);
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) {
        throw new BrigError('BUNDLE_NOT_FOUND', `${file}: no such file`, {
          path: file,
          hint: 'create one with `brig-runtime spec`',
        });
      }
      throw e;
    }
    return validateSpec(parseSpecJson(text, file));
  }

  /** Compiles the bundle's config into the plan `run` would execute. */
  async plan(bundleDir: string, opts: Partial<CompileOptions> = {}): Promise<LaunchPlan> {
    const bundle = path.resolve(bundleDir);
    const spec = await this.loadSpec(bundle);
    const facts = await gatherFacts(spec, bundle);
    return compilePlan(spec, facts, { detach: false, noPivot: false, preserveFds: 0, ...opts });
  }

  /** create + start in one step: init runs the program as soon as it is set up. */
  run(id: string, opts: RunOptions): Promise<Started> {
    return this.launch(id, opts, 'run');
  }

  /**
   * Sets the container up and leaves init waiting before the user program (OCI create).
   * Returns init's pid; the caller may exit: `start` releases init through the exec FIFO.
   */
  async create(id: string, opts: Omit<RunOptions, 'detach'>): Promise<number> {
    return (await this.launch(id, { ...opts, detach: true }, 'create')).pid;
  }

  /** Releases a created container's init to exec the user program (OCI start). */
  async start(id: string): Promise<void> {
    const s = await this.store.read(id);
    const status = await liveStatus(s);
    if (status !== 'created') {
      throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is ${status}, not created: only a created container can be started`);
    }
    const fifo = path.join(this.store.dir(id), 'exec.fifo');
    const released = await releaseInit(fifo, id, {
      alive: async () => (await liveStatus(s)) !== 'stopped',
      // From here init goes on to its program (or fails and exits): "running" it is, and a
      // second start finds no FIFO. A dead init reads as stopped whatever the file says.
      onReleased: async () => {
        rmSync(fifo, { force: true });
        // The launcher's plan for this start is spent (it removes it too when it runs it).
        rmSync(path.join(this.store.dir(id), FAST_PLAN_FILES.start), { force: true });
        await this.store.write({ ...s, status: 'running' });
      },
    });
    // init is gone: the container is stopped, and delete runs poststop (spec: step 12).
    if (!released.executed) throw startFailure(s, released.error);
    await this.postHooks(s, 'poststart');
  }

  /**
   * The error of a start the launcher carried out (fast-plan.ts): it released init, recorded
   * the container as running, and then read `after` from the FIFO instead of EOF.
   */
  async startFailed(id: string, after: Buffer): Promise<never> {
    const s = await this.store.read(id);
    throw startFailure(s, after.length === ERROR_RECORD_SIZE ? decodeErrorRecord(after) : undefined);
  }

  /** poststart and poststop failures are warnings, as the spec says; the operation stands. */
  private async postHooks(s: StoredState, kind: 'poststart' | 'poststop'): Promise<void> {
    const hooks = s.hooks?.[kind];
    if (!hooks?.length) return;
    const state: State = toOciState(s, kind === 'poststop' ? 'stopped' : 'running');
    if (kind === 'poststart') state.pid = s.pid;
    for (const [i, h] of hooks.entries()) {
      await runHook(h, state, `hooks.${kind}[${i}]`).catch((e: Error) => this.log.warn(e.message));
    }
  }

  private async launch(id: string, opts: RunOptions, mode: 'run' | 'create'): Promise<Started> {
    checkId(id);
    // --debug shows where start-up time goes, phase by phase.
    // process.hrtime, not performance.now: the `performance` global loads perf_hooks (~1 ms).
    const t0 = process.hrtime.bigint();
    const phase = (name: string) => this.log.debug(`run ${id}: ${name}`, { ms: Number((process.hrtime.bigint() - t0) / 100_000n) / 10 });
    const bundle = path.resolve(opts.bundle);
    const detach = opts.detach ?? false;
    // A malformed config fails here, before anything exists.
    const spec = await this.loadSpec(bundle);
    phase('config read');
    await this.store.create(id);
    const stored: StoredState = {
      ociVersion: spec.ociVersion,
      id,
      status: 'creating',
      pid: 0,
      pidStartTime: '',
      bundle,
      rootfs: '',
      created: this.now().toISOString(),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
      ...(spec.hooks?.poststart || spec.hooks?.poststop ? { hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop } } : {}),
    };
    let proc: HelperProcess | undefined;
    let cgroup: CgroupManager | undefined;
    let initPid = 0;
    try {
      // The container's cgroups exist before stage 0 starts, and init is in them before any
      // user code, so every byte and pid is counted: init moves itself into the v1
      // hierarchies first thing and is cloned into the v2 one. Stage 0, which waits for a
      // foreground init, stays outside, as runc's parent does.
      const cg = this.cgroupManager(await this.cgroupHost(), id, spec.linux?.cgroupsPath);
      cgroup = cg;
      await cg.create();
      // "creating", with the cgroups it made: a caller killed from here on (an engine driving
      // a monitor's stage 0 in-process) leaves what `delete --force` can find and remove.
      stored.cgroup = cg.state();
      stored.creator = currentOwner();
      await this.store.write(stored);
      delete stored.creator; // the next write says created or running
      const how = { untilStart: mode === 'create', ...(opts.signal ? { signal: opts.signal } : {}) };
      // A stage 0 of its own starts now, so its start-up overlaps the compile; one given may
      // still be on its way (a monitor's), and is awaited when the plan is ready.
      if (!opts.stage0) {
        proc = this.deps.helper.start({ stdio: opts.stdio, ...how });
        phase(`stage 0 ${proc.pid} (${STAGE0_ORIGINS[proc.origin]})`);
      }
      // The plan joins the cgroups (see CgroupManager.selfJoin). Not when it joins a cgroup
      // namespace by path first: the kernel refuses CLONE_INTO_CGROUP from a cgroup outside
      // the caller's cgroup namespace, so this process moves init (onPid), as runc does,
      // paying the kernel's RCU grace period for the cgroup.procs write.
      const joinsCgroupNs = spec.linux?.namespaces?.some((n) => n.type === 'cgroup' && n.path !== undefined) ?? false;
      const selfJoin = joinsCgroupNs ? undefined : cg.selfJoin();
      const limited = cg.set(containerResources(spec));
      limited.catch(() => {}); // awaited before init may go on (onPid)
      const facts = await gatherFacts(spec, bundle);
      facts.cgroups = containerCgroups(facts.cgroups, facts.cgroupV1Mounts, stored.cgroup);
      stored.rootfs = facts.rootfs;
      const plan = compilePlan(spec, facts, {
        seccompCache: this.seccompCache,
        detach,
        noPivot: opts.noPivot ?? false,
        preserveFds: opts.preserveFds ?? 0,
        ...(mode === 'create' ? { execFifo: path.join(this.store.dir(id), 'exec.fifo') } : {}),
        ...(opts.consoleSocket ? { consoleSocket: opts.consoleSocket } : {}),
        ...(spec.process?.terminal && !opts.consoleSocket && (await stdinIsTerminal(opts.stdio)) ? { stdinIsTerminal: true } : {}),
        ...(opts.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(id) }),
        ...(selfJoin ? { cgroupJoin: selfJoin } : {}),
      });
      phase(`plan compiled (${plan.ops.length} ops)`);
      for (const w of plan.meta.warnings ?? []) this.log.warn(w);
      if (mode === 'create') stored.startOps = startOps(plan);
      if (opts.stage0) {
        proc = this.deps.helper.adopt(await opts.stage0, how);
        phase(`stage 0 ${proc.pid} (${STAGE0_ORIGINS[proc.origin]})`);
      }
      const launched = await proc!.run(plan, {
        onHooks: async () => {
          const state: State = { ...toOciState({ ...stored, pid: initPid }, 'creating'), pid: initPid };
          await runHooks(spec.hooks?.prestart, 'prestart', state);
          await runHooks(spec.hooks?.createRuntime, 'createRuntime', state);
          return Buffer.from(JSON.stringify(state));
        },
        onPid: async (pid) => {
          initPid = pid;
          phase('init cloned');
          // init is in its cgroups, every limit in place, before it does anything (it waits
          // for this answer).
          if (!selfJoin) await cg.apply(pid);
          await limited;
          if (plan.meta.uidMap !== undefined) await writeIdMaps(pid, plan.meta.uidMap, plan.meta.gidMap!);
          if (plan.meta.seccompListener) {
            // The container process state the spec says goes to the agent with the fd.
            const state = { ...toOciState({ ...stored, pid }, 'creating'), pid };
            const msg = { ociVersion: spec.ociVersion, fds: ['seccompFd'], pid, metadata: plan.meta.seccompListener.metadata, state };
            return Buffer.from(JSON.stringify(msg));
          }
          return undefined;
        },
        onReady: async (pid) => {
          phase('init set up');
          if (opts.beforeStart) {
            await opts.beforeStart();
            phase('caller ready');
          }
          stored.pid = pid;
          stored.pidStartTime = procStat(pid)?.start ?? '';
          // run starts init as soon as this returns: record it as running in one write;
          // create leaves it waiting on the exec FIFO.
          stored.status = mode === 'create' ? 'created' : 'running';
          const written = await this.store.write(stored);
          // What start and delete will do, for the launcher to do without Node (fast-plan.ts).
          if (detach) writeFastPlans(this.store.dir(id), compileFastPlans(this.store.dir(id), stored, written, cg.removal(), mode === 'create'));
          if (opts.pidFile) await writePidFile(opts.pidFile, pid);
        },
      });
      phase('program started');
      if (mode === 'run') await this.postHooks(stored, 'poststart');
      if (detach) return { pid: launched.pid, exit: Promise.resolve(0) };
      const exit = launched.exit.then(async (code) => {
        phase('init exited');
        await cg.destroy();
        await this.store.remove(id);
        await this.postHooks(stored, 'poststop');
        phase('cleaned up');
        return code;
      });
      return { pid: launched.pid, exit };
    } catch (e) {
      if (initPid > 0) killQuietly(initPid);
      await proc?.kill();
      await cgroup?.destroy().catch((err: Error) => this.log.warn(`removing the cgroup of ${id}: ${err.message}`));
      await this.store.remove(id);
      throw e;
    }
  }

  /**
   * Runs another process in a running container (OCI/runc exec): joins all of init's
   * namespaces and its cgroup, with the given user, capabilities, rlimits, no_new_privs
   * and the container's seccomp profile. Foreground: resolves with the process's exit.
   */
  async exec(id: string, what: ExecProcess, opts: ExecOptions): Promise<Started> {
    const s = await this.store.read(id);
    const status = await this.statusOf(s);
    if (status !== 'running') throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is ${status}: exec needs a running container`);
    const spec = await this.loadSpec(s.bundle);
    const proc = typeof what === 'function' ? what(spec.process!) : what;
    // The process is born in the container's cgroups, like init: counted and killed with
    // it. The plan joins them (CgroupManager.selfJoin): the process moves itself in first
    // thing after the clone. Stage 0 is started first so its start-up overlaps the compile.
    const resize = proc.terminal && !opts.consoleSocket && opts.resizeFd !== undefined;
    const stdio = resize ? [...opts.stdio, opts.resizeFd!] : opts.stdio;
    const helper = this.deps.helper.start({ stdio, ...(opts.signal ? { signal: opts.signal } : {}) });
    const selfJoin = s.cgroup ? openCgroupManager(s.cgroup, { warn: (m) => this.log.warn(m) }).selfJoin() : undefined;
    let plan: LaunchPlan;
    try {
      const facts = await gatherFacts(spec, s.bundle);
      plan = compileExecPlan(
        proc,
        { initPid: s.pid, namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), linux: spec.linux ?? {} },
        facts,
        {
          seccompCache: this.seccompCache,
          detach: opts.detach ?? false,
          preserveFds: opts.preserveFds ?? 0,
          ...(opts.consoleSocket ? { consoleSocket: opts.consoleSocket } : {}),
          ...(proc.terminal && !opts.consoleSocket && (await stdinIsTerminal(opts.stdio)) ? { stdinIsTerminal: true } : {}),
          ...(resize ? { resizeFd: opts.stdio.length } : {}),
          ...(s.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(id) }),
          ...(selfJoin ? { cgroupJoin: selfJoin } : {}),
        },
      );
    } catch (e) {
      await helper.kill();
      throw e;
    }
    for (const w of plan.meta.warnings ?? []) this.log.warn(w);
    const launched = await helper.run(plan, {
      onReady: async (pid) => {
        if (opts.pidFile) await writePidFile(opts.pidFile, pid);
      },
    });
    return { pid: launched.pid, exit: opts.detach ? Promise.resolve(0) : launched.exit };
  }

  /**
   * The plan of a process to run in a container of this bundle, compiled before the
   * container runs and good for every run of it: namespaces by paths relative to the
   * helper's working directory (ExecTarget 'cwd'), the cgroups where `run` will put init.
   * The caller starts the helper in /proc/<init pid> with it (the monitor's health probe).
   */
  async probePlan(id: string, bundle: string, proc: Process & { args: string[] }, opts: { noNewKeyring?: boolean } = {}): Promise<LaunchPlan> {
    checkId(id);
    const spec = await this.loadSpec(path.resolve(bundle));
    const host = await this.cgroupHost();
    const selfJoin = this.cgroupManager(host, id, spec.linux?.cgroupsPath).selfJoin();
    const facts = await gatherFacts(spec, path.resolve(bundle));
    return compileExecPlan(proc, { initPid: 'cwd', namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), linux: spec.linux ?? {} }, facts, {
      seccompCache: this.seccompCache,
      detach: false,
      preserveFds: 0,
      ...(opts.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(id) }),
      ...(selfJoin ? { cgroupJoin: selfJoin } : {}),
    });
  }

  private hostPromise: Promise<CgroupHost> | undefined;
  private cgroupHost(): Promise<CgroupHost> {
    this.hostPromise ??= (this.deps.detectCgroups ?? detectCgroups)().then((host) => {
      this.log.debug(`cgroups: ${describeCgroups(host)}`);
      return host;
    });
    return this.hostPromise;
  }

  private cgroupManager(host: CgroupHost, id: string, cgroupsPath: string | undefined): CgroupManager {
    return createCgroupManager(host, {
      id,
      ...(cgroupsPath ? { cgroupsPath } : {}),
      warn: (m) => this.log.warn(m),
      ...(this.deps.attachDevices ? { attachDevices: this.deps.attachDevices } : {}),
    });
  }

  private async openCgroup(id: string): Promise<{ s: StoredState; m: CgroupManager }> {
    const s = await this.store.read(id);
    if (!s.cgroup) throw new BrigError('STATE_CORRUPT', `container "${id}" has no cgroup recorded`);
    return {
      s,
      m: openCgroupManager(s.cgroup, {
        warn: (msg) => this.log.warn(msg),
        ...(this.deps.attachDevices ? { attachDevices: this.deps.attachDevices } : {}),
      }),
    };
  }

  private async requireLive(id: string): Promise<{ s: StoredState; m: CgroupManager; status: State['status'] | 'paused' }> {
    const { s, m } = await this.openCgroup(id);
    const status = await liveStatus(s);
    if (status === 'stopped') throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is not running`);
    return { s, m, status: (await m.freezerState()) === 'thawed' ? status : 'paused' };
  }

  /** Changes the resource limits of a running container (runc update). */
  async update(id: string, resources: LinuxResources): Promise<void> {
    const { m } = await this.requireLive(id);
    await m.set(resources);
  }

  async pause(id: string): Promise<void> {
    const { m, status } = await this.requireLive(id);
    if (status === 'paused') throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is already paused`);
    await m.freeze();
  }

  async resume(id: string): Promise<void> {
    const { m, status } = await this.requireLive(id);
    if (status !== 'paused') throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is not paused`);
    await m.thaw();
  }

  async stats(id: string): Promise<CgroupStats> {
    const { m } = await this.requireLive(id);
    return m.stats();
  }

  /** Host pids of every process in the container's cgroup (runc ps). */
  async pids(id: string): Promise<number[]> {
    const { m } = await this.openCgroup(id);
    return m.pids();
  }

  /** OOM kills as they happen, until the signal aborts or the container stops. */
  async *oomEvents(id: string, opts: { signal?: AbortSignal; intervalMs?: number } = {}): AsyncGenerator<{ count: number; delta: number }> {
    const { m } = await this.requireLive(id);
    yield* m.watchOom(opts);
  }

  async state(id: string): Promise<State> {
    const s = await this.store.read(id);
    return toOciState(s, await this.statusOf(s));
  }

  /** The live status; "paused" (as runc reports it) when the cgroup is frozen. */
  private async statusOf(s: StoredState): Promise<State['status']> {
    const status = await liveStatus(s);
    if (status !== 'running' || !s.cgroup) return status;
    const frozen = await openCgroupManager(s.cgroup).freezerState().catch(() => 'thawed');
    return frozen === 'thawed' ? status : 'paused';
  }

  async list(): Promise<(State & { created: string })[]> {
    const out: (State & { created: string })[] = [];
    for (const id of await this.store.list()) {
      try {
        const s = await this.store.read(id);
        out.push({ ...toOciState(s, await this.statusOf(s)), created: s.created });
      } catch (e) {
        if (e instanceof BrigError && e.code === 'CONTAINER_NOT_FOUND') continue; // deleted meanwhile
        throw e;
      }
    }
    return out;
  }

  /** Signals init, or with `all` every process in the container's cgroup (runc kill --all). */
  async kill(id: string, signal: number, opts: { all?: boolean } = {}): Promise<void> {
    const s = await this.store.read(id);
    const status = await liveStatus(s);
    if (opts.all && s.cgroup) {
      for (const pid of await openCgroupManager(s.cgroup).pids().catch(() => [] as number[])) {
        try {
          process.kill(pid, signal);
        } catch {}
      }
      return;
    }
    if (status === 'stopped') throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" is not running`);
    process.kill(s.pid, signal);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    checkId(id);
    let s: StoredState;
    try {
      s = await this.store.read(id);
    } catch (e) {
      // runc semantics: --force on a container that is already gone succeeds (containerd's
      // shim deletes again when it cleans up).
      if (opts.force && e instanceof BrigError && e.code === 'CONTAINER_NOT_FOUND') {
        // A directory a killed create left before its first state: nothing in it runs.
        await this.store.remove(id);
        return;
      }
      throw e;
    }
    const status = await liveStatus(s);
    if (status !== 'stopped') {
      // A created container never ran its program: deleting it is allowed, as with runc.
      if (!opts.force && status !== 'created') {
        throw new BrigError(
          'CONTAINER_RUNNING',
          `container "${id}" is ${status}: stop it first or use --force`,
          {
            hint: `brig-runtime kill ${id} KILL`,
          },
        );
      }
      // A "creating" one has no init recorded yet (pid 0, which kill(2) reads as our own
      // process group): the cgroup's destroy below kills whatever joined it.
      if (s.pid > 0) {
        killQuietly(s.pid);
        await waitGone(s.pid, s.pidStartTime);
      }
    }
    // Kills what is left in the cgroup (a daemon that double-forked) and removes it.
    if (s.cgroup) await openCgroupManager(s.cgroup, { warn: (m) => this.log.warn(m) }).destroy();
    await this.store.remove(id);
    await this.postHooks(s, 'poststop');
  }
}

/**
 * The cgroup limits to apply: the config's resources, with device rules as runc sets them —
 * deny everything, then the config's rules, then the devices every container needs (a
 * config cannot take /dev/null away from its own container). A node linux.devices creates
 * may be made (mknod, the only right it gets here; runc's wildcard `m` rules give it too)
 * but is opened only where a rule of the config allows it, as with runc: `docker run
 * --device X:r` relies on that to make X read-only.
 */
export function containerResources(spec: Spec): LinuxResources {
  const res = (spec.linux?.resources ?? {}) as LinuxResources;
  const mknod = (spec.linux?.devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'u' || d.type === 'b')
    .map((d) => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major!, minor: d.minor!, access: 'm' }));
  return {
    ...res,
    devices: [{ allow: false, access: 'rwm' }, ...(res.devices ?? []), ...DEFAULT_ALLOWED_DEVICES, ...mknod],
  };
}

/**
 * The container's cgroup per hierarchy, as the /sys/fs/cgroup mount binds it: its own
 * directories, and no hierarchy brig does not manage for it (the host's stays hidden).
 */
export function containerCgroups(
  own: { controllers: string; path: string }[],
  v1Mounts: string[],
  state: CgroupState,
): { controllers: string; path: string }[] {
  const out: { controllers: string; path: string }[] = [];
  for (const c of own) {
    const key = c.controllers === '' ? 'unified' : c.controllers.split(',')[0]!.replace(/^name=/, '');
    const dir = state.dirs[key];
    if (!dir) continue;
    const name = c.controllers === '' ? 'unified' : c.controllers.replace(/^name=/, '');
    const mount = state.version === 'v2' ? '/sys/fs/cgroup' : `/sys/fs/cgroup/${name}`;
    if (state.version !== 'v2' && c.controllers !== '' && !v1Mounts.includes(name)) continue;
    if (!dir.startsWith(mount)) continue;
    out.push({ controllers: c.controllers, path: dir.slice(mount.length) || '/' });
  }
  return out;
}

function toOciState(s: StoredState, status: State['status']): State {
  // "paused" is runc's status for a frozen container; the OCI enum has no word for it.
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    status,
    ...(status === 'stopped' ? {} : { pid: s.pid }),
    bundle: s.bundle,
    ...(s.annotations ? { annotations: s.annotations } : {}),
  };
}

async function writeIdMaps(pid: number, uidMap: string, gidMap: string): Promise<void> {
  for (const [file, data, field] of [
    ['uid_map', uidMap, 'linux.uidMappings'],
    ['gid_map', gidMap, 'linux.gidMappings'],
  ] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, data);
    } catch (e) {
      throw new BrigError(
        'SYSTEM',
        `${field}: writing /proc/${pid}/${file} failed: ${(e as Error).message}`,
        {
          field,
          path: `/proc/${pid}/${file}`,
          cause: e,
          hint: 'each host id range must exist and be mappable by the caller',
        },
      );
    }
  }
}

async function writePidFile(file: string, pid: number): Promise<void> {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, file);
}

/** What went wrong after init was released: the failed op's error record, or just its exit. */
function startFailure(s: StoredState, record: ErrorRecord | undefined): BrigError {
  if (record) {
    const ops: Op[] = [];
    s.startOps?.ops.forEach((op, i) => (ops[s.startOps!.from + i] = op));
    return toBrigError(record, ops);
  }
  return new BrigError('CONTAINER_NOT_RUNNING', `container "${s.id}" init exited before its program was executed`);
}

/** The ops after fifo_wait, for `start` to name a failure in them (see exec-fifo.ts). */
/**
 * Whether the stdin the process gets is a terminal (a foreground run's pty relay then puts
 * it in raw mode). node:tty loads net and stream, so only the terminal path pays for it.
 */
async function stdinIsTerminal(stdio: (number | 'ignore')[]): Promise<boolean> {
  return typeof stdio[0] === 'number' && (await import('node:tty')).isatty(stdio[0]);
}

function startOps(plan: LaunchPlan): StoredState['startOps'] {
  const from = plan.ops.findIndex((o) => o.op === 'fifo_wait');
  if (from < 0) return undefined;
  // Stored as JSON, for wording an error only: byte strings (the seccomp program) are left
  // empty and 64-bit masks (capset) become decimal strings.
  const storable = (o: Op) =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [k, v instanceof Uint8Array ? new Uint8Array(0) : typeof v === 'bigint' ? String(v) : v]),
    ) as Op;
  return { from, ops: plan.ops.slice(from).map(storable) };
}

async function liveStatus(s: StoredState): Promise<State['status']> {
  if (s.pid <= 0) return s.status === 'creating' && s.creator !== undefined && ownerAlive(s.creator) ? 'creating' : 'stopped';
  const st = procStat(s.pid);
  if (!st || st.start !== s.pidStartTime || st.state === 'Z' || st.state === 'X') return 'stopped';
  return s.status === 'created' ? 'created' : 'running';
}

function killQuietly(pid: number): void {
  if (pid <= 0) return; // 0 and -1 name process groups, never one process
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

async function waitGone(pid: number, start: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const st = procStat(pid);
    if (!st || st.start !== start || st.state === 'Z') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new BrigError('CONTAINER_RUNNING', `process ${pid} did not exit after SIGKILL`);
}

/** runc's name for a container's session keyring; exec joins the same one. */
function sessionKeyringName(id: string): string {
  return `_ses.${id}`;
}
