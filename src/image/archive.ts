/**
 * Image archives, as `docker save`/`podman save` write them and `load` reads them:
 *
 *   - docker-archive: `manifest.json` ([{Config, RepoTags, Layers}]), the config as
 *     `<id>.json`, each layer as an uncompressed `<diffID>/layer.tar` (so its digest is its
 *     diffID, which every reader checks);
 *   - oci-archive: a tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/`).
 *
 * Loading streams the tar once, staging every entry on disk (see `loadArchive`): memory
 * stays bounded and only what the archive's manifest references is kept. Entry names are
 * checked like layer entries (no absolute paths, no `..`). An OCI layout directory (what `skopeo copy ... oci:DIR` writes) is imported the
 * same way by `importLayout`.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { digestOf, isDigest, mismatch, newHash, parseDigest } from './digest.js';
import { decompress, detectCompression } from './layers/compression.js';
import { checkFreeDisk, type ImageLimits, LIMIT_ENV, Meter, resolveLimits, tooLarge } from './layers/limits.js';
import { readTar } from './layers/tar-reader.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from './layers/tar-writer.js';
import { entryComponents } from './layers/unpack.js';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type Descriptor,
  type ImageConfig,
  isIndexType,
  layerCompression,
  type Manifest,
  MediaType,
  type Platform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  sniffMediaType,
  toOciManifest,
} from './manifest.js';
import { selectPlatform } from './platform.js';
import { familiarReference, formatReference, parseReference } from './reference.js';
import type { ImageStore } from './store/image-store.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** One image to save: what the service resolved. */
export interface SaveItem {
  names: string[];
  target: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export interface LoadResult {
  /** Names given to loaded images (full references), and IDs of unnamed ones. */
  loaded: string[];
  ids: string[];
}

function invalid(message: string, path?: string): BrigError {
  return new BrigError('INVALID_ARCHIVE', message, { path });
}

/**
 * Tar entries as chunks. The consumer pulls them, so a slow reader (a pipe, a disk) holds
 * the writer back and memory stays flat whatever the archive's size.
 */
class TarEntries {
  private readonly dirs = new Set<string>();

  *dir(name: string): Generator<Buffer> {
    if (this.dirs.has(name)) return;
    this.dirs.add(name);
    yield encodeHeader({ name, type: 'dir', mode: 0o755 });
  }

