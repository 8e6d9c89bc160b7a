/**
 * Engine containers that outlive the CLI: each is a record in the ContainerStore, an OCI
 * bundle in its directory, and, while it runs, a brig-monitor that holds its stdio, writes
 * its log and records its exit. This class is the engine's side of create, start, stop,
 * kill, wait, remove, logs, list and inspect; the CLI and (later) the API render what it
 * returns. It owns no process: every answer is read from the store, reconciled with what the
 * monitor left (`exit.json`) and with /proc.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrigError, hasErrno } from '../../errors/index.js';
import { mark } from '../../util/timing.js';
import { DEFAULT_PATH, mergeEnv, resolveUser } from '../../image/runtime-config.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Capabilities, Mount, Process, Spec } from '../../runtime/spec/types.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../../util/owner.js';
import { procStat } from '../../util/proc-stat.js';
import { capabilitiesForUser } from '../user-capabilities.js';
import { parseSignal } from '../../util/signals.js';
import { exitCode, type ExitRecord, type RunRecord, startMonitor } from '../monitor/monitor.js';
import { compileMonitorPlan, type LogConfig, type MonitorEventName, type MonitorFiles, monitorFiles, type MonitorSpec } from '../monitor/plan.js';
import { encodePlan } from '../../native/encode.js';
import type { Stage0 } from '../../native/stage0.js';
import { resolveProbe } from '../policy/health.js';
import { policyName } from '../policy/restart.js';
import type { EventLog } from '../events/log.js';
import { type ContainerActor, containerEvent, monitorTemplate } from '../events/message.js';
import { jsonFile } from '../logs/json-file.js';
import type { LogLine } from '../logs/line.js';
import { local } from '../logs/local.js';
import { readLogs } from '../logs/reader.js';
import type { ContainerConfig, HostConfig } from './config.js';
import type { MountPoint } from '../volumes/resolve.js';
import { type FilterableContainer, type FilterMap, planList, planPrune, prunable, selectContainers } from './filters.js';
import { frozen, frozenWith } from '../../util/frozen-json.js';
import { isShareable, joinedShm, shmDir, withShm } from './shared-shm.js';
import { type ContainerJSON, type ContainerSummary, containerJSON, containerSummary, summaryStatus } from './inspect.js';
import { isRunningLike } from './state.js';
import { joinNamespaces, sharedNamespaces } from './namespaces.js';
import { type ContainerTopResponse, hostPs, type PsRunner, topProcesses, validatePsArgs } from './top.js';
import { type ContainerRecord, ContainerStore, type HealthState } from './store.js';
import { readTextSync } from '../../util/read-text.js';

/** State.ExitCode of a container whose start failed, as dockerd records it. */
const EXIT_CODES = { EXEC_NOT_FOUND: 127, EXEC_DENIED: 126, SYSTEM: 128 } as const;

/** docker's default seconds between the stop signal and SIGKILL. */
export const DEFAULT_STOP_TIMEOUT = 10;

/** What the engine keeps in a record's `spec` (opaque to the store). */
export interface ContainerSettings {
  /** The container's OCI bundle: config.json here, rootfs where config.json says. */
  bundle: string;
  /** docker's Config, merged with the image's (what inspect shows). */
  config: StoredConfig;
  /** docker's HostConfig as the engine keeps it (defaults and adjustments applied). */
  hostConfig: HostConfig;
  /** The command as inspect's Path and Args show it (an init, if any, not included). */
  path: string;
  args: string[];
  log: LogConfig;
  /** Unmounted and removed with the container (an image snapshot); absent for the host image. */
  rootfs?: { path: string; snapshot: string };
  files: MonitorFiles;
  /** Volumes, binds and tmpfs mounts (inspect's Mounts); absent in records made before volumes. */
  mounts?: MountPoint[];
}

export type StoredConfig = ContainerConfig & {
  Hostname: string;
  Env: string[];
  Cmd: string[];
  Entrypoint: string[] | null;
  WorkingDir: string;
  User: string;
  Labels: Record<string, string>;
  StopSignal: string;
};

export interface CreateRequest {
  image: string;
  name?: string;
  log: LogConfig;
  tty: boolean;
}

/** What `prepare` made of a new container: its bundle's spec and what the record keeps. */
export interface PreparedContainer {
  spec: Spec;
  imageId: string;
  config: StoredConfig;
  hostConfig: HostConfig;
  rootfs?: ContainerSettings['rootfs'];
  /** Volumes, binds and tmpfs mounts, as inspect shows them. */
  mounts?: MountPoint[];
  /** The log settings as resolved with the container's own env and name (else the request's). */
  log?: LogConfig;
}

export interface ExecRequest {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  detach: boolean;
  /** docker exec --privileged: every capability brig holds. */
  privileged?: boolean;
  stdio: (number | 'ignore')[];
  /** With tty: the terminal's first size, and a pipe of later sizes (runtime ExecOptions.resizeFd). */
  consoleSize?: { height: number; width: number };
  resizeFd?: number;
}

