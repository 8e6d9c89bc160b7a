/**
 * Image archives, as `docker save`/`podman save` write them and `load` reads them:
 *
 *   - docker-archive: `manifest.json` ([{Config, RepoTags, Layers}]), the config as
 *     `<id>.json`, each layer as an uncompressed `<diffID>/layer.tar` (so its digest is its
 *     diffID, which every reader checks);
 *   - oci-archive: a tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/`).
 *
 * Loading streams the tar once: `blobs/sha256/<hex>` entries go straight into the store
 * with their digest verified, other large entries become blobs by content, and small ones
 * (JSON) stay in memory. Entry names are checked like layer entries (no absolute paths, no
 * `..`). An OCI layout directory (what `skopeo copy ... oci:DIR` writes) is imported the
 * same way by `importLayout`.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { isDigest, parseDigest } from './digest.js';
import { decompress, detectCompression } from './layers/compression.js';
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

const SMALL = 8 << 20;

function invalid(message: string, path?: string): BrigError {
  return new BrigError('INVALID_ARCHIVE', message, { path });
}

/** Writes tar entries to a file with backpressure. */
class TarFile {
  private readonly out: WriteStream;
  private readonly dirs = new Set<string>();

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
  }

  private async write(b: Uint8Array): Promise<void> {
    if (!this.out.write(b)) await new Promise<void>((r) => this.out.once('drain', () => r()));
  }

  async dir(name: string): Promise<void> {
    if (this.dirs.has(name)) return;
    this.dirs.add(name);
    await this.write(encodeHeader({ name, type: 'dir', mode: 0o755 }));
  }

  async file(name: string, size: number, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    await this.write(encodeHeader({ name, type: 'file', mode: 0o644, size }));
    let n = 0;
    if (data instanceof Uint8Array) {
      await this.write(data);
      n = data.length;
    } else {
      for await (const c of data) {
        n += c.length;
        await this.write(c);
      }
    }
    if (n !== size)
      throw new BrigError('INTERNAL', `archive entry ${name}: wrote ${n} bytes, header said ${size}`);
    await this.write(padding(size));
  }

  async close(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }

  abort(): void {
    this.out.destroy();
  }
}

/** Writes images to a tar archive at `path` (which must not exist). */
export async function saveArchive(
  store: ImageStore,
  items: SaveItem[],
  path: string,
  format: ArchiveFormat,
  opts: { signal?: AbortSignal; tmpDir?: string } = {},
): Promise<void> {
  const tar = new TarFile(path);
  try {
    if (format === 'oci-archive') await writeOci(store, items, tar);
    else await writeDocker(store, items, tar, opts.tmpDir ?? join(store.root, 'ingest'), opts.signal);
    await tar.close();
  } catch (e) {
    tar.abort();
    await fs.rm(path, { force: true });
    throw e;
  }
}

async function writeOci(store: ImageStore, items: SaveItem[], tar: TarFile): Promise<void> {
  await tar.file('oci-layout', 30, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
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
  await tar.file('index.json', index.length, index);
  await tar.dir('blobs/');
  await tar.dir('blobs/sha256/');
  const seen = new Set<string>();
  for (const it of items) {
    for (const d of [it.target, it.manifest.config, ...it.manifest.layers]) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      const size = await store.blobs.stat(d.digest);
      if (size === undefined) throw invalid(`blob ${d.digest} is missing from the store`);
      await tar.file(`blobs/sha256/${parseDigest(d.digest).hex}`, size, store.blobs.open(d.digest));
    }
  }
}

