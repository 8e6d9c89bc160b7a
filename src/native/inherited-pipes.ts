/**
 * Pipes brig's launchers leave to Node (native/launch/launch.c): a child forked ahead (stage
 * 0, the spawner) and both ends of each of its pipes, inheritable, named in one environment
 * variable: "pid,r0,w0,r1,w1,...[,extra...]". Taking them removes the variable, so nothing
 * started from here sees it; the ends kept are reopened through /proc/self/fd (close-on-exec
 * descriptors, as Node opens every file) and every original closed, so no hook or other child
 * inherits them. Holding both ends until the reopen is what keeps it from blocking on a
 * missing reader or writer.
 */
import { closeSync, fstatSync, constants as fsConstants, openSync } from 'node:fs';
import { procStat } from '../util/proc-stat.js';

export interface TakenPipes {
  pid: number;
  /** The kept ends, reopened, in the order asked for. */
  fds: number[];
  /** Numbers after the pipes' ends (stage 0's stdin flag). */
  extra: number[];
}

/**
 * `pipes` pipes, and up to `maxExtra` numbers after them; `keep` says which end of each pipe
 * this process keeps ('w' to write to the child, 'r' to read from it). undefined when the
 * variable is not set or does not check out: the pid must be this process's child and every
 * fd a pipe (then nothing is touched).
 */
export function takeInheritedPipes(env: NodeJS.ProcessEnv, name: string, keep: ('r' | 'w')[], maxExtra = 0): TakenPipes | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  delete env[name];
  const parts = value.split(',').map((p) => Number(p));
  const base = 1 + 2 * keep.length;
  if (parts.length < base || parts.length > base + maxExtra || !parts.every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  const pid = parts[0]!;
  const originals = parts.slice(1, base);
  try {
    if (procStat(pid)?.ppid !== process.pid) return undefined;
    for (const fd of originals) if (!fstatSync(fd).isFIFO()) return undefined;
  } catch {
    return undefined;
  }
  const reopened: number[] = [];
  try {
    for (const [i, end] of keep.entries()) {
      const fd = end === 'w' ? originals[2 * i + 1]! : originals[2 * i]!;
      reopened.push(openSync(`/proc/self/fd/${fd}`, end === 'w' ? fsConstants.O_WRONLY : fsConstants.O_RDONLY));
    }
    const fds = [...reopened];
    reopened.length = 0;
    return { pid, fds, extra: parts.slice(base) };
  } catch {
    return undefined;
  } finally {
    for (const fd of [...originals, ...reopened]) {
      try {
        closeSync(fd);
      } catch {}
    }
  }
}
