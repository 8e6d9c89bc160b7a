/**
 * /proc/<pid>/stat, split into fields. The command (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so the split starts after the last ")".
 */
import { closeSync, openSync, readSync } from 'node:fs';
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

/** One buffer for every read: a stat line is a few hundred bytes (the command is at most 64). */
const buf = Buffer.alloc(4096);

/** undefined once the process is gone (and reaped), or for no pid (0 or less). */
export function procStat(pid: number): ProcStat | undefined {
  if (!(pid > 0)) return undefined;
  let text: string;
  // open, one read, close: readFileSync adds an fstat, option parsing and a buffer per call,
  // and ps reads one of these for every container.
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ESRCH')) return undefined;
    throw e;
  }
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = buf.toString('latin1', 0, n);
  } catch (e) {
    // The process went between the open and the read.
    if (hasErrno(e, 'ESRCH')) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
  if (!text) return undefined; // gone between the open and the read
  // From field 3 on: field n is at index n - 3.
  const f = text.slice(text.lastIndexOf(')') + 2).trimEnd().split(' ');
  return { state: f[0] ?? '', ppid: Number(f[1]), start: f[19] ?? '', exitCode: Number(f[49]) };
}