  async *file(name: string, size: number, data: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Buffer> {
    yield encodeHeader({ name, type: 'file', mode: 0o644, size });
    let n = 0;
    if (data instanceof Uint8Array) {
      yield Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      n = data.length;
    } else {
      for await (const c of data) {
        n += c.length;
        yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      }
    }
    if (n !== size)
      throw new BrigError('INTERNAL', `archive entry ${name}: wrote ${n} bytes, header said ${size}`);
    yield padding(size);
  }
}

/**
 * Images as a tar archive (docker-archive or oci-archive), streamed: what `save` writes to
 * a file or to stdout, and what GET /images/get sends.
 */
export async function* archiveStream(
  store: ImageStore,
  items: SaveItem[],
  format: ArchiveFormat,
  opts: { signal?: AbortSignal; tmpDir?: string } = {},
): AsyncGenerator<Buffer> {
  const tar = new TarEntries();
  if (format === 'oci-archive') yield* writeOci(store, items, tar);
  else yield* writeDocker(store, items, tar, opts.tmpDir ?? join(store.root, 'ingest'), opts.signal);
  yield END_OF_ARCHIVE;
}

async function* writeOci(store: ImageStore, items: SaveItem[], tar: TarEntries): AsyncGenerator<Buffer> {
  yield* tar.file('oci-layout', 30, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const manifests: Descriptor[] = [];
  for (const it of items) {
    // OCI readers (umoci) want OCI media types: convert Docker schema2 manifests.
    if (it.target.mediaType !== MediaType.OciManifest) {
      const platform = it.target.platform;
      it.manifest = toOciManifest(it.manifest);
      it.target = await store.putJson(MediaType.OciManifest, it.manifest);
      if (platform !== undefined) it.target.platform = platform;
    }
    const base: Descriptor = {
      mediaType: it.target.mediaType,
      digest: it.target.digest,
      size: it.target.size,
    };
    if (it.target.platform) base.platform = it.target.platform;
    if (it.names.length === 0) manifests.push(base);
    for (const n of it.names) {
      manifests.push({ ...base, annotations: { [ANNOTATION_REF_NAME]: n, [ANNOTATION_IMAGE_NAME]: n } });
    }
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
  yield* tar.file('index.json', index.length, index);
  yield* tar.dir('blobs/');
  yield* tar.dir('blobs/sha256/');
  const seen = new Set<string>();
  for (const it of items) {
    for (const d of [it.target, it.manifest.config, ...it.manifest.layers]) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      const size = await store.blobs.stat(d.digest);
      if (size === undefined) throw invalid(`blob ${d.digest} is missing from the store`);
      yield* tar.file(`blobs/sha256/${parseDigest(d.digest).hex}`, size, store.blobs.open(d.digest));
    }
  }
}

async function* writeDocker(
  store: ImageStore,
  items: SaveItem[],
  tar: TarEntries,
  tmpDir: string,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const seen = new Set<string>();
  for (const it of items) {
    const cfgName = `${parseDigest(it.manifest.config.digest).hex}.json`;
    if (!seen.has(cfgName)) {
      seen.add(cfgName);
      const cfg = await store.blobs.read(it.manifest.config.digest);
      yield* tar.file(cfgName, cfg.length, cfg);
    }
    const layers: string[] = [];
    for (const [i, l] of it.manifest.layers.entries()) {
      const diffID = it.config.rootfs.diff_ids[i]!;
      const dir = `${parseDigest(diffID).hex}/`;
      const name = `${dir}layer.tar`;
      layers.push(name);
      if (seen.has(name)) continue;
      seen.add(name);
      yield* tar.dir(dir);
      if (layerCompression(l.mediaType) === 'none') {
        yield* tar.file(name, l.size, store.blobs.open(l.digest, { signal }));
        continue;
      }
      // The tar header needs the uncompressed size first: decompress to a temp file.
      await fs.mkdir(tmpDir, { recursive: true });
      const tmp = join(tmpDir, `save-${parseDigest(diffID).hex}.${Math.random().toString(36).slice(2)}.tar`);
      try {
        const fh = await fs.open(tmp, 'wx', 0o600);
        try {
          for await (const c of decompress(store.blobs.open(l.digest, { signal }), { signal }))
            await fh.write(c);
        } finally {
          await fh.close();
        }
        const size = (await fs.stat(tmp)).size;
        yield* tar.file(name, size, createReadStream(tmp));
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    entries.push({
      Config: cfgName,
      RepoTags: it.names.filter((n) => !n.includes('@')).map((n) => familiarReference(parseReference(n))),
      Layers: layers,
    });
  }
  const manifest = Buffer.from(JSON.stringify(entries));
  yield* tar.file('manifest.json', manifest.length, manifest);
}

/** An archive entry written to the store's ingest directory while the archive streams by. */
interface Staged {
  tmp: string;
  digest: string;
  size: number;
}

/** Most bytes of a JSON document (manifest.json, index.json, configs) read from an archive. */
const MAX_JSON = 4 << 20;

/**
 * Reads an archive (docker-archive or oci-archive, detected by content) into the store.
 *
 * Memory stays bounded whatever the archive holds: every regular entry streams to an
 * ingest file, hashed on the way, and only the JSON documents the archive's manifest
 * names are read back (each at most 4 MiB). Only what manifest.json or index.json
 * references becomes a blob; everything else is deleted with the staging files. The
 * expansion ratio (of a compressed archive), the blob size, the entry count and the
 * free-disk reserve are checked while the entries arrive (layers/limits.ts).
 */
export async function loadArchive(
  store: ImageStore,
  source: string | AsyncIterable<Uint8Array>,
  opts: { platform: Platform; name?: string; signal?: AbortSignal; limits?: Partial<ImageLimits> },
): Promise<LoadResult> {
  const limits = resolveLimits(opts.limits);
  const input = typeof source === 'string' ? createReadStream(source, { signal: opts.signal }) : source;
  const files = new Map<string, Staged>();
  // Named by this process (owner and start time): a killed load's staging files go at the next command.
  const prefix = store.blobs.ingestPath('load').replace(/\.tmp$/, '-');
  let current: string | undefined;
  let n = 0;
  const meter = new Meter(limits, 'image archive', store.blobs.ingestDir, () => current);
  try {
    checkFreeDisk(store.blobs.ingestDir, limits.minFreeDisk, 'image archive');
    const compressed = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of input as AsyncIterable<Uint8Array>) {
        meter.input(c.length);
        yield c;
      }
    };
    const expanded = async function* (): AsyncGenerator<Buffer> {
      for await (const c of decompress(compressed(), { signal: opts.signal })) {
        meter.output(c.length);
        yield c;
      }
    };
    for await (const entry of readTar(expanded(), { maxEntries: limits.maxEntries })) {
      const h = entry.header;
      current = h.name;
      if (h.type !== 'file') continue;
      const name = entryComponents(h.name).join('/');
      if (h.size > limits.maxBlobSize) {
        throw tooLarge(`${h.size} bytes is over the blob size limit of ${limits.maxBlobSize}`, h.name, LIMIT_ENV.maxBlobSize);
      }
      const staged = await stage(entry.body(), `${prefix}${n++}.tmp`, meter, opts.signal);
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m !== null && staged.digest !== `sha256:${m[1]}`) {
        await fs.rm(staged.tmp, { force: true });
        throw mismatch(`archive entry "${h.name}"`, `sha256:${m[1]}`, staged.digest);
      }
      // The last entry of a name wins, as tar extracts it.
      const old = files.get(name);
      if (old !== undefined) await fs.rm(old.tmp, { force: true });
      files.set(name, staged);
    }
    current = undefined;
    const text = async (name: string): Promise<Buffer | undefined> => {
      const f = files.get(name);
      if (f === undefined) return undefined;
      if (f.size > MAX_JSON) {
        throw invalid(`archive file "${name}" is ${f.size} bytes, over the ${MAX_JSON}-byte limit for a JSON document`, name);
      }
      return fs.readFile(f.tmp);
    };
    const commit = async (name: string): Promise<{ digest: string; size: number }> => {
      const f = files.get(name.replace(/^\.\//, ''));
      if (f === undefined) throw invalid(`archive has no file "${name}"`, name);
      // Through the store, so the load's transaction knows the blob and a failed load removes it.
      await store.blobs.adopt(f.tmp, f.digest);
      return { digest: f.digest, size: f.size };
    };
    const dockerManifest = await text('manifest.json');
    if (dockerManifest !== undefined) return await loadDocker(store, dockerManifest, text, commit);
    const index = await text('index.json');
    if (index === undefined) throw invalid('archive has neither manifest.json (docker) nor index.json (OCI)');
    await commitReachable(parseIndex(index, 'index.json'), files, text, commit);
    return await registerIndex(store, index, opts);
  } finally {
    await Promise.all([...files.values()].map((f) => fs.rm(f.tmp, { force: true })));
  }
}

/** Writes one entry's body to `tmp`, hashing and metering it. */
async function stage(
  body: AsyncIterable<Buffer>,
  tmp: string,
  meter: Meter,
  signal: AbortSignal | undefined,
): Promise<Staged> {
  const hash = newHash();
  let size = 0;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    for await (const c of body) {
      signal?.throwIfAborted();
      meter.written(c.length);
      hash.update(c);
      size += c.length;
      await fh.write(c);
    }
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return { tmp, digest: digestOf(hash), size };
}

/** OCI archive: the blobs index.json reaches (manifests, configs, layers) become store blobs. */
async function commitReachable(
  index: { manifests: Descriptor[] },
  files: Map<string, Staged>,
  text: (name: string) => Promise<Buffer | undefined>,
  commit: (name: string) => Promise<unknown>,
): Promise<void> {
  const seen = new Set<string>();
  const walk = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest) || !isDigest(d.digest)) return;
    seen.add(d.digest);
    const name = `blobs/sha256/${parseDigest(d.digest).hex}`;
    if (!files.has(name)) return; // absent here: the store may have it, or the platform is not wanted
    await commit(name);
    const small = files.get(name)!.size <= MAX_JSON;
    const type = d.mediaType ?? (small ? sniffMediaType((await text(name))!) : undefined);
    if (type !== undefined && isIndexType(type)) {
      for (const m of parseIndex((await text(name))!, `index ${d.digest}`).manifests) await walk(m);
    } else if (type === MediaType.OciManifest || type === MediaType.DockerManifest) {
      const m = parseManifest((await text(name))!, `manifest ${d.digest}`);
      for (const x of [m.config, ...m.layers]) await walk(x);
    }
  };
  for (const d of index.manifests) await walk(d);
}

async function loadDocker(
  store: ImageStore,
  manifestJson: Buffer,
  text: (name: string) => Promise<Buffer | undefined>,
  commit: (name: string) => Promise<{ digest: string; size: number }>,
): Promise<LoadResult> {
  let items: unknown;
  try {
    items = JSON.parse(manifestJson.toString('utf8'));
  } catch {
    throw invalid('manifest.json is not valid JSON', 'manifest.json');
  }
  if (!Array.isArray(items)) throw invalid('manifest.json is not an array', 'manifest.json');
  const out: LoadResult = { loaded: [], ids: [] };
  for (const [i, raw] of items.entries()) {
    const it = raw as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (
      typeof it.Config !== 'string' ||
      !Array.isArray(it.Layers) ||
      !it.Layers.every((l) => typeof l === 'string')
    ) {
      throw invalid(`manifest.json[${i}]: needs Config and Layers`, 'manifest.json');
    }
    const cfgName = entryComponents(it.Config).join('/');
    const cfgBytes = await text(cfgName);
    if (cfgBytes === undefined)
      throw invalid(`manifest.json[${i}]: config "${it.Config}" not in the archive`);
    const config = parseImageConfig(cfgBytes, `config ${it.Config}`);
    if (config.rootfs.diff_ids.length !== it.Layers.length) {
      throw invalid(
        `manifest.json[${i}]: ${it.Layers.length} layers but the config lists ${config.rootfs.diff_ids.length}`,
      );
    }
    const cfg = await commit(cfgName);
    const layers: Descriptor[] = [];
    for (const l of it.Layers as string[]) {
      const blob = await commit(entryComponents(l).join('/'));
      const head = await firstBytes(store, blob.digest);
      const kind = detectCompression(head);
      const mediaType =
        kind === 'gzip'
          ? MediaType.OciLayerGzip
          : kind === 'zstd'
            ? MediaType.OciLayerZstd
            : MediaType.OciLayer;
      layers.push({ mediaType, digest: blob.digest, size: blob.size });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, ...cfg },
      layers,
    };
    const target = await store.putJson(MediaType.OciManifest, manifest);
    target.platform = { os: config.os, architecture: config.architecture };
    const tags = Array.isArray(it.RepoTags)
      ? (it.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string')
      : [];
    if (tags.length === 0) {
      await store.setImage(undefined, target);
      out.ids.push(cfg.digest);
    }
    for (const t of tags) {
      const name = formatReference(parseReference(t));
      await store.setImage(name, target);
      out.loaded.push(name);
    }
  }
  return out;
}

async function firstBytes(store: ImageStore, digest: string): Promise<Buffer> {
  const fh = await fs.open(store.blobs.path(digest));
  try {
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The image name an OCI index entry carries, if it is a full reference. */
function entryName(d: Descriptor, fallback: string | undefined): string | undefined {
  const a = d.annotations ?? {};
  for (const n of [a[ANNOTATION_IMAGE_NAME], a[ANNOTATION_REF_NAME]]) {
    if (n === undefined) continue;
    if (n.includes('/') || n.includes(':') || n.includes('@')) {
      try {
        return formatReference(parseReference(n));
      } catch {}
    }
  }
  // A bare tag (what skopeo writes for oci:DIR:TAG) needs a repository from the caller.
  const tag = a[ANNOTATION_REF_NAME];
  if (fallback !== undefined) {
    const ref = parseReference(fallback, { defaultTag: false });
    return formatReference(
      ref.tag === undefined && ref.digest === undefined && tag ? { ...ref, tag } : parseReference(fallback),
    );
  }
  return undefined;
}

/** Names the images an OCI index.json lists (their blobs must already be in the store). */
async function registerIndex(
  store: ImageStore,
  indexBytes: Buffer,
  opts: { platform: Platform; name?: string },
): Promise<LoadResult> {
  const index = parseIndex(indexBytes, 'index.json');
  const out: LoadResult = { loaded: [], ids: [] };
  for (const d of index.manifests) {
    let target = d;
    if (isIndexType(d.mediaType)) {
      const inner = await store.readIndexBlob(d.digest);
      target = selectPlatform(inner.manifests, opts.platform, `index ${d.digest}`);
    }
    const loaded = await store.load({
      mediaType: target.mediaType,
      digest: target.digest,
      size: target.size,
    });
    const desc: Descriptor = { mediaType: target.mediaType, digest: target.digest, size: target.size };
    desc.platform = target.platform ?? { os: loaded.config.os, architecture: loaded.config.architecture };
    const name = entryName(d, opts.name);
    await store.setImage(name, desc);
    if (name === undefined) out.ids.push(loaded.manifest.config.digest);
    else out.loaded.push(name);
  }
  return out;
}

/** Imports images from an OCI image layout directory (e.g. written by `skopeo copy ... oci:DIR`). */
export async function importLayout(
  store: ImageStore,
  dir: string,
  opts: { platform: Platform; name?: string; signal?: AbortSignal },
): Promise<LoadResult> {
  let indexBytes: Buffer;
  try {
    indexBytes = await fs.readFile(join(dir, 'index.json'));
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) throw invalid(`${dir} is not an OCI image layout (no index.json)`, dir);
    throw e;
  }
  const index = parseIndex(indexBytes, join(dir, 'index.json'));
  const copy = async (d: Descriptor): Promise<Buffer | undefined> => {
    if (!isDigest(d.digest)) throw invalid(`unsupported digest ${d.digest}`, dir);
    const src = join(dir, 'blobs', 'sha256', parseDigest(d.digest).hex);
    if (!(await store.blobs.has(d.digest))) {
      await store.blobs.write(
        createReadStream(src, { signal: opts.signal }),
        { digest: d.digest, size: d.size },
        opts,
      );
    }
    return d.mediaType.endsWith('json') || d.size < 64 << 10 ? store.blobs.read(d.digest) : undefined;
  };
  const walk = async (d: Descriptor): Promise<void> => {
    const bytes = await copy(d);
    const type =
      isIndexType(d.mediaType) || d.mediaType.includes('manifest')
        ? d.mediaType
        : sniffMediaType(bytes ?? Buffer.alloc(0));
    if (type !== undefined && isIndexType(type)) {
      const inner = parseIndex(bytes!, `index ${d.digest}`);
      await walk(selectPlatform(inner.manifests, opts.platform, `index ${d.digest}`));
    } else if (type !== undefined && (type === MediaType.OciManifest || type === MediaType.DockerManifest)) {
      const m = await store.readManifest(d.digest);
      await Promise.all([m.config, ...m.layers].map(copy));
    }
  };
  for (const d of index.manifests) await walk(d);
  return registerIndex(store, indexBytes, opts);
}
