/**
 * A process named across pid reuse: its pid and its start time (clock ticks since boot).
 * Work directories, leases and ingest files carry their owner's, so what a killed brig left
 * behind can be told from what a live one is still writing.
 */
import { procStat } from './proc-stat.js';

export interface Owner {
  pid: number;
  start: string;
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: procStat(process.pid)?.start ?? '0' };
  return self;
}

export function ownerAlive(o: Owner): boolean {
  const st = procStat(o.pid);
  return st !== undefined && st.state !== 'Z' && st.start === o.start;
}

/**
 * Whether a process with this pid exists (kill(pid, 0): signal 0 checks existence only;
 * there is no other way to ask in Node). No start time: a reused pid reads as alive. Pids
 * below 1 name process groups or nothing, and are never one process.
 */
export function pidExists(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid < 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function formatOwner(o: Owner): string {
  return `${o.pid}-${o.start}`;
}

/** Parses `<pid>-<start>` at the start of `s` (what `formatOwner` wrote). */
export function parseOwner(s: string): Owner | undefined {
  const m = /^(\d+)-(\d+)/.exec(s);
  return m === null ? undefined : { pid: Number(m[1]), start: m[2]! };
}
