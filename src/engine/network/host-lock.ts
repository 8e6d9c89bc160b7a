/**
 * One lock for everything that changes the host's network stack through netavark: the
 * firewall chains it makes on first use and the ones brig removes when the last container
 * goes are the host's, shared by every brig process whatever its data root, and two
 * netavark setups at once race to create the same chain ("iptables: Chain already exists").
 * An flock(2) on one file, taken through util-linux's flock(1), so that a Node process and a
 * container's monitor (which runs netavark's teardown without Node) take the same lock.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BrigError } from '../../errors/index.js';

export const NETWORK_LOCK = '/run/brig/network.lock';
export const FLOCK = '/usr/bin/flock';

/** argv run under the lock (for a command another process runs: the monitor's on-exit). */
export function lockedArgv(argv: string[]): string[] {
  return [FLOCK, NETWORK_LOCK, ...argv];
}

/** Runs fn holding the lock: flock(1) holds it while its child waits on our pipe. */
export async function withNetworkLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(path.dirname(NETWORK_LOCK), { recursive: true, mode: 0o700 });
  const holder = spawn(FLOCK, [NETWORK_LOCK, 'sh', '-c', 'echo locked; read x'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    holder.once('error', (e) => reject(new BrigError('TOOL_MISSING', `cannot run ${FLOCK}: ${e.message}`, { hint: 'apt-get install util-linux' })));
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new BrigError('SYSTEM', `${FLOCK} ${NETWORK_LOCK} exited with ${code} before taking the lock`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin!.end();
    await new Promise((r) => (holder.exitCode !== null ? r(undefined) : holder.once('exit', r)));
  }
}
