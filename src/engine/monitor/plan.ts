/**
 * The MonitorPlan: what a container's monitor (native/monitor) does for the container's
 * whole life, compiled here at create time so the monitor decides nothing. It is pure data
 * and pure code: paths are chosen, log options parsed and checked, the starter's command
 * line and the on-exit command resolved before anything runs.
 *
 * Adding an op: add it to MONITOR_OPS (the code is the wire number; never reuse one) and the
 * same code to native/monitor/monitor.h, and handle it in native/monitor/main.c.
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import { encodeOps, type WireTable } from '../../native/encode.js';
import type { LogConfig } from '../logs/config.js';
import { encodeJsonAttrs } from '../logs/json-file.js';
import { encodeLocalAttrs } from '../logs/local.js';

export type { LogConfig };

export const MONITOR_MAGIC = 'BRIGMONP';
export const MONITOR_VERSION = 2;

export const MONITOR_OPS = {
  /**
   * The json-file log: path, rotate at max_size bytes (0: never), keep max_files files, gzip
   * the rotated ones (compress=1), and the `"attrs":{...},` member every record carries ('' for none).
   */
  log_json: { code: 1, args: { path: 'str', max_size: 'int', max_files: 'int', compress: 'int', attrs: 'str' } },
  /** Where the exit record goes (JSON, written atomically once init is gone). */
  exit_file: { code: 2, args: { path: 'str' } },
  /** The attach socket; framed=1 wraps output in docker's 8-byte stream headers (no tty). */
  attach: { code: 3, args: { path: 'str', framed: 'int' } },
  /** Where the starter leaves the container init's host pid. */
  pid_file: { code: 4, args: { path: 'str' } },
  /** A cgroup file with a "key N" line counting OOM kills (v1 memory.oom_control, v2 memory.events). */
  oom_counter: { code: 5, args: { path: 'str', key: 'str' } },
  /** Run once the exit record is written, and waited for (e.g. the runtime's delete). */
  on_exit: { code: 6, args: { argv: 'strs', env: 'strs' } },
  /** With a terminal: listen here; the runtime sends the pty master (its --console-socket). */
  console: { code: 7, args: { path: 'str' } },
  /** Start the container: argv[0] absolute; stdin=1 gives it a pipe the attach socket feeds. */
  start: { code: 8, args: { argv: 'strs', env: 'strs', stdin: 'int' } },
  /** Start only once a first client is on the attach socket (it misses no output); "listening" on fd 3 says when to connect. */
  hold: { code: 9, args: {} },
  /** The local driver's log: as log_json, attrs as LogEntry field 6 records (protobuf). */
  log_local: { code: 10, args: { path: 'str', max_size: 'int', max_files: 'int', compress: 'int', attrs: 'bytes' } },
  /**
   * When `on` happens ("start", "die", "oom"), append `line` to the event log at `path`, its places
   * (byte 0x01 and a key) filled in: see monitorTemplate in src/engine/events/message.ts.
   */
  event: { code: 11, args: { path: 'str', on: 'str', line: 'str' } },
  /**
   * Run the container again when it exits, by docker's rules: policy (RESTART_POLICIES), the
   * most retries for on-failure (0: no limit), and the file whose presence says the user
   * stopped or killed it (then it is never restarted).
   */
  restart: { code: 12, args: { policy: 'int', max: 'int', stop_marker: 'str' } },
  /**
   * Health probes: the native helper and the exec plan it runs (namespaces relative to
   * /proc/<init pid>), the timings in ms, the retries, and where the state goes (docker's
   * State.Health as JSON).
   */
  health: {
    code: 13,
    args: { helper: 'str', plan: 'bytes', interval: 'int', timeout: 'int', start_period: 'int', start_interval: 'int', retries: 'int', file: 'str' },
  },
  /** run.json: the current run's init pid and start, the restart count, and whether it is restarting. */
  run_state: { code: 14, args: { path: 'str' } },
  /** Run once after on_exit when the container ends for good (no restart follows): the network's teardown. */
  final_exit: { code: 15, args: { argv: 'strs', env: 'strs' } },
  /**
   * At the container's end for good: wait up to `ms` for `path` (its record) to be gone, and
   * if it is, run neither on_exit nor final_exit: a resident engine removed the container.
   */
  exit_grace: { code: 16, args: { path: 'str', ms: 'int' } },
  /**
   * The first run has no starter: fork the native helper's stage 0 (its control channel on
   * the monitor's fd `fd`, a socket the engine holds the other end of), say "stage0 PID" on
   * fd 3 and wait there for the engine, which drives it, to say "started" or "failed".
   * Restarts use the start op's starter.
   */
  stage0: { code: 17, args: { helper: 'str', fd: 'int' } },
} as const satisfies WireTable;

