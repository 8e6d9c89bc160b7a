/**
 * Parsed JSON files kept while they do not change, for readers that go over many small
 * records at once (brig serve's GET /containers/json reads every container's record and
 * network state per request). A file is read and parsed again when its stat says it may have
 * changed (inode, size, mtime or ctime, to the nanosecond): brig writes records by rename or
 * in place, and other processes (the CLI, monitors) write them too, so nothing is trusted
 * that the file system does not confirm. An in-place rewrite of the same size within one
 * clock tick would keep its times on older kernels; since 6.13 a file whose times were read
 * (as here) gets fine-grained ones at its next change (multigrain timestamps: ext4, xfs,
 * btrfs, tmpfs), and records themselves are renamed over, a new inode each time. Synchronous: a stat and a small read take a few
 * microseconds each, where fs.promises' readFile pays four thread-pool round trips.
 *
 * What `read` returns is shared by later reads of the same unchanged file: callers treat it
 * as read-only. The owner bounds it: `retain` with the files that still matter (a whole
 * listing's) forgets the rest (removed containers').
 */
import { readFileSync, statSync } from 'node:fs';
import { hasErrno } from '../errors/index.js';

export class ParsedFileCache<T> {
  private readonly entries = new Map<string, { key: string; value: T }>();

  /** The file's parsed content (`parse` of its text), or undefined if it is not there. */
  read(file: string, parse: (text: string) => T): T | undefined {
    let key: string;
    try {
      const st = statSync(file, { bigint: true });
      key = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) {
        this.entries.delete(file);
        return undefined;
      }
      throw e;
    }
    const hit = this.entries.get(file);
    if (hit?.key === key) return hit.value;
    let text: string;
    try {
      text = readFileSync(file).toString('utf8');
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) {
        this.entries.delete(file);
        return undefined;
      }
      throw e;
    }
    const value = parse(text);
    this.entries.set(file, { key, value });
    return value;
  }

  /** Forgets every file not in `keep`. */
  retain(keep: Set<string>): void {
    for (const f of this.entries.keys()) if (!keep.has(f)) this.entries.delete(f);
  }

  /** How many files it holds. */
  get size(): number {
    return this.entries.size;
  }
}