export interface ContainerServiceDeps {
  root: string;
  runtime: Runtime;
  /** brig-runtime's launcher and its state root: the monitor's starter. */
  runtimeBin: string;
  runtimeRoot: string;
  /** The native helper: the monitor runs health probes through it. */
  helperBin?: string;
  /** The on-exit command: `brig container cleanup ID` with this environment. */
  cleanupCommand: (id: string) => { argv: string[]; env: string[] };
  /**
   * Set while a resident process removes --rm containers itself at their exit (brig serve,
   * Engine.removeAtExit): how long their monitors wait for that before their own clean-up.
   */
  exitGraceMs?: () => number | undefined;
  /** A shareable container's /dev/shm on the host (shared-shm.ts): a fresh tmpfs at each start, unmounted at removal. */
  shm?: { mount: (dir: string, size: number | undefined) => Promise<void>; unmount: (dir: string) => Promise<void> };
  /** Unmounts a rootfs and removes its snapshot (the image side of removal). */
  releaseRootfs: (rootfs: NonNullable<ContainerSettings['rootfs']>) => Promise<void>;
  /** Every capability brig holds (exec --privileged hands them out). */
  heldCapabilities: () => string[];
  /** Where the container's memory cgroup counts OOM kills, if the host has one. */
  oomCounter?: (id: string) => { path: string; key: string } | undefined;
  /** Bytes a container's rootfs snapshot holds: its own (SizeRw) and with the image's (SizeRootFs). */
  layerSize?: (rootfs: NonNullable<ContainerSettings['rootfs']>) => Promise<{ rw: number; rootFs: number }>;
  /** The image ids docker's ancestor filter allows for these references (each image and its descendants). */
  imageFamily?: (refs: string[]) => Promise<Set<string>>;
  /** Removes those of these volumes that are anonymous and that no container uses any more (rm -v, --rm). */
  releaseVolumes?: (names: string[]) => Promise<void>;
  /** How `top` runs ps (the host's, by default). */
  ps?: PsRunner;
  now?: () => Date;
  /** Where container events go (create, start, kill, stop, ...; the monitor adds die and oom). */
  events?: EventLog;
  /**
   * The container's networks (src/engine/network): set up before each start (returning the
   * teardown the monitor runs when the container ends for good), torn down at stop and rm.
   */
  network?: {
    attach: (id: string) => Promise<{ argv: string[]; env: string[] } | undefined>;
    detach: (id: string) => Promise<void>;
    /** For ps's network, publish and expose filters: the container's networks and ports (undefined: none kept). */
    /** memo: the listing's, for this record's snapshot (ContainerStore.listingMemo). */
    listView?: (id: string, running: boolean, memo?: Map<string, unknown>) => Promise<{ ports: { PrivatePort: number; PublicPort?: number; Type: string }[]; networks: { name: string; id: string }[] } | undefined>;
    /** After a listing of every container (these): what listView keeps of others can go. */
    listed?: (ids: string[]) => void;
  };
}

/** GET /containers/json's query (see filters.ts for docker's rules). */
export interface ListOptions {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: FilterMap;
}

const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy'] as const;

