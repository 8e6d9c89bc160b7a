/**
 * A lock file for read-modify-write of small store files (index.json, snapshot metadata),
 * shared between the CLI and `brig serve` running side by side. The file holds the owner's
 * pid; a lock whose owner is gone is taken over. Within one process, callers queue on a
 * promise chain first so they do not poll each other.
 */
import * as fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrigError, hasErrno } from '../../errors/index.js';
import { pidExists } from '../../util/owner.js';

const queues = new Map<string, Promise<unknown>>();
/** How old a lock file with no owner in it must be to be taken over. */
const ORPHAN_MS = 10_000;



async function acquire(path: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fh = await fs.open(path, 'wx', 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) throw e;
    }
    const owner = Number.parseInt(await fs.readFile(path, 'utf8').catch(() => ''), 10);
    // No owner written: its maker was killed between the create and the write (microseconds
    // apart), so a file ten seconds old without one is as stale as a dead owner's; the margin
    // is for a maker stalled between the two on a loaded machine (both would then hold it).
    const ownerless = !(Number.isInteger(owner) && owner > 0) && (await fs.stat(path).then((st) => Date.now() - st.mtimeMs > ORPHAN_MS, () => false));
    if (ownerless || (Number.isInteger(owner) && owner > 0 && !pidExists(owner))) {
      // Stale: rename first so two processes taking over do not both delete a fresh lock.
      const stale = `${path}.stale.${process.pid}`;
      await fs.rename(path, stale).then(
        () => fs.rm(stale, { force: true }),
        () => undefined,
      );
      continue;
    }
    if (Date.now() > deadline) {
      throw new BrigError('STORE_LOCKED', `lock ${path} is held by process ${owner || 'unknown'}`, {
        path,
        hint: 'another brig process is changing the store; retry, or remove the file if that process is gone',
      });
    }
    await sleep(wait, undefined, { signal });
    wait = Math.min(wait * 2, 100);
  }
}

/** Runs `fn` holding the lock at `path`. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const prev = queues.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => {
    release = r;
  });
  const chained = prev.then(() => mine);
  queues.set(path, chained);
  await prev;
  try {
    await acquire(path, opts.timeoutMs ?? 30_000, opts.signal);
    try {
      return await fn();
    } finally {
      await fs.rm(path, { force: true });
    }
  } finally {
    release();
    if (queues.get(path) === chained) queues.delete(path);
  }
}

/**
 * Writes a file atomically: temp file in the same directory (created with `mode`, and given
 * `owner` when set), fsync, rename. Nothing is left behind when a step fails.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number; owner?: { uid: number; gid: number } } = {},
): Promise<void> {
  const tmp = `${path}.tmp.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    const fh = await fs.open(tmp, 'wx', opts.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      if (opts.owner !== undefined) await fh.chown(opts.owner.uid, opts.owner.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
