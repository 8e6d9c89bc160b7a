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

export function formatOwner(o: Owner): string {
  return `${o.pid}-${o.start}`;
}

/** Parses `<pid>-<start>` at the start of `s` (what `formatOwner` wrote). */
export function parseOwner(s: string): Owner | undefined {
  const m = /^(\d+)-(\d+)/.exec(s);
  return m === null ? undefined : { pid: Number(m[1]), start: m[2]! };
}