export class ContainerService {
  readonly store: ContainerStore;
  private readonly now: () => Date;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.store = new ContainerStore(deps.root, (r) => this.reconcile(r));
    this.now = deps.now ?? (() => new Date());
  }

  private settings(r: ContainerRecord): ContainerSettings {
    return r.spec as unknown as ContainerSettings;
  }

  /** Appends a container event to the event log: the record gives id, name, image and labels. */
  event(r: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events?.append(containerEvent(action, actorOf(r), extra));
  }

  /**
   * The events the monitor appends for a container it runs, in order with what it sees:
   * `start` (once the runtime has started it, before this process hears so), `die`
   * (exitCode and execDuration filled in by the monitor) and, with an OOM counter, `oom`.
   */
  private monitorEvents(r: ContainerRecord, oom: boolean, health: boolean): NonNullable<MonitorSpec['events']> {
    const log = this.deps.events;
    if (!log) return [];
    const path = log.monitorPath();
    const line = (action: MonitorEventName, fill?: Record<string, string>) => ({ path, on: action, line: monitorTemplate(containerEvent(action, actorOf(r)), fill) });
    // docker's "health_status: healthy" (the status in the Action), one line per status.
    const healthLines = health ? HEALTH_STATUSES.map((h) => line(`health_status: ${h}`)) : [];
    return [line('start'), line('die', { exitCode: 'x', execDuration: 'd' }), ...(oom ? [line('oom')] : []), ...healthLines];
  }

  /**
   * A record says "running" only while its monitor has not written an exit record and init
   * is alive: the truth is what the monitor and /proc say, corrected on every read. A record
   * whose operation was cut short (its brig killed) reads as what is left: a start that got
   * as far as init is running; one that did not has exited; a removal is "dead" (rm -f
   * finishes it); a create is nobody's container (hidden, and swept by the engine).
   */
  private reconcile(r: ContainerRecord): ContainerRecord {
    const out = this.reconcileState(r);
    if (ContainerService.incomplete(out) || !this.settings(out).config.Healthcheck) return out;
    // Health as the monitor's last probe left it (health.json goes when the container starts anew).
    const f = this.settings(out).files.health;
    const health = f ? readJson<HealthState>(f) : undefined;
    return health ? { ...out, state: { ...out.state, health } } : out;
  }

  private reconcileState(r: ContainerRecord): ContainerRecord {
    const p = r.pending;
    const orphaned = p !== undefined && !ownerAlive(parseOwner(p.owner) ?? { pid: 0, start: '' });
    if (p?.op === 'remove' && orphaned) return { ...r, pending: undefined, state: { ...r.state, status: 'dead', error: 'brig was killed while removing the container' } };
    if (ContainerService.incomplete(r)) return r;
    if (!isRunningLike(r.state.status)) return r;
    const s = this.settings(r);
    const exit = readExit(s.files.exit);
    if (exit) {
      return {
        ...r,
        pending: undefined,
        restartCount: exit.restartCount ?? r.restartCount,
        state: { ...r.state, status: 'exited', pid: 0, exitCode: exitCode(exit), oomKilled: exit.oomKills > 0, finishedAt: exit.finishedAt },
      };
    }
    // A monitor with a restart policy runs init again: run.json says which run this is.
    const run = s.files.run ? readJson<RunRecord>(s.files.run) : undefined;
    if (run && p?.op !== 'start') {
      if (run.restarting) {
        const last = run.lastExit;
        return {
          ...r,
          restartCount: run.restartCount,
          state: { ...r.state, status: 'restarting', pid: 0, pidStart: '', ...(last ? { exitCode: exitCode(last), oomKilled: last.oomKills > 0, finishedAt: last.finishedAt } : {}) },
        };
      }
      if (run.pid !== r.state.pid || r.state.status === 'restarting') {
        const st = procStat(run.pid);
        if (st && st.state !== 'Z') {
          return {
            ...r,
            restartCount: run.restartCount,
            state: { ...r.state, status: r.state.status === 'paused' ? 'paused' : 'running', pid: run.pid, pidStart: st.start, startedAt: run.startedAt ?? r.state.startedAt },
          };
        }
      }
    }
    if (p?.op === 'start') {
      if (!orphaned) return r;
      // The brig that started it died before it wrote init's pid down: the starter's pid
      // file and init's parent (the monitor) say whether the container got going.
      const init = readPidFile(s.files.pid);
      const initStat = init ? procStat(init) : undefined;
      const monitor = initStat && initStat.state !== 'Z' ? procStat(initStat.ppid) : undefined;
      if (init && initStat && monitor) {
        return { ...r, pending: undefined, state: { ...r.state, pid: init, pidStart: initStat.start, monitorPid: initStat.ppid, monitorStart: monitor.start, startedAt: r.state.startedAt || this.now().toISOString() } };
      }
      return { ...r, pending: undefined, state: { ...r.state, status: 'exited', pid: 0, exitCode: 255, error: 'brig was killed while starting the container', finishedAt: this.now().toISOString() } };
    }
    // By pid and start time: a pid alone may name another process by now.
    if (ownerAlive({ pid: r.state.pid, start: r.state.pidStart ?? '' })) return r;
    // init gone and its monitor alive: the exit record is moments away.
    if (ownerAlive({ pid: r.state.monitorPid, start: r.state.monitorStart ?? '' })) return r;
    return {
      ...r,
      state: { ...r.state, status: 'exited', pid: 0, exitCode: 255, error: 'the container monitor is gone and left no exit record', finishedAt: this.now().toISOString() },
    };
  }

  /** A record a create is still writing (or a killed one left): not a container yet. */
  static incomplete(r: ContainerRecord): boolean {
    return r.pending?.op === 'create' || typeof (r.spec as Partial<ContainerSettings>).bundle !== 'string';
  }

  /** Whether the create that wrote `r` was cut short (its brig is gone): the engine undoes it. */
  static abandoned(r: ContainerRecord): boolean {
    if (!ContainerService.incomplete(r)) return false;
    // A record with no settings and no creator named is a wreck whoever wrote it.
    return r.pending?.op !== 'create' || !ownerAlive(parseOwner(r.pending.owner) ?? { pid: 0, start: '' });
  }

  /** find, without a record a create is still writing. */
  async find(ref: string): Promise<ContainerRecord> {
    const r = await this.store.find(ref);
    if (ContainerService.incomplete(r)) throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
    return r;
  }

  /**
   * Claims the name and writes the record; `prepare` makes the bundle in the container's
   * directory. A failure of `prepare` leaves nothing: the record and its name go again.
   */
  async create(req: CreateRequest, prepare: (id: string, dir: string, name: string) => Promise<PreparedContainer>): Promise<ContainerRecord> {
    const record = await this.store.create({
      ...(req.name !== undefined ? { name: req.name } : {}),
      image: req.image,
      imageId: '',
      state: { status: 'created', pid: 0, monitorPid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' },
      restartCount: 0,
      pending: { op: 'create', owner: formatOwner(currentOwner()) },
      spec: {},
      labels: {},
    });
    const dir = this.store.containerDir(record.id);
    try {
      const made = await prepare(record.id, dir, record.name);
      await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(made.spec));
      const log = made.log ?? req.log;
      const files = monitorFiles({ dir, socketDir: this.socketDir(record.id, dir), log, tty: req.tty });
      const [cmd0 = '', ...rest] = [...(made.config.Entrypoint ?? []), ...made.config.Cmd];
      const settings: ContainerSettings = {
        bundle: dir,
        config: made.config,
        hostConfig: made.hostConfig,
        path: cmd0,
        args: rest,
        log,
        files,
        ...(made.rootfs ? { rootfs: made.rootfs } : {}),
        ...(made.mounts?.length ? { mounts: made.mounts } : {}),
      };
      const created = await this.store.update(record.id, undefined, (r) => ({ ...r, pending: undefined, imageId: made.imageId, labels: made.config.Labels, spec: settings as unknown as Record<string, unknown> }));
      this.event(created, 'create');
      return created;
    } catch (e) {
      await this.store.remove(record.id);
      throw e;
    }
  }

  private socketDir(id: string, dir: string): string {
    // A socket path holds 107 bytes: the container's directory when it fits, else a short one.
    return Buffer.byteLength(path.join(dir, 'console.sock')) <= 107 ? dir : path.join('/run/brig/sockets', id.slice(0, 12));
  }

  /**
   * Starts a created or exited container under a new monitor. With `attach`, the monitor
   * waits until `attach` has connected to its attach socket before the container runs, so
   * that client sees all of its output (docker's attach-then-start).
   */
  async start(ref: string, opts: { attach?: (socket: string) => Promise<void> } = {}): Promise<ContainerRecord> {
    mark('start: begin');
    const found = await this.find(ref);
    mark('start: found');
    if (found.state.status === 'running') return found; // docker: starting a running container is a no-op
    const s = this.settings(found);
    const id = found.id;
    // The network before the record says "running" (its setup takes a moment, and a running
    // record has an init pid); a start the state machine then refuses undoes it.
    if (!isRunningLike(found.state.status) && !found.pending) await this.joinOthers(id, s);
    const finalExit = isRunningLike(found.state.status) || found.pending ? undefined : await this.deps.network?.attach(id);
    // The state machine first (a removing or dead container cannot start), then the monitor.
    await this.store.update(id, 'start', (r) => ({ ...r, pending: { op: 'start', owner: formatOwner(currentOwner()) } })).catch(async (e: unknown) => {
      if (finalExit) await this.deps.network?.detach(id);
      throw e;
    });
    const dir = s.bundle;
    // A new life: no exit, run state, health or stop marker of the last one.
    const files = { ...monitorFiles({ dir, socketDir: path.dirname(s.files.attach), log: s.log, tty: s.config.Tty === true }), ...s.files };
    await Promise.all([files.exit, files.pid, files.run, files.health, files.stopped].map((f) => fs.rm(f, { force: true })));
    const socketDir = path.dirname(s.files.attach);
    await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
    // JSON lines, so a failed start is read back by its error code, not its wording.
    const rt = [this.deps.runtimeBin, '--root', this.deps.runtimeRoot, '--log', path.join(dir, 'runtime.log'), '--log-format', 'json'];
    // A container started before keeps nothing of its old runtime state.
    await this.deps.runtime.delete(id, { force: true }).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    mark('start: prepared');
    const oom = this.deps.oomCounter?.(id);
    // On exit: a --rm container needs brig itself (rootfs, record); any other only the
    // runtime's delete, which brig-runtime's launcher does from its plan without starting
    // Node, so a container's exit costs no Node start and rm -f waits for none.
    const cleanup = s.hostConfig.AutoRemove === true ? this.deps.cleanupCommand(id) : { argv: [...rt, 'delete', '--force', id], env: [] };
    const grace = s.hostConfig.AutoRemove === true ? this.deps.exitGraceMs?.() : undefined;
    const plan = compileMonitorPlan({
      dir,
      socketDir,
      log: s.log,
      tty: s.config.Tty === true,
      stdin: s.config.OpenStdin === true,
      starter: (f) => ({
        argv: [...rt, 'run', '-d', '--bundle', dir, '--pid-file', f.pid, ...(f.console ? ['--console-socket', f.console] : []), id],
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      }),
      // No second Node per container: this process drives the first run's stage 0 (the
      // starter's brig-runtime serves restarts, when no engine is about).
      ...(this.deps.helperBin ? { stage0: { helper: this.deps.helperBin } } : {}),
      ...(oom ? { oomCounter: oom } : {}),
      onExit: cleanup,
      ...(finalExit ? { finalExit } : {}),
      ...(grace ? { exitGrace: { path: this.store.recordFile(id), ms: grace } } : {}),
      hold: opts.attach !== undefined,
      restart: { policy: policyName(s.hostConfig.RestartPolicy), max: s.hostConfig.RestartPolicy?.MaximumRetryCount ?? 0 },
      ...(await this.healthPlan(id, dir, s)),
      events: this.monitorEvents(found, oom !== undefined, resolveProbe(s.config.Healthcheck) !== undefined),
    });
    const attach = opts.attach;
    if (attach) this.event(found, 'attach');
    let driveFailure: unknown;
    try {
      if (isShareable(s.hostConfig) && this.deps.shm) {
        await this.deps.shm.mount(shmDir(dir), s.hostConfig.ShmSize).catch((e: unknown) => {
          driveFailure = e;
          throw e;
        });
      }
      mark('start: plan compiled');
      const drive = async (stage0: Promise<Stage0>) => {
        const f = plan.files;
        await this.deps.runtime
          .run(id, { bundle: dir, detach: true, pidFile: f.pid, ...(f.console ? { consoleSocket: f.console } : {}), stdio: [], stage0 })
          .catch((e: unknown) => {
            driveFailure = e;
            throw e;
          });
      };
      const started = await startMonitor(plan, {
        ...(attach ? { onListening: () => attach(plan.files.attach) } : {}),
        ...(this.deps.helperBin ? { drive } : {}),
      });
      mark('start: monitor started');
      const running = await this.store.update(id, undefined, (r) => ({
        ...r,
        pending: undefined,
        restartCount: 0, // docker's start begins the count again (ResetRestartManager)
        state: { ...r.state, status: 'running', pid: started.pid, monitorPid: started.monitorPid, pidStart: procStat(started.pid)?.start ?? '', monitorStart: procStat(started.monitorPid)?.start ?? '', exitCode: 0, oomKilled: false, error: '', startedAt: this.now().toISOString(), finishedAt: '' },
      }));
      return running;
    } catch (e) {
      // The runtime's error: thrown here when this process drove it, else in the starter's log.
      const failure = driveFailure instanceof BrigError ? { msg: driveFailure.message, code: driveFailure.code } : lastError(path.join(dir, 'runtime.log'));
      const why = failure?.msg ?? (e as Error).message;
      // docker's exit codes for a start that failed: 127 not found, 126 cannot be run, else 128.
      const code = failure?.code === 'EXEC_NOT_FOUND' || failure?.code === 'EXEC_DENIED' ? failure.code : 'SYSTEM';
      await this.store.update(id, undefined, (r) => ({
        ...r,
        pending: undefined,
        state: { ...r.state, status: r.state.startedAt ? 'exited' : 'created', pid: 0, monitorPid: 0, error: why, exitCode: EXIT_CODES[code] },
      }));
      await this.deps.network?.detach(id).catch(() => undefined);
      throw new BrigError(code, `failed to start container ${found.name}: ${why}`, { cause: e });
    }
  }

  /**
   * With --ipc container:NAME, the /dev/shm to bind: the donor's with its IPC namespace
   * (shared-shm.ts), or docker's refusal of a private one. undefined for any other mode.
   */
  async donorShm(h: HostConfig): Promise<Mount | undefined> {
    const ipc = h.IpcMode;
    if (typeof ipc !== 'string' || !ipc.startsWith('container:')) return undefined;
    const donor = await this.find(ipc.slice('container:'.length));
    const ds = this.settings(donor);
    return joinedShm({ id: donor.id, ipcMode: ds.hostConfig.IpcMode, dir: ds.bundle });
  }

  /** --ipc/--pid/--uts container:NAME: the other container's namespaces, at each start. */
  private async joinOthers(id: string, s: ContainerSettings): Promise<void> {
    if (!sharedNamespaces(s.hostConfig).length) return;
    const file = path.join(s.bundle, 'config.json');
    const spec = JSON.parse(await fs.readFile(file, 'utf8')) as Spec;
    const joined = await joinNamespaces(spec, s.hostConfig, id, async (ref) => {
      const r = await this.find(ref);
      return { id: r.id, name: r.name, pid: isRunningLike(r.state.status) ? r.state.pid : 0 };
    });
    const shm = await this.donorShm(s.hostConfig);
    if (shm) joined.mounts = withShm(joined.mounts ?? [], shm);
    await fs.writeFile(file, JSON.stringify(joined));
  }

  /**
   * The monitor's health probe: the container's own process (user, env, capabilities,
   * seccomp, cwd) running the probe's argv, compiled once into an exec plan the native
   * helper runs in the container's namespaces and cgroups on every probe, restarts included.
   */
  private async healthPlan(id: string, dir: string, s: ContainerSettings): Promise<Pick<MonitorSpec, 'health'>> {
    const probe = resolveProbe(s.config.Healthcheck);
    if (!probe) return {};
    if (!this.deps.helperBin) throw new BrigError('INTERNAL', 'this engine has no native helper for health probes');
    const spec = await this.deps.runtime.loadSpec(dir);
    const { terminal: _t, consoleSize: _c, ...proc } = spec.process!;
    const plan = await this.deps.runtime.probePlan(id, dir, { ...proc, terminal: false, args: probe.args });
    return { health: { helper: this.deps.helperBin, plan: encodePlan(plan), ...probe } };
  }

  /** Signals init (docker's kill): the container must be running. */
  async kill(ref: string, signal = 'SIGKILL'): Promise<ContainerRecord> {
    const r = await this.find(ref);
    const sig = parseSignal(signal, '--signal');
    await this.store.update(r.id, 'kill');
    // A kill that ends it (SIGKILL, or the stop signal) is the user's stop: no restart after
    // it, as docker's ExitOnNext. A signal the program handles (HUP, USR1) leaves the policy be.
    if (sig === 9 || sig === parseSignal(this.settings(r).config.StopSignal, '--signal')) await this.markStopped(r);
    // Before the signal, so that it comes before the die it may cause.
    this.event(r, 'kill', { signal: String(sig) });
    if (r.state.status === 'restarting') return r; // between runs: the monitor reads the marker
    try {
      process.kill(r.state.pid, sig);
    } catch (e) {
      if (!hasErrno(e, 'ESRCH')) throw e;
    }
    return r;
  }

  /**
   * docker's stop: the stop signal, then SIGKILL after `timeout` seconds (-1: wait for ever),
   * and wait for the exit. A container that is not running is left as it is.
   */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<ContainerRecord> {
    const r = await this.find(ref);
    if (!isRunningLike(r.state.status)) return r;
    const s = this.settings(r);
    const timeout = opts.timeout ?? s.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    await this.store.update(r.id, 'stop');
    await this.markStopped(r);
    // docker's order: kill (the stop signal), maybe kill (9), die (from the monitor), stop.
    // Each kill event before its signal, so that it comes before the die it causes.
    const sig = parseSignal(opts.signal ?? s.config.StopSignal, '--signal');
    this.event(r, 'kill', { signal: String(sig) });
    signalQuietly(r.state.pid, sig);
    await this.thawIfPaused(r);
    if (timeout < 0 || (await this.waitExit(r.id, timeout * 1000)) === undefined) {
      this.event(r, 'kill', { signal: '9' });
      signalQuietly(r.state.pid, 9);
      await this.waitExit(r.id, 30_000);
    }
    // The monitor's teardown first (it runs once the exit is recorded), then what it leaves.
    await this.waitExitOfProcess(0, r.state.monitorPid);
    await this.deps.network?.detach(r.id);
    this.event(r, 'stop');
    return this.store.find(r.id);
  }

  /** The user stopped it: its monitor must not restart it (see the restart op). */
  private async markStopped(r: ContainerRecord): Promise<void> {
    const f = this.settings(r).files.stopped;
    if (f) await fs.writeFile(f, '');
  }

  /** Waits for a running container to exit; its exit code (docker's wait). */
  async wait(ref: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const r = await this.find(ref);
    const done = await this.waitExit(r.id, Number.POSITIVE_INFINITY, opts.signal);
    return done?.state.exitCode ?? r.state.exitCode;
  }

  private async waitExit(id: string, ms: number, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
    const until = Date.now() + ms;
    for (let step = 5; ; step = Math.min(step * 2, 100)) {
      const r = await this.store.find(id);
      if (!isRunningLike(r.state.status)) return r;
      if (Date.now() > until) return undefined;
      await sleep(step, undefined, signal ? { signal } : {});
    }
  }

  /**
   * docker exec: a new process in the running container, from the container's own process
   * (env, cwd, user, capabilities, no_new_privs) with the given changes.
   */
  async exec(ref: string, req: ExecRequest): Promise<{ pid: number; exit: Promise<number> }> {
    const r = await this.find(ref);
    await this.store.update(r.id, 'exec');
    const rootfs = this.rootfsOf(r);
    const user = req.user !== undefined ? await resolveUser(rootfs, req.user) : undefined;
    // docker's exec environment (daemon/exec.go): PATH, HOSTNAME and TERM with the exec's own
    // tty, then the container's Config.Env and the exec's -e; HOME from the exec user's
    // passwd entry unless set (not the container process's, whose user may differ).
    const c = this.settings(r).config;
    const env = mergeEnv([`PATH=${DEFAULT_PATH}`, `HOSTNAME=${c.Hostname}`, ...(req.tty ? ['TERM=xterm'] : [])], c.Env, req.env);
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${(user ?? (await resolveUser(rootfs, c.User))).home}`);
    // docker's exec events: the command in the action, an exec id to tie them together.
    const execID = randomBytes(32).toString('hex');
    const command = `${req.cmd.join(' ')}`;
    this.event(r, `exec_create: ${command}`, { execID });
    const started = await this.deps.runtime.exec(
      r.id,
      (p) => ({
        ...p,
        args: req.cmd,
        env,
        cwd: req.workdir ?? p.cwd,
        terminal: req.tty,
        ...(req.tty && req.consoleSize ? { consoleSize: req.consoleSize } : {}),
        ...(user ? { user: { uid: user.uid, gid: user.gid, ...(user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}) } } : {}),
        ...capabilitiesFor(p, user?.uid, req.privileged === true ? this.deps.heldCapabilities() : undefined),
      }),
      { detach: req.detach, stdio: req.stdio, ...(req.resizeFd !== undefined ? { resizeFd: req.resizeFd } : {}) },
    );
    this.event(r, `exec_start: ${command}`, { execID });
    const exit = req.detach ? started.exit : started.exit.then((code) => (this.event(r, 'exec_die', { execID, exitCode: String(code) }), code));
    return { pid: started.pid, exit };
  }

  /** The container's root filesystem on the host (config.json's root.path). */
  rootfsOf(r: ContainerRecord): string {
    const spec = JSON.parse(readTextSync(path.join(this.settings(r).bundle, 'config.json'))) as Spec;
    return path.resolve(this.settings(r).bundle, spec.root!.path);
  }

  /** docker pause/unpause: the cgroup freezer, through the runtime. */
  async pause(ref: string): Promise<void> {
    const r = await this.find(ref);
    await this.store.update(r.id, 'pause');
    await this.deps.runtime.pause(r.id);
    this.event(r, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const r = await this.find(ref);
    await this.store.update(r.id, 'unpause');
    await this.deps.runtime.resume(r.id);
    this.event(r, 'unpause');
  }

  /**
   * The stopped containers a booting host starts again (dockerd's restore: the restart
   * manager's ShouldRestart with the container's last exit): always; unless-stopped when the
   * user did not stop it; on-failure when it failed and has retries left. Only containers
   * started before, as docker's HasBeenStartedBefore.
   */
  async toBoot(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const r of await this.records()) {
      if (r.state.status !== 'exited' || !r.state.startedAt) continue;
      const s = this.settings(r);
      const policy = s.hostConfig.RestartPolicy;
      const stopped = s.files.stopped !== undefined && (await fs.access(s.files.stopped).then(() => true, () => false));
      const max = policy?.MaximumRetryCount ?? 0;
      const go =
        policy?.Name === 'always' ||
        (policy?.Name === 'unless-stopped' && !stopped) ||
        (policy?.Name === 'on-failure' && !stopped && r.state.exitCode !== 0 && (max === 0 || r.restartCount < max));
      if (go) out.push(r);
    }
    // A container that joins another's namespaces (--network/--ipc/--pid/--uts container:,
    // a kube pod's members) after the ones it may join, which must be running by then.
    const joins = (r: ContainerRecord) => {
      const h = this.settings(r).hostConfig;
      return [h.NetworkMode, h.IpcMode, h.PidMode, h.UTSMode].some((m) => m?.startsWith('container:')) ? 1 : 0;
    };
    return out.sort((a, b) => joins(a) - joins(b));
  }

  /** docker restart: stop (signal, then SIGKILL after the timeout) and start again. */
  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<ContainerRecord> {
    // RestartCount counts restarts by a policy, not by the user (docker's rule).
    const r = await this.stop(ref, opts);
    const started = await this.start(r.id);
    this.event(started, 'restart');
    return started;
  }

  async rename(ref: string, name: string): Promise<void> {
    const r = await this.find(ref);
    await this.store.rename(r.id, name);
    // docker's oldName is its internal name, with the leading slash.
    this.event({ ...r, name }, 'rename', { oldName: `/${r.name}` });
  }

  /** docker's rm: a running container needs force (then it is killed first). */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    const r = await this.find(ref);
    await this.store.update(r.id, opts.force ? 'remove-force' : 'remove', (x) => ({ ...x, pending: { op: 'remove', owner: formatOwner(currentOwner()) } }));
    if (isRunningLike(r.state.status)) {
      await this.markStopped(r);
      this.event(r, 'kill', { signal: '9' });
      signalQuietly(r.state.pid, 9);
      await this.thawIfPaused(r);
      await this.waitExitOfProcess(r.state.pid, r.state.monitorPid);
    }
    await this.teardown(r, { volumes: opts.volumes === true });
    return r.name;
  }

  /** A frozen process takes its signal only once thawed: stop and rm -f of a paused container thaw it. */
  private async thawIfPaused(r: ContainerRecord): Promise<void> {
    if (r.state.status !== 'paused') return;
    await this.deps.runtime.resume(r.id).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_RUNNING' && e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    await this.store.update(r.id, undefined, (x) => ({ ...x, state: { ...x.state, status: x.state.status === 'paused' ? 'running' : x.state.status } }));
  }

  private async waitExitOfProcess(pid: number, monitorPid: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const a = procStat(pid);
      const m = procStat(monitorPid);
      if ((!a || a.state === 'Z') && (!m || m.state === 'Z')) return;
      await sleep(10);
    }
  }

  /** Everything of a container but its record: runtime state, rootfs, sockets; then the record. */
  private async teardown(r: ContainerRecord, opts: { volumes?: boolean } = {}): Promise<void> {
    const s = this.settings(r);
    await this.deps.runtime.delete(r.id, { force: true }).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    await this.deps.network?.detach(r.id);
    // Before the directory goes: a mount left in it would be emptied and then stop its removal.
    if (isShareable(s.hostConfig)) await this.deps.shm?.unmount(shmDir(s.bundle));
    if (s.rootfs) await this.deps.releaseRootfs(s.rootfs);
    if (s.files && path.dirname(s.files.attach) !== s.bundle) await fs.rm(path.dirname(s.files.attach), { recursive: true, force: true });
    await this.store.remove(r.id);
    this.event(r, 'destroy');
    // After the record is gone: a volume is free once no container's record names it.
    const anonymous = (s.mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
    if (opts.volumes && anonymous.length) await this.deps.releaseVolumes?.(anonymous);
  }

  /** Names of the volumes each container's record mounts (whatever its state). */
  async volumeUsers(): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>();
    for (const r of await this.store.list()) {
      for (const m of (this.settings(r).mounts ?? []).filter((x) => x.Type === 'volume' && x.Name)) users.set(m.Name!, [...(users.get(m.Name!) ?? []), r.id]);
    }
    return users;
  }

  /**
   * The monitor's on-exit command: the runtime's state and cgroups go at once; with --rm
   * the whole container goes. Idempotent: a container already removed is fine.
   */
  async cleanup(id: string): Promise<void> {
    const r = await this.store.find(id).catch((e: BrigError) => {
      if (e.code === 'CONTAINER_NOT_FOUND') return undefined;
      throw e;
    });
    if (!r) return;
    await this.deps.runtime.delete(r.id, { force: true }).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    if (this.settings(r).hostConfig.AutoRemove === true && !isRunningLike(r.state.status)) {
      await this.store.update(r.id, 'remove', (x) => ({ ...x, pending: { op: 'remove', owner: formatOwner(currentOwner()) } })).then(
        () => this.teardown(r, { volumes: true }), // docker's --rm takes the anonymous volumes too
        (e: BrigError) => {
          if (e.code !== 'CONTAINER_STATE') throw e; // being removed by someone else already
        },
      );
    }
  }

  /**
   * A resident engine's removal of a --rm container it saw die (Engine.removeAtExit): once
   * the record says it has exited and no start or removal is under way (the die event comes
   * a moment before the exit record, and a short process can die before its start returns),
   * as the monitor's clean-up would. One that never settles is left to its monitor's.
   */
  async removeExited(id: string): Promise<void> {
    const until = Date.now() + 2000;
    for (;;) {
      const r = await this.store.find(id).catch((e: BrigError) => {
        if (e.code === 'CONTAINER_NOT_FOUND') return undefined;
        throw e;
      });
      if (!r || this.settings(r).hostConfig.AutoRemove !== true) return;
      if (r.state.status === 'exited' && !r.pending) break;
      if (r.pending?.op === 'remove' || Date.now() > until) return;
      await sleep(5);
    }
    await this.cleanup(id).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e; // its monitor's clean-up was first
    });
  }

  /** Log lines in order, from the rotated files to the current one; with follow, until the container exits. */
  async *logs(ref: string, opts: { follow?: boolean; tail?: number; since?: number; until?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const r = await this.find(ref);
    const s = this.settings(r);
    if (s.log.driver === 'none' || !s.files.log) {
      throw new BrigError('LOG_READ_UNSUPPORTED', 'configured logging driver does not support reading', { hint: 'the container was created with --log-driver none' });
    }
    const source = { format: s.log.driver === 'local' ? local : jsonFile, path: s.files.log, maxFiles: s.log.maxFiles };
    yield* readLogs(source, { ...opts, running: async () => isRunningLike((await this.store.find(r.id)).state.status) });
  }

  /** docker's GET /containers/json: its filters, limit and sizes (filters.ts); newest first. */
  async list(opts: ListOptions = {}): Promise<ContainerSummary[]> {
    return (await this.listRecords(opts)).map((x) => x.summary);
  }

  /** list, each summary with the record it was made from (and the listing's memo of it). */
  async listRecords(opts: ListOptions = {}): Promise<{ summary: ContainerSummary; memo: Map<string, unknown> | undefined }[]> {
    const now = this.now();
    const records = await this.records();
    // What the filters look at is the record's (and its network state's): a kept snapshot's
    // is made once, not for every listing.
    const views: (FilterableContainer & { record: ContainerRecord })[] = [];
    for (const r of records) {
      const memo = this.store.listingMemo(r);
      let v = memo?.get('view') as (FilterableContainer & { record: ContainerRecord }) | undefined;
      if (!v) {
        v = { ...this.filterable(r), ...(await this.networkFacts(r)), record: r };
        memo?.set('view', v);
      }
      views.push(v);
    }
    this.deps.network?.listed?.(records.map((r) => r.id));
    const plan = planList(opts.filters, views);
    const ancestorImages = plan.filters.contains('ancestor') ? ((await this.deps.imageFamily?.(plan.ancestors)) ?? new Set<string>()) : undefined;
    const picked = selectContainers(views, plan, { all: opts.all === true, limit: opts.limit ?? -1, ...(ancestorImages ? { ancestorImages } : {}) });
    const listed = picked.map(({ record }) => {
      const memo = this.store.listingMemo(record);
      const summary = memo ? keptSummary(memo, record, () => this.settings(record), now) : containerSummary(record, this.settings(record), now);
      return { summary, memo, record };
    });
    if (!opts.size) return listed.map(({ summary, memo }) => ({ summary, memo }));
    return Promise.all(
      listed.map(async ({ summary, memo, record }) => {
        const size = await this.sizes(record);
        return { summary: { ...summary, SizeRw: size.rw, SizeRootFs: size.rootFs }, memo };
      }),
    );
  }

  /** Every container, without records a create is still writing. */
  private async records(): Promise<ContainerRecord[]> {
    return (await this.store.list()).filter((r) => !ContainerService.incomplete(r));
  }

  /** What docker's filters look at in a record. */
  private filterable(r: ContainerRecord): FilterableContainer {
    return {
      id: r.id,
      name: r.name,
      created: r.created,
      state: r.state.status,
      running: isRunningLike(r.state.status),
      exitCode: r.state.exitCode,
      startedAt: r.state.startedAt,
      labels: r.labels,
      imageId: r.imageId,
      // Without networks (an engine without them), every container is in docker's "none".
      networks: [{ name: 'none', id: '' }],
      health: r.state.health?.Status ?? 'none',
      mounts: (this.settings(r).mounts ?? []).map((m) => ({ name: m.Name ?? '', source: m.Source, destination: m.Destination })),
      ports: [],
    };
  }

  /** The networks and ports the network, publish and expose filters look at, where the engine keeps them. */
  private async networkFacts(r: ContainerRecord): Promise<Pick<FilterableContainer, 'networks' | 'ports'> | undefined> {
    const net = await this.deps.network?.listView?.(r.id, isRunningLike(r.state.status), this.store.listingMemo(r));
    if (!net) return undefined;
    return { networks: net.networks, ports: net.ports.map((p) => ({ privatePort: p.PrivatePort, ...(p.PublicPort !== undefined ? { publicPort: p.PublicPort } : {}), type: p.Type })) };
  }

  /** SizeRw and SizeRootFs: 0 for the built-in host image (read-only, shared) or a snapshot gone meanwhile. */
  private async sizes(r: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
    const rootfs = this.settings(r).rootfs;
    if (!rootfs || !this.deps.layerSize) return { rw: 0, rootFs: 0 };
    return this.deps.layerSize(rootfs).catch((e: BrigError) => {
      if (e.code === 'SNAPSHOT_NOT_FOUND') return { rw: 0, rootFs: 0 };
      throw e;
    });
  }

  /**
   * docker's container prune: every stopped container (created, exited, dead) the filters
   * allow (until, label, label!), removed as rm removes it; SpaceReclaimed adds up their
   * SizeRw. One removed, started or being removed by someone else meanwhile is skipped.
   */
  async prune(opts: { filters?: FilterMap } = {}): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const plan = planPrune(opts.filters, this.now().getTime());
    const report = { ContainersDeleted: [] as string[], SpaceReclaimed: 0 };
    for (const r of await this.records()) {
      if (!prunable(this.filterable(r), plan)) continue;
      const { rw } = await this.sizes(r);
      try {
        await this.remove(r.id);
      } catch (e) {
        const code = (e as BrigError).code;
        if (code === 'CONTAINER_NOT_FOUND' || code === 'CONTAINER_STATE') continue;
        throw e;
      }
      report.SpaceReclaimed += Math.max(0, rw);
      report.ContainersDeleted.push(r.id);
    }
    return report;
  }

  /**
   * docker top: the host's ps over the container's processes (its cgroup's pids, read by
   * the runtime's cgroup manager on v1 and v2 alike). Running or paused containers only.
   */
  async top(ref: string, psArgs = ''): Promise<ContainerTopResponse> {
    const args = psArgs === '' ? '-ef' : psArgs;
    validatePsArgs(args);
    const r = await this.find(ref);
    const notRunning = () => new BrigError('CONTAINER_NOT_RUNNING', `container ${r.id} is not running`);
    if (r.state.status === 'restarting') throw new BrigError('CONTAINER_STATE', `Container ${r.id} is restarting, wait until the container is running`);
    if (r.state.status !== 'running' && r.state.status !== 'paused') throw notRunning();
    // It may have exited since: then the runtime has no state (or no cgroup) for it.
    const pids = await this.deps.runtime.pids(r.id).catch((e: BrigError) => {
      throw e.code === 'CONTAINER_NOT_FOUND' ? notRunning() : e;
    });
    return topProcesses(pids, args, this.deps.ps ?? hostPs);
  }

  /** GET /containers/{id}/json; with `size`, SizeRw and SizeRootFs as ps -s counts them. */
  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerJSON> {
    const r = await this.find(ref);
    const json = containerJSON(r, this.settings(r));
    if (!opts.size) return json;
    const { rw, rootFs } = await this.sizes(r);
    return { ...json, SizeRw: rw, SizeRootFs: rootFs };
  }
}

/**
 * An exec'd process's capabilities: the container's (docker's rule for a non-root -u applied),
 * or with --privileged every capability brig holds, as docker exec --privileged gives.
 */
function capabilitiesFor(p: Process, uid: number | undefined, all: string[] | undefined): { capabilities?: Capabilities } {
  const effectiveUid = uid ?? p.user.uid;
  if (all) return { capabilities: capabilitiesForUser({ bounding: all, effective: all, permitted: all }, effectiveUid) };
  if (uid !== undefined && p.capabilities) return { capabilities: capabilitiesForUser(p.capabilities, uid) };
  return {};
}

/** A record as its events name it. */
function actorOf(r: ContainerRecord): ContainerActor {
  return { id: r.id, name: r.name, image: r.image, labels: r.labels };
}

function signalQuietly(pid: number, sig: number): void {
  try {
    if (pid > 0) process.kill(pid, sig);
  } catch (e) {
    if (!hasErrno(e, 'ESRCH')) throw e;
  }
}

/** The pid the starter wrote (runc's --pid-file), or undefined. */
function readPidFile(file: string): number | undefined {
  try {
    const n = Number(readTextSync(file).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

function readExit(file: string): ExitRecord | undefined {
  return readJson<ExitRecord>(file);
}

/** A JSON file the monitor writes (by rename: whole or absent), or undefined. */
function readJson<T>(file: string): T | undefined {
  // Absent is the common case (a running container has no exit record): asked first, since
  // a failed open costs a thrown error, and ps asks for every container.
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readTextSync(file)) as T;
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    if (e instanceof SyntaxError) return undefined; // written by rename: never half a file, but be safe
    throw e;
  }
}

/** The runtime's last error in its JSON log: message and stable code. */
function lastError(file: string): { msg: string; code?: string } | undefined {
  let text: string;
  try {
    text = readTextSync(file);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  for (const line of text.trim().split('\n').reverse()) {
    try {
      const r = JSON.parse(line) as { level?: string; msg?: string; code?: string };
      if (r.level === 'error' && typeof r.msg === 'string') return { msg: r.msg, ...(r.code ? { code: r.code } : {}) };
    } catch {}
  }
  return undefined;
}

/**
 * A kept snapshot's summary: the same (frozen) object while its Status reads the same, so
 * that `brig serve` encodes it once (util/frozen-json.ts). Everything else in it comes from
 * the snapshot's record, which is new whenever the container's directory changes.
 */
function keptSummary(memo: Map<string, unknown>, r: ContainerRecord, settings: () => ContainerSettings, now: Date): ContainerSummary {
  const status = summaryStatus(r, now);
  const kept = memo.get('summary') as ContainerSummary | undefined;
  if (kept?.Status === status) return kept;
  let made: ContainerSummary;
  if (kept) made = frozenWith(kept, 'Status', status);
  else {
    // Status last, so that a new one re-encodes only itself (frozenWith).
    const { Status, ...rest } = containerSummary(r, settings(), now, status);
    made = frozen({ ...rest, Status });
  }
  memo.set('summary', made);
  return made;
}
