/**
 * Starting a container's monitor and reading what it leaves. The engine compiles the plan
 * (plan.ts), writes it to the monitor's stdin and waits on fd 3 for one line: "started PID"
 * once the starter has created the container, or "failed CODE". After that the monitor is on
 * its own: it outlives this process, holds the container's stdio and writes the log, and when
 * init exits it writes the exit record and runs the plan's on-exit command.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { locateNative } from '../../native/locate.js';
import { encodeMonitorPlan, type MonitorPlan } from './plan.js';
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
 */
export async function startMonitor(
  plan: MonitorPlan,
  opts: { binary?: string; signal?: AbortSignal; onListening?: () => Promise<void> } = {},
): Promise<MonitorStarted> {
  // The local driver's log has a directory of its own (docker's local-logs, 0700).
  if (plan.files.log) mkdirSync(path.dirname(plan.files.log), { recursive: true, mode: 0o700 });
  const child = spawn(opts.binary ?? monitorBinary(), [], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const report = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  let listening: Promise<void> | undefined;
  report.setEncoding('utf8');
  report.on('data', (d: string) => {
    text += d;
    if (!listening && text.startsWith('listening\n')) {
      text = text.slice('listening\n'.length);
      listening = (opts.onListening ?? (async () => {}))().catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
      listening.catch(() => {});
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
  await spawned;
  const line = await new Promise<string>((resolve) => {
    report.once('end', () => resolve(text));
    report.once('close', () => resolve(text));
  });
  child.unref();
  if (listening) await listening;
  const started = /^started (\d+)\n$/.exec(line);
  if (started) return { monitorPid: child.pid!, pid: Number(started[1]) };
  const failed = /^failed (\d+)\n$/.exec(line);
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
