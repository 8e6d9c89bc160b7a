/**
 * Engine containers that outlive the CLI: each is a record in the ContainerStore, an OCI
 * bundle in its directory, and, while it runs, a brig-monitor that holds its stdio, writes
 * its log and records its exit. This class is the engine's side of create, start, stop,
 * kill, wait, remove, logs, list and inspect; the CLI and (later) the API render what it
 * returns. It owns no process: every answer is read from the store, reconciled with what the
 * monitor left (`exit.json`) and with /proc.
 */
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrigError, hasErrno } from '../../errors/index.js';
import { mergeEnv, resolveUser } from '../../image/runtime-config.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Spec } from '../../runtime/spec/types.js';
import { ownerAlive } from '../../util/owner.js';
import { procStat } from '../../util/proc-stat.js';
import { capabilitiesForUser } from '../user-capabilities.js';
import { parseSignal } from '../../util/signals.js';
import { exitCode, type ExitRecord, startMonitor } from '../monitor/monitor.js';
import { compileMonitorPlan, type LogConfig, type MonitorFiles, monitorFiles } from '../monitor/plan.js';
import { jsonFile } from '../logs/json-file.js';
import type { LogLine } from '../logs/line.js';
import { local } from '../logs/local.js';
import { readLogs } from '../logs/reader.js';
import { humanStatus, isRunningLike } from './state.js';
import { type ContainerRecord, ContainerStore } from './store.js';

/** What the engine keeps in a record's `spec` (opaque to the store). */
export interface ContainerSettings {
  /** The container's OCI bundle: config.json here, rootfs where config.json says. */
  bundle: string;
  cmd: string[];
  log: LogConfig;
  tty: boolean;
  openStdin: boolean;
  autoRemove: boolean;
  stopSignal: string;
  stopTimeout: number;
  /** Unmounted and removed with the container (an image snapshot); absent for the host image. */
  rootfs?: { path: string; snapshot: string };
  files: MonitorFiles;
  env: string[];
  workdir: string;
  hostname: string;
  /** -u as given (commit keeps it as the image's User). */
  user?: string;
}

export interface CreateRequest {
  image: string;
  imageId: string;
  name?: string;
  labels?: Record<string, string>;
  settings: Omit<ContainerSettings, 'bundle' | 'files'>;
}

export interface ExecRequest {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  detach: boolean;
  stdio: (number | 'ignore')[];
}