async function writeDocker(
  store: ImageStore,
  items: SaveItem[],
  tar: TarFile,
  tmpDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const seen = new Set<string>();
  for (const it of items) {
    const cfgName = `${parseDigest(it.manifest.config.digest).hex}.json`;
    if (!seen.has(cfgName)) {
      seen.add(cfgName);
      const cfg = await store.blobs.read(it.manifest.config.digest);
      await tar.file(cfgName, cfg.length, cfg);
    }
    const layers: string[] = [];
    for (const [i, l] of it.manifest.layers.entries()) {
      const diffID = it.config.rootfs.diff_ids[i]!;
      const dir = `${parseDigest(diffID).hex}/`;
      const name = `${dir}layer.tar`;
      layers.push(name);
      if (seen.has(name)) continue;
      seen.add(name);
      await tar.dir(dir);
      if (layerCompression(l.mediaType) === 'none') {
        await tar.file(name, l.size, store.blobs.open(l.digest, { signal }));
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
        await tar.file(name, size, createReadStream(tmp));
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
  await tar.file('manifest.json', manifest.length, manifest);
}

/** What a loaded file became: bytes in memory, or a blob in the store. */
type Loaded = { bytes: Buffer } | { digest: string };

/** Reads an archive (docker-archive or oci-archive, detected by content) into the store. */
export async function loadArchive(
  store: ImageStore,
  source: string | AsyncIterable<Uint8Array>,
  opts: { platform: Platform; name?: string; signal?: AbortSignal },
): Promise<LoadResult> {
  const input = typeof source === 'string' ? createReadStream(source, { signal: opts.signal }) : source;
  const files = new Map<string, Loaded>();
  for await (const entry of readTar(decompress(input, { signal: opts.signal }))) {
    const h = entry.header;
    if (h.type !== 'file') continue;
    const parts = entryComponents(h.name);
    const name = parts.join('/');
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    if (m !== null) {
      const info = await store.blobs.write(entry.body(), { digest: `sha256:${m[1]}`, size: h.size }, opts);
      files.set(name, { digest: info.digest });
    } else if (h.size <= SMALL) {
      const parts_: Buffer[] = [];
      for await (const c of entry.body()) parts_.push(c);
      files.set(name, { bytes: Buffer.concat(parts_) });
    } else {
      const info = await store.blobs.write(entry.body(), { size: h.size }, opts);
      files.set(name, { digest: info.digest });
    }
  }
  const text = async (name: string): Promise<Buffer | undefined> => {
    const f = files.get(name);
    if (f === undefined) return undefined;
    return 'bytes' in f ? f.bytes : store.blobs.read(f.digest);
  };
  const asBlob = async (name: string): Promise<{ digest: string; size: number }> => {
    const f = files.get(name.replace(/^\.\//, ''));
    if (f === undefined) throw invalid(`archive has no file "${name}"`, name);
    if ('bytes' in f) return store.blobs.put(f.bytes);
    return { digest: f.digest, size: (await store.blobs.stat(f.digest))! };
  };
  const dockerManifest = await text('manifest.json');
  if (dockerManifest !== undefined) return loadDocker(store, dockerManifest, text, asBlob);
  const index = await text('index.json');
  if (index === undefined) throw invalid('archive has neither manifest.json (docker) nor index.json (OCI)');
  return registerIndex(store, index, opts);
}

async function loadDocker(
  store: ImageStore,
  manifestJson: Buffer,
  text: (name: string) => Promise<Buffer | undefined>,
  asBlob: (name: string) => Promise<{ digest: string; size: number }>,
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
    const cfgBytes = await text(entryComponents(it.Config).join('/'));
    if (cfgBytes === undefined)
      throw invalid(`manifest.json[${i}]: config "${it.Config}" not in the archive`);
    const config = parseImageConfig(cfgBytes, `config ${it.Config}`);
    if (config.rootfs.diff_ids.length !== it.Layers.length) {
      throw invalid(
        `manifest.json[${i}]: ${it.Layers.length} layers but the config lists ${config.rootfs.diff_ids.length}`,
      );
    }
    const cfg = await store.blobs.put(cfgBytes);
    const layers: Descriptor[] = [];
    for (const l of it.Layers as string[]) {
      const blob = await asBlob(entryComponents(l).join('/'));
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
