/**
 * One lock for everything that changes the host's network stack through netavark: the
 * firewall chains it makes on first use and the ones brig removes when the last container
 * goes are the host's, shared by every brig process whatever its data root, and two
 * netavark setups at once race to create the same chain ("iptables: Chain already exists").
 * An flock(2) on one file, taken through util-linux's flock(1), so that a Node process and a
 * container's monitor (which runs netavark's teardown without Node) take the same lock.
 *
 * The lock is held for one command at a time, by the flock(1) that runs it: no process
 * stands by holding it, and a command needs no shell around it. `-o` closes the lock's
 * descriptor in the command, so that nothing it leaves running (netavark starts
 * aardvark-dns) keeps the lock after it exits.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { execFileAsync } from '../../util/builtins.js';

export const NETWORK_LOCK = '/run/brig/network.lock';
export const FLOCK = '/usr/bin/flock';

/** argv run under the lock (for a command another process runs: the monitor's on-exit). */
export function lockedArgv(argv: string[]): string[] {
  return [FLOCK, '-o', NETWORK_LOCK, ...argv];
}

/** Runs argv holding the lock; `input` is written to its stdin. Rejects as execFile does. */
export async function runLocked(argv: string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<{ stdout: string; stderr: string }> {
  mkdirSync(path.dirname(NETWORK_LOCK), { recursive: true, mode: 0o700 });
  const [file, ...args] = lockedArgv(argv);
  const run = execFileAsync(file!, args, { maxBuffer: 4 << 20, ...(opts.signal ? { signal: opts.signal } : {}) });
  // A command that exits without reading its input (netavark with nothing to do) closes the
  // pipe before the write: EPIPE there is no failure of ours (its exit status says how it
  // went), and unhandled it took the whole brig process down mid-removal.
  run.child.stdin?.on('error', (e) => {
    if (!hasErrno(e, 'EPIPE')) throw e;
  });
  run.child.stdin?.end(opts.input ?? '');
  try {
    return await run;
  } catch (e) {
    if (hasErrno(e, 'ENOENT') && (e as { path?: string }).path === FLOCK) {
      throw new BrigError('TOOL_MISSING', `cannot run ${FLOCK}: ${(e as Error).message}`, { hint: 'apt-get install util-linux' });
    }
    throw e;
  }
}