export interface ContainerServiceDeps {
  root: string;
  runtime: Runtime;
  /** brig-runtime's launcher and its state root: the monitor's starter. */
  runtimeBin: string;
  runtimeRoot: string;
  /** The on-exit command: `brig container cleanup ID` with this environment. */
  cleanupCommand: (id: string) => { argv: string[]; env: string[] };
  /** Unmounts a rootfs and removes its snapshot (the image side of removal). */
  releaseRootfs: (rootfs: NonNullable<ContainerSettings['rootfs']>) => Promise<void>;
  /** Where the container's memory cgroup counts OOM kills, if the host has one. */
  oomCounter?: (id: string) => { path: string; key: string } | undefined;
  now?: () => Date;
}

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

  /**
   * A record says "running" only while its monitor has not written an exit record and init
   * is alive: the truth is what the monitor and /proc say, corrected on every read.
   */
  private reconcile(r: ContainerRecord): ContainerRecord {
    if (!isRunningLike(r.state.status)) return r;
    const s = this.settings(r);
    const exit = readExit(s.files.exit);
    if (exit) {
      return {
        ...r,
        state: { ...r.state, status: 'exited', pid: 0, exitCode: exitCode(exit), oomKilled: exit.oomKills > 0, finishedAt: exit.finishedAt },
      };
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

  /** Claims the name and writes the record; `prepare` makes the bundle in the container's directory. */
  async create(req: CreateRequest, prepare: (id: string, dir: string) => Promise<{ spec: Spec; rootfs?: ContainerSettings['rootfs'] }>): Promise<ContainerRecord> {
    const record = await this.store.create({
      ...(req.name !== undefined ? { name: req.name } : {}),
      image: req.image,
      imageId: req.imageId,
      state: { status: 'created', pid: 0, monitorPid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' },
      restartCount: 0,
      spec: {},
      labels: req.labels ?? {},
    });
    const dir = this.store.containerDir(record.id);
    try {
      const { spec, rootfs } = await prepare(record.id, dir);
      await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(spec));
      const files = monitorFiles({ dir, socketDir: this.socketDir(record.id, dir), log: req.settings.log, tty: req.settings.tty });
      const settings: ContainerSettings = { ...req.settings, bundle: dir, files, ...(rootfs ? { rootfs } : {}) };
      return await this.store.update(record.id, undefined, (r) => ({ ...r, spec: settings as unknown as Record<string, unknown> }));
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
    const found = await this.store.find(ref);
    if (found.state.status === 'running') return found; // docker: starting a running container is a no-op
    const s = this.settings(found);
    const id = found.id;
    // The state machine first (a removing or dead container cannot start), then the monitor.
    await this.store.update(id, 'start', (r) => r);
    const dir = s.bundle;
    await Promise.all([s.files.exit, s.files.pid].map((f) => fs.rm(f, { force: true })));
    const socketDir = path.dirname(s.files.attach);
    await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
    // JSON lines, so a failed start is read back by its error code, not its wording.
    const rt = [this.deps.runtimeBin, '--root', this.deps.runtimeRoot, '--log', path.join(dir, 'runtime.log'), '--log-format', 'json'];
    // A container started before keeps nothing of its old runtime state.
    await this.deps.runtime.delete(id, { force: true }).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    const oom = this.deps.oomCounter?.(id);
    const cleanup = this.deps.cleanupCommand(id);
    const plan = compileMonitorPlan({
      dir,
      socketDir,
      log: s.log,
      tty: s.tty,
      stdin: s.openStdin,
      starter: (f) => ({
        argv: [...rt, 'run', '-d', '--bundle', dir, '--pid-file', f.pid, ...(f.console ? ['--console-socket', f.console] : []), id],
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      }),
      ...(oom ? { oomCounter: oom } : {}),
      onExit: cleanup,
      hold: opts.attach !== undefined,
    });
    const attach = opts.attach;
    try {
      const started = await startMonitor(plan, attach ? { onListening: () => attach(plan.files.attach) } : {});
      return await this.store.update(id, undefined, (r) => ({
        ...r,
        state: { ...r.state, status: 'running', pid: started.pid, monitorPid: started.monitorPid, pidStart: procStat(started.pid)?.start ?? '', monitorStart: procStat(started.monitorPid)?.start ?? '', exitCode: 0, oomKilled: false, error: '', startedAt: this.now().toISOString(), finishedAt: '' },
      }));
    } catch (e) {
      const failure = lastError(path.join(dir, 'runtime.log'));
      const why = failure?.msg ?? (e as Error).message;
      // docker's codes for a program that cannot be run: 127 not found, 126 otherwise.
      const notFound = failure?.code === 'EXEC_NOT_FOUND';
      await this.store.update(id, undefined, (r) => ({
        ...r,
        state: { ...r.state, status: r.state.startedAt ? 'exited' : 'created', pid: 0, monitorPid: 0, error: why, exitCode: notFound ? 127 : 126 },
      }));
      throw new BrigError(notFound ? 'EXEC_NOT_FOUND' : 'SYSTEM', `failed to start container ${found.name}: ${why}`, { cause: e });
    }
  }

  /** Signals init (docker's kill): the container must be running. */
  async kill(ref: string, signal = 'SIGKILL'): Promise<ContainerRecord> {
    const r = await this.store.find(ref);
    const sig = parseSignal(signal, '--signal');
    await this.store.update(r.id, 'kill');
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
    const r = await this.store.find(ref);
    if (!isRunningLike(r.state.status)) return r;
    const s = this.settings(r);
    const timeout = opts.timeout ?? s.stopTimeout;
    await this.store.update(r.id, 'stop');
    signalQuietly(r.state.pid, parseSignal(opts.signal ?? s.stopSignal, '--signal'));
    await this.thawIfPaused(r);
    if (timeout < 0 || (await this.waitExit(r.id, timeout * 1000)) === undefined) {
      signalQuietly(r.state.pid, 9);
      await this.waitExit(r.id, 30_000);
    }
    return this.store.find(r.id);
  }

  /** Waits for a running container to exit; its exit code (docker's wait). */
  async wait(ref: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const r = await this.store.find(ref);
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
    const r = await this.store.find(ref);
    await this.store.update(r.id, 'exec');
    const rootfs = this.rootfsOf(r);
    const user = req.user !== undefined ? await resolveUser(rootfs, req.user) : undefined;
    const started = await this.deps.runtime.exec(
      r.id,
      (p) => ({
        ...p,
        args: req.cmd,
        env: mergeEnv(p.env, req.env),
        cwd: req.workdir ?? p.cwd,
        terminal: req.tty,
        ...(user ? { user: { uid: user.uid, gid: user.gid, ...(user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}) } } : {}),
        ...(user && p.capabilities ? { capabilities: capabilitiesForUser(p.capabilities, user.uid) } : {}),
      }),
      { detach: req.detach, stdio: req.stdio },
    );
    return { pid: started.pid, exit: started.exit };
  }

  /** The container's root filesystem on the host (config.json's root.path). */
  rootfsOf(r: ContainerRecord): string {
    const spec = JSON.parse(readFileSync(path.join(this.settings(r).bundle, 'config.json'), 'utf8')) as Spec;
    return path.resolve(this.settings(r).bundle, spec.root!.path);
  }

  /** docker pause/unpause: the cgroup freezer, through the runtime. */
  async pause(ref: string): Promise<void> {
    const r = await this.store.find(ref);
    await this.store.update(r.id, 'pause');
    await this.deps.runtime.pause(r.id);
  }

  async unpause(ref: string): Promise<void> {
    const r = await this.store.find(ref);
    await this.store.update(r.id, 'unpause');
    await this.deps.runtime.resume(r.id);
  }

  /** docker restart: stop (signal, then SIGKILL after the timeout) and start again. */
  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<ContainerRecord> {
    // RestartCount counts restarts by a policy, not by the user (docker's rule).
    const r = await this.stop(ref, opts);
    return this.start(r.id);
  }

  async rename(ref: string, name: string): Promise<void> {
    const r = await this.store.find(ref);
    await this.store.rename(r.id, name);
  }

  /** docker's rm: a running container needs force (then it is killed first). */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<string> {
    const r = await this.store.find(ref);
    await this.store.update(r.id, opts.force ? 'remove-force' : 'remove');
    if (isRunningLike(r.state.status)) {
      signalQuietly(r.state.pid, 9);
      await this.thawIfPaused(r);
      await this.waitExitOfProcess(r.state.pid, r.state.monitorPid);
    }
    await this.teardown(r);
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
  private async teardown(r: ContainerRecord): Promise<void> {
    const s = this.settings(r);
    await this.deps.runtime.delete(r.id, { force: true }).catch((e: BrigError) => {
      if (e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
    if (s.rootfs) await this.deps.releaseRootfs(s.rootfs);
    if (s.files && path.dirname(s.files.attach) !== s.bundle) await fs.rm(path.dirname(s.files.attach), { recursive: true, force: true });
    await this.store.remove(r.id);
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
    if (this.settings(r).autoRemove && !isRunningLike(r.state.status)) {
      await this.store.update(r.id, 'remove').then(
        () => this.teardown(r),
        (e: BrigError) => {
          if (e.code !== 'CONTAINER_STATE') throw e; // being removed by someone else already
        },
      );
    }
  }

  /** Log lines in order, from the rotated files to the current one; with follow, until the container exits. */
  async *logs(ref: string, opts: { follow?: boolean; tail?: number; since?: number; until?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const r = await this.store.find(ref);
    const s = this.settings(r);
    if (s.log.driver === 'none' || !s.files.log) {
      throw new BrigError('LOG_READ_UNSUPPORTED', 'configured logging driver does not support reading', { hint: 'the container was created with --log-driver none' });
    }
    const source = { format: s.log.driver === 'local' ? local : jsonFile, path: s.files.log, maxFiles: s.log.maxFiles };
    yield* readLogs(source, { ...opts, running: async () => isRunningLike((await this.store.find(r.id)).state.status) });
  }

  async list(opts: { all?: boolean } = {}): Promise<ContainerSummary[]> {
    const now = this.now();
    const all = await this.store.list();
    return all
      .filter((r) => opts.all || isRunningLike(r.state.status))
      .sort((a, b) => b.created.localeCompare(a.created))
      .map((r) => summary(r, this.settings(r), now));
  }

  async inspect(ref: string): Promise<ContainerJSON> {
    const r = await this.store.find(ref);
    return inspectJSON(r, this.settings(r));
  }
}

function signalQuietly(pid: number, sig: number): void {
  try {
    if (pid > 0) process.kill(pid, sig);
  } catch (e) {
    if (!hasErrno(e, 'ESRCH')) throw e;
  }
}

function readExit(file: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ExitRecord;
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
    text = readFileSync(file, 'utf8');
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

/** GET /containers/json's shape. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: unknown[];
  Labels: Record<string, string>;
  Mounts: unknown[];
}

function summary(r: ContainerRecord, s: ContainerSettings, now: Date): ContainerSummary {
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.image,
    ImageID: r.imageId,
    Command: s.cmd.join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    State: r.state.status,
    Status: humanStatus({ status: r.state.status, exitCode: r.state.exitCode, startedAt: r.state.startedAt, finishedAt: r.state.finishedAt }, now),
    Ports: [],
    Labels: r.labels,
    Mounts: [],
  };
}

/** GET /containers/{id}/json's shape: the fields brig has so far. */
export interface ContainerJSON {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Image: string;
  Name: string;
  RestartCount: number;
  LogPath: string;
  Config: { Hostname: string; Env: string[]; Cmd: string[]; Image: string; WorkingDir: string; Labels: Record<string, string>; Tty: boolean; OpenStdin: boolean; StopSignal: string };
  HostConfig: { AutoRemove: boolean; LogConfig: { Type: string; Config: Record<string, string> } };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function inspectJSON(r: ContainerRecord, s: ContainerSettings): ContainerJSON {
  const st = r.state;
  return {
    Id: r.id,
    Created: r.created,
    Path: s.cmd[0] ?? '',
    Args: s.cmd.slice(1),
    State: {
      Status: st.status,
      Running: st.status === 'running' || st.status === 'paused',
      Paused: st.status === 'paused',
      Restarting: st.status === 'restarting',
      OOMKilled: st.oomKilled,
      Dead: st.status === 'dead',
      Pid: isRunningLike(st.status) ? st.pid : 0,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt || ZERO_TIME,
      FinishedAt: st.finishedAt || ZERO_TIME,
    },
    Image: r.imageId,
    Name: `/${r.name}`,
    RestartCount: r.restartCount,
    LogPath: s.files.log ?? '',
    Config: {
      Hostname: s.hostname,
      Env: s.env,
      Cmd: s.cmd,
      Image: r.image,
      WorkingDir: s.workdir,
      Labels: r.labels,
      Tty: s.tty,
      OpenStdin: s.openStdin,
      StopSignal: s.stopSignal,
    },
    HostConfig: {
      AutoRemove: s.autoRemove,
      LogConfig: {
        Type: s.log.driver,
        Config: {
          ...(s.log.maxSize ? { 'max-size': String(s.log.maxSize) } : {}),
          ...(s.log.maxFiles > 1 ? { 'max-file': String(s.log.maxFiles) } : {}),
        },
      },
    },
  };
}

