/**
 * /proc/<pid>/stat, split into fields. The command (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so the split starts after the last ")".
 */
import { readFileSync } from 'node:fs';
import { hasErrno } from '../errors/index.js';

export interface ProcStat {
  /** Field 3: R, S, D, Z, X, ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 22, in clock ticks since boot: with the pid, names one process across pid reuse. */
  start: string;
  /** Field 52 (Linux 3.5+): a zombie's exit status in waitpid's encoding; 0 while it runs. */
  exitCode: number;
}

/** undefined once the process is gone (and reaped). */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ESRCH')) return undefined;
    throw e;
  }
  // From field 3 on: field n is at index n - 3.
  const f = text.slice(text.lastIndexOf(')') + 2).trimEnd().split(' ');
  return { state: f[0] ?? '', ppid: Number(f[1]), start: f[19] ?? '', exitCode: Number(f[49]) };
}