/** The monitor's fd for stage 0's control socket (after stdin, two ignored, the report channel). */
export const STAGE0_FD = 4;

/** What the monitor sees happen: a run's start and end, an OOM kill, a health status change. */
export type MonitorEventName = 'start' | 'die' | 'oom' | `health_status: ${'starting' | 'healthy' | 'unhealthy'}`;

/** Wire numbers of docker's restart policies (native/monitor/monitor.h RESTART_*). */
export const RESTART_POLICIES = { no: 0, 'on-failure': 1, always: 2, 'unless-stopped': 3 } as const;
export type RestartPolicyName = keyof typeof RESTART_POLICIES;

type Table = typeof MONITOR_OPS;
type ArgValue<K> = K extends 'int' ? number | bigint : K extends 'strs' ? string[] : K extends 'bytes' ? Uint8Array : string;
export type MonitorOp = {
  [N in keyof Table]: { op: N } & { -readonly [A in keyof Table[N]['args']]: ArgValue<Table[N]['args'][A]> };
}[keyof Table];

export interface MonitorPlan {
  version: number;
  ops: MonitorOp[];
  /** The files the plan names, for the engine to read (never sent). */
  files: MonitorFiles;
}

export interface MonitorFiles {
  log?: string;
  exit: string;
  pid: string;
  attach: string;
  console?: string;
  /** The current run (restarts change init's pid): see the run_state op. */
  run: string;
  /** Health state in docker's shape, while a health check is configured. */
  health: string;
  /** Left by the engine before a user's stop or kill: no restart after it. */
  stopped: string;
}

export interface MonitorSpec {
  /** The container's own directory: log, exit record, pid file. */
  dir: string;
  /** Where its sockets go: a short directory, since a socket path holds at most 107 bytes. */
  socketDir: string;
  log: LogConfig;
  tty: boolean;
  /** Keep stdin open for attach (docker's -i). */
  stdin: boolean;
  /** The command that starts the container and leaves init's pid in files.pid (it gets the files chosen here). */
  starter: (files: MonitorFiles) => { argv: string[]; env: string[] };
  /** The first run's stage 0 is this helper, driven by the engine (see the stage0 op); the starter then serves restarts. */
  stage0?: { helper: string };
  oomCounter?: { path: string; key: string };
  /** Wait for a first attach client before starting (docker's attach-then-start, without a daemon). */
  hold?: boolean;
  onExit?: { argv: string[]; env: string[] };
  /** Run after onExit, only when no restart follows (the network's teardown, without Node). */
  finalExit?: { argv: string[]; env: string[] };
  /** brig serve removes a --rm container itself at its exit: onExit and finalExit wait for it (exit_grace). */
  exitGrace?: { path: string; ms: number };
  restart?: { policy: RestartPolicyName; max: number };
  health?: { helper: string; plan: Uint8Array; intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number };
  /** Events the monitor appends to the event log: start, die (exitCode `x`, execDuration `d`), oom. */
  events?: { path: string; on: MonitorEventName; line: string }[];
}

const SUN_PATH_MAX = 107;

