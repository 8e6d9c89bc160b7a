/**
 * Content-addressed blobs in an OCI image layout: `blobs/sha256/<hex>`.
 *
 * Every write goes to a private file under `ingest/`, is hashed while it is written, and is
 * renamed into place only when its digest (and size, when known) matches. rename(2) is atomic,
 * so two writers of the same blob both succeed and readers never see a partial blob.
 * Every read is verified too: `read` hashes the bytes before returning them, and `open`
 * yields chunks and throws at the end when the digest does not match.
 *
 * Downloads that may be resumed write to `ingest/<hex>.partial` instead (see `partial`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../../util/owner.js';
import { digestOf, mismatch, newHash, parseDigest, sha256 } from '../digest.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface Expected {
  digest?: string;
  size?: number;
}

/**
 * Told of every blob about to be committed within its async context: the image store's
 * transactions record them in their lease before the blob becomes visible, so a failed or
 * killed load/pull can remove what it wrote (image-store.ts).
 */
export const blobWrites = new AsyncLocalStorage<(digest: string) => Promise<void>>();

export class BlobStore {
  readonly root: string;
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(opts: { root: string }) {
    this.root = opts.root;
    this.blobsDir = join(opts.root, 'blobs', 'sha256');
    this.ingestDir = join(opts.root, 'ingest');
  }

  async init(): Promise<void> {
    await Promise.all([
      fs.mkdir(this.blobsDir, { recursive: true, mode: 0o700 }),
      fs.mkdir(this.ingestDir, { recursive: true, mode: 0o700 }),
    ]);
  }

  path(digest: string): string {
    return join(this.blobsDir, parseDigest(digest).hex);
  }

  /** The blob's size, or undefined when it is not stored. */
  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.path(digest))).size;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  /** Reads a whole blob and checks its digest (for manifests and configs: small). */
  async read(digest: string, opts: { maxSize?: number } = {}): Promise<Buffer> {
    const path = this.path(digest);
    let data: Buffer;
    try {
      if (opts.maxSize !== undefined) {
        const st = await fs.stat(path);
        if (st.size > opts.maxSize) {
          throw new BrigError('INVALID_MANIFEST', `blob ${digest} is ${st.size} bytes, over ${opts.maxSize}`);
        }
      }
      data = await fs.readFile(path);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) throw notFound(digest);
      throw e;
    }
    const actual = sha256(data);
    if (actual !== digest) throw mismatch(`stored blob ${digest}`, digest, actual, path);
    return data;
  }

  /** Streams a blob; the iterator throws DIGEST_MISMATCH after the last chunk if it is corrupt. */
  async *open(digest: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    const path = this.path(digest);
    const hash = newHash();
    const stream = createReadStream(path, { highWaterMark: 1 << 20, signal: opts.signal });
    try {
      for await (const chunk of stream) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) throw notFound(digest);
      throw e;
    }
    const actual = digestOf(hash);
    if (actual !== digest) throw mismatch(`stored blob ${digest}`, digest, actual, path);
  }

  async put(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    return this.write([data], expected);
  }

  /** Writes a blob from chunks, verifying it against `expected` before it becomes visible. */
  async write(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    expected: Expected = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<BlobInfo> {
    if (expected.digest !== undefined) parseDigest(expected.digest, 'expected digest');
    // Named by its writer, so a killed writer's file is known as garbage at once.
    const tmp = join(this.ingestDir, `${formatOwner(currentOwner())}-${randomBytes(8).toString('hex')}.tmp`);
    const hash = newHash();
    let size = 0;
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      try {
        for await (const chunk of source) {
          opts.signal?.throwIfAborted();
          hash.update(chunk);
          size += chunk.byteLength;
          if (expected.size !== undefined && size > expected.size) {
            throw new BrigError(
              'DIGEST_MISMATCH',
              `blob ${expected.digest ?? ''} is longer than its declared size ${expected.size}`.replace(
                '  ',
                ' ',
              ),
            );
          }
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
      return await this.commit(tmp, digestOf(hash), size, expected);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Moves a fully written ingest file into place after checking it. */
  async commit(tmp: string, actual: string, size: number, expected: Expected): Promise<BlobInfo> {
    if (expected.digest !== undefined && actual !== expected.digest) {
      throw mismatch('blob', expected.digest, actual);
    }
    if (expected.size !== undefined && size !== expected.size) {
      throw new BrigError(
        'DIGEST_MISMATCH',
        `blob ${actual}: declared size ${expected.size}, got ${size} bytes`,
      );
    }
    await blobWrites.getStore()?.(actual);
    await fs.rename(tmp, join(this.blobsDir, parseDigest(actual).hex));
    return { digest: actual, size };
  }

  /**
   * A fresh ingest file name for a writer outside this class (an archive being staged),
   * named by its owner so it is removed as soon as that process is gone.
   */
  ingestPath(tag: string): string {
    return join(this.ingestDir, `${formatOwner(currentOwner())}-${tag}-${randomBytes(6).toString('hex')}.tmp`);
  }

  /**
   * Makes an ingest file whose content the caller has hashed to `digest` that blob, by
   * hard link (the caller still removes `tmp`). Like `commit`, it tells the current
   * transaction first, so a failed load removes the blob again.
   */
  async adopt(tmp: string, digest: string): Promise<void> {
    await blobWrites.getStore()?.(digest);
    if (await this.has(digest)) return;
    await fs.link(tmp, this.path(digest)).catch((e) => {
      // Another writer linked the same blob first: the same bytes.
      if (!hasErrno(e, 'EEXIST')) throw e;
    });
  }

  /** Path of the resumable download file for a digest (it may or may not exist). */
  partialPath(digest: string): string {
    return join(this.ingestDir, `${parseDigest(digest).hex}.partial`);
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await fs.unlink(this.path(digest));
      return true;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return false;
      throw e;
    }
  }

  async list(): Promise<string[]> {
    const names = await fs.readdir(this.blobsDir).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Removes ingest files older than `maxAgeMs`, and those of writers that are gone (crashed or killed). */
  async cleanIngest(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.ingestDir).catch(() => [] as string[])) {
      const p = join(this.ingestDir, name);
      const owner = name.endsWith('.tmp') ? parseOwner(name) : undefined;
      const dead = owner !== undefined && !ownerAlive(owner);
      const st = await fs.stat(p).catch(() => undefined);
      if (st !== undefined && (dead || now - st.mtimeMs > maxAgeMs)) {
        await fs.rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

export function notFound(digest: string): BrigError {
  return new BrigError('BLOB_NOT_FOUND', `blob ${digest} is not in the image store`, {
    hint: 'pull the image again',
  });
}
