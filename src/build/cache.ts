/**
 * The build cache: one record per step that makes a layer (RUN, COPY, ADD, WORKDIR), under
 * <root>/builder/cache/<key>.json. The key is a digest of the parent's key (the base image's
 * ID at the start of a stage), the instruction as expanded, what the step's result depends
 * on (env, user, workdir, shell, network and mounts for RUN; the content digest of what is
 * copied, --chown/--chmod and the destination for COPY/ADD) and the build args the step
 * uses. The record names the layer (blob and diffID) or says the step changed nothing, and
 * when it was made (so an all-hits rebuild writes the same image, ID included).
 *
 * A record is only a hint: a hit is used when its layer blob is still in the store (a
 * removed image takes its blobs; `image prune` may collect a stage's layers no image uses),
 * and the snapshot is unpacked again from the blob when it is gone.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { hasErrno } from '../errors/index.js';
import type { Descriptor } from '../image/index.js';

export interface CacheRecord {
  /** Undefined: the step changed nothing (an empty layer in the history). */
  layer?: Descriptor;
  diffID?: string;
  created: string;
}

export function cacheKey(...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${typeof p === 'string' ? p : JSON.stringify(p)}\0`);
  return `sha256:${h.digest('hex')}`;
}

export class BuildCache {
  readonly dir: string;

  constructor(builderRoot: string) {
    this.dir = path.join(builderRoot, 'cache');
  }

  private file(key: string): string {
    return path.join(this.dir, `${key.replace(/^sha256:/, '')}.json`);
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    try {
      const r = JSON.parse(await fs.readFile(this.file(key), 'utf8')) as CacheRecord;
      return typeof r.created === 'string' ? r : undefined;
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  /** Written whole or not at all (a temp file renamed into place). */
  async put(key: string, rec: CacheRecord): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file(key)}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(rec), { mode: 0o600 });
    await fs.rename(tmp, this.file(key));
  }

  /** Every record; removes them all (brig builder prune). */
  async clear(): Promise<CacheRecord[]> {
    const names = await fs.readdir(this.dir).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    const out: CacheRecord[] = [];
    for (const n of names) {
      const f = path.join(this.dir, n);
      if (n.endsWith('.json')) {
        const r = await fs.readFile(f, 'utf8').then((t) => JSON.parse(t) as CacheRecord, () => undefined);
        if (r) out.push(r);
      }
      await fs.rm(f, { force: true });
    }
    return out;
  }
}