/** The files a container's monitor uses, named from its directories (checked: sockets fit). */
export function monitorFiles(spec: Pick<MonitorSpec, 'dir' | 'socketDir' | 'log' | 'tty'>): MonitorFiles {
  const files: MonitorFiles = {
    exit: path.join(spec.dir, 'exit.json'),
    pid: path.join(spec.dir, 'init.pid'),
    attach: path.join(spec.socketDir, 'attach.sock'),
    run: path.join(spec.dir, 'run.json'),
    health: path.join(spec.dir, 'health.json'),
    stopped: path.join(spec.dir, 'stopped'),
    ...(spec.log.driver === 'json-file' ? { log: path.join(spec.dir, 'json.log') } : {}),
    // docker's place for it (and, as docker, not shown as inspect's LogPath).
    ...(spec.log.driver === 'local' ? { log: path.join(spec.dir, 'local-logs', 'container.log') } : {}),
    ...(spec.tty ? { console: path.join(spec.socketDir, 'console.sock') } : {}),
  };
  for (const s of [files.attach, files.console]) {
    if (s !== undefined && Buffer.byteLength(s) > SUN_PATH_MAX) {
      throw new BrigError('INVALID_CONFIG', `socket path ${s} is longer than the ${SUN_PATH_MAX} bytes a unix socket takes`, {
        path: s,
        hint: 'use a shorter run directory',
      });
    }
  }
  return files;
}

export function compileMonitorPlan(spec: MonitorSpec): MonitorPlan {
  const files = monitorFiles(spec);
  const start = spec.starter(files);
  if (!path.isAbsolute(start.argv[0] ?? '')) {
    throw new BrigError('INTERNAL', `the monitor's starter must be an absolute path: ${start.argv[0]}`);
  }
  const ops: MonitorOp[] = [];
  if (files.log) {
    const { maxSize: max_size, maxFiles: max_files } = spec.log;
    const compress = spec.log.compress ? 1 : 0;
    const attrs = spec.log.attrs ?? {};
    if (spec.log.driver === 'local') ops.push({ op: 'log_local', path: files.log, max_size, max_files, compress, attrs: encodeLocalAttrs(attrs) });
    else ops.push({ op: 'log_json', path: files.log, max_size, max_files, compress, attrs: encodeJsonAttrs(attrs) });
  }
  ops.push({ op: 'exit_file', path: files.exit });
  ops.push({ op: 'pid_file', path: files.pid });
  ops.push({ op: 'attach', path: files.attach, framed: spec.tty ? 0 : 1 });
  if (files.console) ops.push({ op: 'console', path: files.console });
  if (spec.oomCounter) ops.push({ op: 'oom_counter', path: spec.oomCounter.path, key: spec.oomCounter.key });
  for (const e of spec.events ?? []) ops.push({ op: 'event', path: e.path, on: e.on, line: e.line });
  if (spec.onExit) ops.push({ op: 'on_exit', argv: spec.onExit.argv, env: spec.onExit.env });
  if (spec.finalExit) ops.push({ op: 'final_exit', argv: spec.finalExit.argv, env: spec.finalExit.env });
  if (spec.exitGrace) ops.push({ op: 'exit_grace', path: spec.exitGrace.path, ms: spec.exitGrace.ms });
  if (spec.hold) ops.push({ op: 'hold' });
  ops.push({ op: 'run_state', path: files.run });
  if (spec.restart && spec.restart.policy !== 'no') {
    ops.push({ op: 'restart', policy: RESTART_POLICIES[spec.restart.policy], max: spec.restart.max, stop_marker: files.stopped });
  }
  if (spec.health) {
    const h = spec.health;
    ops.push({
      op: 'health',
      helper: h.helper,
      plan: h.plan,
      interval: h.intervalMs,
      timeout: h.timeoutMs,
      start_period: h.startPeriodMs,
      start_interval: h.startIntervalMs,
      retries: h.retries,
      file: files.health,
    });
  }
  if (spec.stage0) ops.push({ op: 'stage0', helper: spec.stage0.helper, fd: STAGE0_FD });
  ops.push({ op: 'start', argv: start.argv, env: start.env, stdin: spec.stdin && !spec.tty ? 1 : 0 });
  return { version: MONITOR_VERSION, ops, files };
}

export function encodeMonitorPlan(plan: MonitorPlan): Uint8Array {
  return encodeOps(MONITOR_MAGIC, plan.version, plan.ops, MONITOR_OPS);
}
