/**
 * Starting a container's monitor and reading what it leaves. The engine compiles the plan
 * (plan.ts), writes it to the monitor's stdin and waits on fd 3 for one line: "started PID"
 * once the starter has created the container, or "failed CODE". (With the stage0 op the
 * monitor first says "stage0 PID", this process drives that stage 0 and answers "started" or
 * "failed"; "stage0-exit N" may come meanwhile.) After that the monitor is on
 * its own: it outlives this process, holds the container's stdio and writes the log, and when
 * init exits it writes the exit record and runs the plan's on-exit command.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { locateNative } from '../../native/locate.js';
import type { Socket } from 'node:net';
import { MonitorStage0 } from '../../native/stage0-monitor.js';
import type { Stage0 } from '../../native/stage0.js';
import { encodeMonitorPlan, STAGE0_FD, type MonitorPlan } from './plan.js';
import { readTextSync } from '../../util/read-text.js';

export interface MonitorStarted {
  /** The monitor's pid (the container's init is its child). */
  monitorPid: number;
  /** The container's init, as the starter recorded it. */
  pid: number;
}

/** What the monitor records when init is gone. */
export interface ExitRecord {
  pid: number;
  /** The exit status, or -1 when a signal ended init. */
  exitStatus: number;
  signal: number;
  /** OOM kills the container's memory cgroup counted. */
  oomKills: number;
  finishedAt: string;
  /** Restarts the monitor made before this last exit. */
  restartCount?: number;
}

/** run.json: the monitor's current run, or (restarting) the run that just ended. */
export interface RunRecord {
  pid: number;
  startedAt?: string;
  restartCount: number;
  restarting: boolean;
  lastExit?: ExitRecord;
}

export function monitorBinary(): string {
  return locateNative('brig-monitor', import.meta.url);
}

/**
 * With a plan that holds (its `hold` op), `onListening` runs once the attach socket listens
 * and must connect to it: the container starts only then. If it fails, the monitor is killed
 * before anything ran and its error is thrown.
 *
 * With a plan whose first run is driven here (its `stage0` op), `drive` gets the stage 0 the
 * monitor forks (a promise: it is called at once) and must carry the run out (the runtime in
 * this process, detached, leaving init's pid in the plan's pid file); its error is the start's.
 */
export async function startMonitor(
  plan: MonitorPlan,
  opts: { binary?: string; signal?: AbortSignal; onListening?: () => Promise<void>; drive?: (stage0: Promise<Stage0>) => Promise<void> } = {},
): Promise<MonitorStarted> {
  // The local driver's log has a directory of its own (docker's local-logs, 0700).
  if (plan.files.log) mkdirSync(path.dirname(plan.files.log), { recursive: true, mode: 0o700 });
  const driven = plan.ops.some((o) => o.op === 'stage0');
  if (driven !== (opts.drive !== undefined)) throw new BrigError('INTERNAL', 'a monitor plan with a stage0 op needs a driver, and only it');
  // fd 3: the report channel, a socket both ways (libuv makes stdio pipes socketpairs);
  // fd 4 (STAGE0_FD): stage 0's control channel, which the monitor hands to the helper.
  const child = spawn(opts.binary ?? monitorBinary(), [], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', 'pipe', ...(driven ? (['pipe'] as const) : [])],
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const report = child.stdio[3] as Socket;
  const ctl = driven ? (child.stdio[STAGE0_FD] as Socket) : undefined;
  report.on('error', () => {}); // a write after the monitor has gone: its end reads as closed
  let text = '';
  let listening: Promise<void> | undefined;
  let stage0: MonitorStage0 | undefined;
  let forked!: (s: MonitorStage0) => void;
  let notForked!: (e: Error) => void;
  const stage0Ready = new Promise<MonitorStage0>((resolve, reject) => {
    forked = resolve;
    notForked = reject;
  });
  stage0Ready.catch(() => {});
  // The driver starts at once: what it can do before stage 0 exists (config, cgroups, the
  // plan's compile) overlaps the monitor's start.
  let driveError: unknown;
  const driving = opts.drive?.(stage0Ready).then(
    () => void report.write('started\n'),
    (e: unknown) => {
      driveError = e;
      report.write('failed\n');
    },
  );
  let outcome: string | undefined;
  const lines = (line: string) => {
    if (line === 'listening' && !listening) {
      listening = (opts.onListening ?? (async () => {}))().catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
      listening.catch(() => {});
      return;
    }
    const [word, arg] = line.split(' ');
    const n = Number(arg);
    if (word === 'stage0' && ctl && !stage0 && Number.isInteger(n) && n > 0) {
      // Forked only once an attach-then-start's client is on: the container cannot run before.
      forked((stage0 = new MonitorStage0(n, ctl)));
    } else if (word === 'stage0-exit' && Number.isInteger(n)) {
      stage0?.reportExit(n);
    } else if (word === 'started' || word === 'failed') {
      outcome ??= line;
    }
  };
  report.setEncoding('utf8');
  report.on('data', (d: string) => {
    text += d;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      lines(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) =>
      reject(
        hasErrno(e, 'ENOENT')
          ? new BrigError('HELPER_MISSING', `the container monitor is not built: ${opts.binary ?? monitorBinary()}`, { hint: 'npm run build' })
          : e,
      ),
    );
  });
  child.stdin!.end(encodeMonitorPlan(plan));
  try {
    await spawned;
  } catch (e) {
    // No monitor (not built, not executable): the driver, begun at once, undoes its part first.
    notForked(e as Error);
    await driving;
    ctl?.destroy();
    report.destroy();
    throw e;
  }
  await new Promise<void>((resolve) => {
    report.once('end', resolve);
    report.once('close', resolve);
  });
  stage0?.reportExit(255); // gone without saying
  notForked(new BrigError('HELPER_PROTOCOL', 'the container monitor exited before it forked stage 0', { hint: 'a bad monitor plan, or the monitor was killed' }));
  await driving;
  ctl?.destroy();
  report.destroy();
  child.unref();
  if (listening) await listening;
  if (driveError !== undefined) throw driveError;
  const started = /^started (\d+)$/.exec(outcome ?? '');
  if (started) return { monitorPid: child.pid!, pid: Number(started[1]) };
  const failed = /^failed (\d+)$/.exec(outcome ?? '');
  if (failed) {
    throw new BrigError('SYSTEM', `the container did not start: its runtime exited with status ${failed[1]}`, {
      hint: 'see the runtime log',
    });
  }
  throw new BrigError('HELPER_PROTOCOL', 'the container monitor exited without reporting a start', {
    hint: 'a bad monitor plan, or the monitor was killed',
  });
}

/** The exit record, or undefined while the container runs (or if its monitor was killed before writing one). */
export function readExitRecord(plan: Pick<MonitorPlan, 'files'>): ExitRecord | undefined {
  try {
    return JSON.parse(readTextSync(plan.files.exit)) as ExitRecord;
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw new BrigError('STATE_CORRUPT', `exit record ${plan.files.exit} is unreadable: ${(e as Error).message}`, { path: plan.files.exit, cause: e });
  }
}

/** Docker's ExitCode from an exit record: the status, or 128 + the signal. */
export function exitCode(r: ExitRecord): number {
  return r.signal ? 128 + r.signal : r.exitStatus;
}
