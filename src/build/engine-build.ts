/**
 * The engine's build entry points (LocalEngine.buildImage / pruneBuildCache call these):
 * where the context comes from (a directory, or a tar stream unpacked into a private temp
 * directory that goes when the build ends), which Dockerfile and which ignore file, the
 * tags checked before any work, and what `brig builder prune` removes.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { chainIDs } from '../image/index.js';
import { hostPathIn, resolveInContainer } from '../image/fs-util.js';
import { extractArchive } from '../image/layers/copy.js';
import { decompress } from '../image/layers/compression.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { BuildImageOptions } from '../engine/engine.js';
import { BuildCache } from './cache.js';
import { build, builderTmp, type BuildHost, type BuildResult } from './executor.js';
import { ownerAlive, parseOwner } from '../util/owner.js';

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

async function sweepTmp(builderRoot: string): Promise<void> {
  const tmp = path.join(builderRoot, 'tmp');
  for (const n of await fs.readdir(tmp).catch(() => [] as string[])) {
    const owner = parseOwner(n.split('-').slice(0, 2).join('-'));
    if (owner === undefined || !ownerAlive(owner)) await fs.rm(path.join(tmp, n), { recursive: true, force: true });
  }
}

export async function buildInEngine(host: BuildHost, context: { dir: string } | { tar: AsyncIterable<Uint8Array> }, opts: BuildImageOptions): Promise<BuildResult> {
  // Tags are checked before anything is built (docker: "invalid reference format").
  const tags = (opts.tags ?? []).map((t) => {
    try {
      return formatReference(parseReference(t));
    } catch (e) {
      throw new BrigError('INVALID_REFERENCE', `invalid tag "${t}": ${(e as Error).message}`, { field: 't', cause: e });
    }
  });
  await sweepTmp(host.builderRoot);
  let dir: string;
  let cleanup: (() => Promise<void>) | undefined;
  if ('dir' in context) {
    dir = path.resolve(context.dir);
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new BrigError('BUILD_CONTEXT', `unable to prepare context: path "${context.dir}" not found`, { path: context.dir });
  } else {
    dir = await builderTmp(host.builderRoot, 'context');
    cleanup = () => fs.rm(dir, { recursive: true, force: true });
    try {
      await extractArchive(decompress(context.tar, opts.signal ? { signal: opts.signal } : {}), dir, '', { owner: 'archive', ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      await cleanup();
      throw e;
    }
  }
  try {
    let dockerfile = opts.dockerfileText;
    let ignore = opts.ignoreText;
    const name = opts.dockerfile ?? 'Dockerfile';
    if (dockerfile === undefined) {
      // Inside the context, symlinks resolved inside it.
      const inner = resolveInContainer(dir, path.posix.normalize(`/${name}`));
      dockerfile = await readIfExists(hostPathIn(dir, inner));
      if (dockerfile === undefined && name === 'Dockerfile') dockerfile = await readIfExists(path.join(dir, 'dockerfile'));
      if (dockerfile === undefined) throw new BrigError('BUILD_CONTEXT', `Cannot locate specified Dockerfile: ${name}`, { path: name });
      ignore ??= await readIfExists(hostPathIn(dir, `${inner}.dockerignore`));
    }
    ignore ??= await readIfExists(path.join(dir, '.dockerignore'));
    const { dockerfile: _f, dockerfileText: _t, ignoreText: _i, ...settings } = opts;
    return await build(host, { ...settings, tags, context: dir, dockerfile, dockerfileName: name, ...(ignore !== undefined ? { ignore } : {}) });
  } finally {
    await cleanup?.();
  }
}

/**
 * `brig builder prune`: every cache record; the committed snapshots no image stacks on and no
 * other snapshot (a container's) has as parent, leaves first; the cache mounts; and the blobs
 * nothing references any more.
 */
export async function pruneBuilder(host: BuildHost): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
  await sweepTmp(host.builderRoot);
  const records = await new BuildCache(host.builderRoot).clear();
  const deleted = new Set<string>(records.map((r) => r.layer?.digest).filter((d): d is string => d !== undefined));
  let bytes = 0;
  const snap = host.images.snapshotter;
  if (snap) {
    const used = new Set<string>();
    for (const img of await host.images.list({})) {
      const r = await host.images.resolve(img.Id).catch(() => undefined);
      if (r) for (const c of chainIDs(r.config.rootfs.diff_ids)) used.add(c);
    }
    for (;;) {
      const all = await snap.list();
      const parents = new Set(all.map((i) => i.parent).filter((p): p is string => p !== undefined));
      const leaves = all.filter((i) => i.kind === 'committed' && !used.has(i.key) && !parents.has(i.key));
      if (leaves.length === 0) break;
      let removed = 0;
      for (const l of leaves) {
        const size = (await snap.usage(l.key).catch(() => undefined))?.own.size ?? 0;
        try {
          await snap.remove(l.key);
          bytes += size;
          removed++;
          deleted.add(l.key);
        } catch (e) {
          if ((e as BrigError).code !== 'SNAPSHOT_NOT_FOUND' && (e as BrigError).code !== 'SNAPSHOT_INVALID') throw e;
        }
      }
      if (removed === 0) break;
    }
  }
  const mounts = path.join(host.builderRoot, 'cache-mounts');
  for (const d of await fs.readdir(mounts).catch(() => [] as string[])) {
    await fs.rm(path.join(mounts, d), { recursive: true, force: true });
    deleted.add(`cache-mount:${d}`);
  }
  const gc = await host.images.store.gc({ graceMs: 0 });
  bytes += gc.bytes;
  return { CachesDeleted: [...deleted].sort(), SpaceReclaimed: bytes };
}
