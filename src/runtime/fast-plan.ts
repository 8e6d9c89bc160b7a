/**
 * Plans for `start` and `delete`, compiled at `create` and carried out by the launcher
 * (native/launch/fastpath.c) without starting Node, when nothing is left to decide.
 *
 * create + start + delete used to be three Node start-ups (~30 ms each). Yet everything
 * start and delete decide is known when create finishes: which FIFO releases init, what
 * state.json says afterwards, which cgroup directories go and in what order, which files
 * the state directory holds. So create writes it down, as a list of operations with every
 * argument resolved, in the container's state directory:
 *
 *   fast-start          start ID
 *   fast-delete         delete ID
 *   fast-delete-force   delete --force ID (or -f)
 *
 * The launcher takes one only for exactly those argv shapes after an explicit `--root DIR`
 * (plus `--log`/`--log-format`, which change nothing when nothing fails); anything else
 * is Node's. It interprets the list in order and decides nothing itself. Every operation
 * before `commit` is a guard or can be redone: when one does not hold (the container was
 * started, stopped, deleted or recreated; init's pid and start time no longer match; a
 * cgroup is busy; the directory holds something unexpected) the launcher stops and runs
 * Node with the same argv, which decides as it always did from the state on disk — so a
 * fast plan can only ever be skipped, never be wrong. After `commit`, a failure is the
 * command's error.
 *
 * Not written when Node must run anyway: poststart hooks (no fast-start), poststop hooks
 * (no fast-delete). A foreground `run` cleans up itself and writes none.
 *
 * The file: a line "brig-fast 1", then one line per operation: its name, then each
 * argument as " <byte length>:<bytes>", then "\n"; the last line is "end" (a torn file is
 * not a plan). Written atomically, like state.json.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_RECORD_SIZE } from '../native/errors.js';
import type { CgroupRemoval } from './cgroups/index.js';
import type { StoredState } from './state.js';

export const FAST_PLAN_VERSION = 1;

export const FAST_PLAN_FILES = {
  start: 'fast-start',
  delete: 'fast-delete',
  deleteForce: 'fast-delete-force',
} as const;

/** How long start waits for init's byte, and delete --force for init to die (as Node does). */
const RELEASE_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 2_000;

export type FastOp =
  /** Guard: the plan is for this container id, and lies in this (absolute) state directory. */
  | { op: 'container'; id: string; dir: string }
  /** Guard: the file holds exactly one of these texts. */
  | { op: 'state-is'; file: string; contents: string[] }
  /** Guard: /proc/<pid>/stat shows this start time and a live (not Z/X) process. */
  | { op: 'init-alive'; pid: number; start: string }
  /** Guard: that process is gone (no such pid, another start time, or a zombie). */
  | { op: 'init-gone'; pid: number; start: string }
  /** SIGKILL that process if it is still the one, then wait until it is gone. */
  | { op: 'kill-init'; pid: number; start: string; timeoutMs: number }
  /** Open the exec FIFO and read init's byte (init must stay alive meanwhile). */
  | { op: 'release'; fifo: string; pid: number; start: string; timeoutMs: number }
  /** From here on nothing is redone by Node: a failure is the command's error. */
  | { op: 'commit' }
  | { op: 'unlink'; path: string }
  /** Atomically (temp file + rename), mode 0600. */
  | { op: 'write-file'; path: string; content: string }
  /**
   * Read the released FIFO to EOF: nothing means the program was executed; anything else
   * (up to recordSize bytes: an error record) goes to Node to be worded
   * (_BRIG_START_FAILED, hex), as Runtime.startFailed.
   */
  | { op: 'await-exec'; recordSize: number }
  /** rmdir; gone already is fine; busy or any error: Node (its kill-and-retry path). */
  | { op: 'rmdir'; path: string }
  /** rmdir each in turn; a busy (or non-empty) one ends the chain, the rest stay. */
  | { op: 'rmdir-chain'; paths: string[] }
  /** Guard: the directory holds only plain files (Node removes anything else). */
  | { op: 'only-files'; dir: string }
  /** Unlink every file in the directory, then rmdir it. */
  | { op: 'remove-dir'; dir: string };

export interface FastPlans {
  start?: FastOp[];
  delete?: FastOp[];
  deleteForce?: FastOp[];
}

/**
 * The plans for a container whose state.json now holds `written` (from `s`). `created`: the
 * container waits for `start` (else it runs, detached). `cgroup`: what destroy removes.
 */
export function compileFastPlans(
  stateDir: string,
  s: StoredState,
  written: string,
  cgroup: CgroupRemoval | undefined,
  created: boolean,
): FastPlans {
  const dir = path.resolve(stateDir);
  const stateFile = path.join(dir, 'state.json');
  // What Node's start writes: state.json as read, with status running.
  const running = created ? JSON.stringify({ ...(JSON.parse(written) as StoredState), status: 'running' }) : written;
  const init = { pid: s.pid, start: s.pidStartTime };
  const header: FastOp[] = [{ op: 'container', id: s.id, dir }];
  const out: FastPlans = {};
  if (created && !s.hooks?.poststart?.length) {
    const fifo = path.join(dir, 'exec.fifo');
    out.start = [
      ...header,
      { op: 'state-is', file: stateFile, contents: [written] },
      { op: 'init-alive', ...init },
      { op: 'release', fifo, ...init, timeoutMs: RELEASE_TIMEOUT_MS },
      { op: 'commit' },
      // Node's order (Runtime.start): the FIFO goes, then the status is recorded.
      { op: 'unlink', path: fifo },
      { op: 'write-file', path: stateFile, content: running },
      { op: 'unlink', path: path.join(dir, FAST_PLAN_FILES.start) },
      { op: 'await-exec', recordSize: ERROR_RECORD_SIZE },
    ];
  }
  if (!s.hooks?.poststop?.length) {
    // Runtime.delete: init gone (or killed, with --force), the cgroups, the state directory.
    const removal: FastOp[] = [
      { op: 'only-files', dir },
      ...(cgroup?.leaves ?? []).map((p): FastOp => ({ op: 'rmdir', path: p })),
      ...(cgroup?.parents ?? []).map((paths): FastOp => ({ op: 'rmdir-chain', paths })),
      { op: 'commit' },
      { op: 'remove-dir', dir },
    ];
    const states: FastOp = { op: 'state-is', file: stateFile, contents: created ? [written, running] : [written] };
    out.delete = [...header, states, { op: 'init-gone', ...init }, ...removal];
    out.deleteForce = [...header, states, { op: 'kill-init', ...init, timeoutMs: KILL_TIMEOUT_MS }, ...removal];
  }
  return out;
}

function arg(v: string | number): Buffer {
  const b = Buffer.from(String(v));
  return Buffer.concat([Buffer.from(` ${b.length}:`), b]);
}

function args(op: FastOp): (string | number)[] {
  switch (op.op) {
    case 'container':
      return [op.id, op.dir];
    case 'state-is':
      return [op.file, ...op.contents];
    case 'init-alive':
    case 'init-gone':
      return [op.pid, op.start];
    case 'kill-init':
      return [op.pid, op.start, op.timeoutMs];
    case 'release':
      return [op.fifo, op.pid, op.start, op.timeoutMs];
    case 'commit':
      return [];
    case 'unlink':
      return [op.path];
    case 'write-file':
      return [op.path, op.content];
    case 'await-exec':
      return [op.recordSize];
    case 'rmdir':
      return [op.path];
    case 'rmdir-chain':
      return op.paths;
    case 'only-files':
    case 'remove-dir':
      return [op.dir];
  }
}

export function encodeFastPlan(ops: FastOp[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`brig-fast ${FAST_PLAN_VERSION}\n`)];
  for (const op of ops) parts.push(Buffer.from(op.op), ...args(op).map(arg), Buffer.from('\n'));
  parts.push(Buffer.from('end\n'));
  return Buffer.concat(parts);
}

/** Writes each plan (temp file + rename: the launcher never reads half of one). */
export function writeFastPlans(stateDir: string, plans: FastPlans): void {
  for (const [key, file] of Object.entries(FAST_PLAN_FILES) as [keyof FastPlans, string][]) {
    const ops = plans[key];
    if (!ops) continue;
    const dest = path.join(stateDir, file);
    const tmp = `${dest}.tmp`;
    writeFileSync(tmp, encodeFastPlan(ops), { mode: 0o600 });
    renameSync(tmp, dest);
  }
}
