/**
 * ImageService: what the engine, the CLI (`brig image ...`) and the API call. Each method
 * returns plain data in docker's shapes (`/images/json`, `/images/{name}/json`,
 * `DELETE /images/{name}`, `/images/{name}/history`), so the renderers and the Docker
 * Engine API only format it.
 *
 * Images live in the ImageStore (an OCI layout); unpacked layers live in the snapshotter
 * as committed snapshots named by chain ID. A container rootfs is an active snapshot on
 * the top chain ID (`prepareRootfs`).
 *
 * An image is named by any of: a reference (`busybox`, `localhost:5000/a:b`,
 * `name@sha256:...`), its ID (the config digest, `sha256:<hex>`), or a unique prefix of
 * the ID's hex (at least 4 characters), as docker accepts.
 */
import * as fs from 'node:fs/promises';
import { BrigError } from '../errors/index.js';
import { currentOwner, formatOwner } from '../util/owner.js';
import {
  type ArchiveFormat,
  importLayout,
  type LoadResult,
  loadArchive,
  archiveStream,
  type SaveItem,
} from './archive.js';
import { chainIDs } from './chain.js';
import { mapLimit } from './concurrency.js';
import { decompress } from './layers/compression.js';
import { createLayer, storeTarStream } from './layers/create.js';
import { readTar } from './layers/tar-reader.js';
import { type FilterMap, Filters, invalidFilter, parseUntil } from '../util/docker-filters.js';
import { type FilterableImage, imageListFilter } from './filters.js';
import { checkFreeDisk, type ImageLimits, LIMIT_ENV, resolveLimits, tooLarge } from './layers/limits.js';
import { unpackLayer } from './layers/unpack.js';
import {
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  isIndexType,
  type Manifest,
  MediaType,
  type Platform,
  parseIndex,
  parseManifest,
} from './manifest.js';
import { hostPlatform, selectPlatform } from './platform.js';
import {
  familiarReference,
  formatReference,
  parseReference,
  type Reference,
  referenceName,
} from './reference.js';
import { type ProgressFn, RegistryClient, type RegistryClientOptions } from './registry/client.js';
import { type Mount, OWNER_LABEL, type Snapshotter } from './snapshot/snapshotter.js';
import { ImageStore, type StoredImage, type Transaction } from './store/image-store.js';

export interface ImageServiceOptions {
  /** The image store directory (an OCI image layout). */
  root: string;
  /** Where layers are unpacked. Without one, images are stored but not unpacked. */
  snapshotter?: Snapshotter;
  /** A client, or options for the one the service creates. */
  registry?: RegistryClient | RegistryClientOptions;
  /** Default platform for pulls (the host's). */
  platform?: Platform;
  /** Bounds on layers, blobs and archives (layers/limits.ts); unset ones take the defaults. */
  limits?: Partial<ImageLimits>;
  /** Parallel blob transfers per pull/push. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** `GET /images/json` item. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: 'layers'; Layers: string[] };
  Metadata: { LastTagTime: string };
  /** brig: the manifest this came from. */
  Descriptor: Descriptor;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export type RemoveItem = { Untagged: string } | { Deleted: string };

export interface PullResult {
  /** Full normalised reference pulled. */
  reference: string;
  id: string;
  /** The digest the registry served for the reference (index digest for multi-platform). */
  digest: string;
  manifestDigest: string;
  platform: Platform;
  /** docker's two outcomes: the name now points at another image, or at the one it had. */
  status: 'downloaded' | 'up-to-date';
}

/** One image: its entries in index.json grouped under its ID. */
export interface ResolvedImage {
  id: string;
  entries: StoredImage[];
  target: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** Why this image's documents cannot be loaded; it can only be listed and removed. */
  broken?: BrigError;
}

/** A container that uses an image: docker's rmi and prune will not take an image from under it. */
export interface ImageUser {
  /** The container's ID. */
  id: string;
  imageId: string;
  /** Running (or paused): its image cannot be deleted even with force. */
  running: boolean;
}

/** One name of an image, as docker's reference store holds it: a tag or a digest. */
interface ImageRef {
  /** Full normalised: `docker.io/library/busybox:latest`, `...@sha256:...`. */
  full: string;
  /** Its repository: `docker.io/library/busybox`. */
  repo: string;
  digest: boolean;
  /** An index entry's name; otherwise the digest a tag was pulled or pushed by. */
  named: boolean;
}

/** docker's isSingleReference: all names in one repository, at most one of them a tag. */
function isSingleReference(refs: readonly ImageRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  return refs.filter((x) => !x.digest).length <= 1 && new Set(refs.map((x) => x.repo)).size === 1;
}

/** A filter's time (until=): docker's timestamps; milliseconds since the epoch. */
function filterTime(value: string): number {
  try {
    return parseUntil(value, Date.now());
  } catch (e) {
    throw invalidFilter((e as Error).message);
  }
}

/** When the image was made, in milliseconds; NaN when its config does not say. */
function createdMs(r: ResolvedImage): number {
  return r.config.created === undefined ? Number.NaN : Date.parse(r.config.created);
}

function unixSeconds(iso: string | undefined): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

function isNameWithDigest(name: string): boolean {
  return name.includes('@');
}

export class ImageService {
  readonly store: ImageStore;
  readonly snapshotter: Snapshotter | undefined;
  readonly registry: RegistryClient;
  private readonly platform: Platform;
  readonly limits: ImageLimits;
  private readonly concurrency: number;
  private readonly signal: AbortSignal | undefined;
  private ready: Promise<void> | undefined;

  constructor(opts: ImageServiceOptions) {
    this.snapshotter = opts.snapshotter;
    const max = opts.snapshotter?.maxLayers;
    this.store = new ImageStore({
      root: opts.root,
      signal: opts.signal,
      check: (img, name) => {
        const n = img.manifest.layers.length;
        if (max !== undefined && n > max) {
          throw new BrigError(
            'LAYER_TOO_LARGE',
            `image ${name ?? img.manifest.config.digest} has ${n} layers; the ${opts.snapshotter!.name} snapshotter stacks at most ${max}`,
            { hint: 'squash the image into fewer layers (e.g. brig export | brig import), or use the copy snapshotter' },
          );
        }
      },
    });
    this.registry =
      opts.registry instanceof RegistryClient ? opts.registry : new RegistryClient(opts.registry);
    this.platform = opts.platform ?? hostPlatform();
    this.limits = resolveLimits(opts.limits);
    this.concurrency = opts.concurrency ?? 4;
    this.signal = opts.signal;
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await this.store.init();
      // A load or pull killed midway left a lease: collect what only it referenced; an
      // unpack killed midway left its work snapshot. Best effort: what cannot be removed
      // now is tried again by the next command, and `image prune` reports it.
      if (await this.store.hasStaleLeases()) await this.store.gc().catch(() => undefined);
      await this.snapshotter?.cleanup().catch(() => undefined);
    })();
    return this.ready;
  }

  // ---------------------------------------------------------------- resolve

  private async resolveAll(): Promise<Map<string, ResolvedImage>> {
    await this.init();
    const byId = new Map<string, ResolvedImage>();
    const entries = await this.store.list();
    const loaded = await Promise.all(entries.map((e) => this.loadEntry(e)));
    entries.forEach((e, i) => {
      const l = loaded[i]!;
      const r = byId.get(l.id);
      if (r === undefined) byId.set(l.id, { ...l, entries: [e] });
      else r.entries.push(e);
    });
    return byId;
  }

  /**
   * One index entry's image. An entry whose documents no longer load (written before the
   * store checked them, or damaged on disk) becomes a `broken` image that can still be
   * listed and removed, so one bad record never stops `images`, `rmi` or `prune`.
   */
  private async loadEntry(e: StoredImage): Promise<Omit<ResolvedImage, 'entries'>> {
    try {
      const l = await this.store.load(e.target, this.platform);
      return { id: l.manifest.config.digest, target: l.manifestDescriptor, manifest: l.manifest, config: l.config };
    } catch (err) {
      const code = (err as BrigError).code;
      if (code !== 'INVALID_MANIFEST' && code !== 'DIGEST_MISMATCH' && code !== 'BLOB_NOT_FOUND') throw err;
      const manifest = isIndexType(e.target.mediaType)
        ? undefined
        : await this.store.readManifest(e.target.digest).catch(() => undefined);
      return {
        id: manifest?.config.digest ?? e.target.digest,
        target: e.target,
        manifest: manifest ?? {
          schemaVersion: 2,
          config: { mediaType: MediaType.OciConfig, digest: e.target.digest, size: 0 },
          layers: [],
        },
        config: { architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } },
        broken: err as BrigError,
      };
    }
  }

  /** The image, refusing a broken one with its load error and how to get rid of it. */
  private usable(r: ResolvedImage): ResolvedImage {
    if (r.broken === undefined) return r;
    const name = this.repoTags(r)[0] ?? r.id;
    throw new BrigError(r.broken.code, `image ${name} cannot be used: ${r.broken.message}`, {
      cause: r.broken,
      hint: `remove it: brig rmi ${name}`,
    });
  }

  /** Finds one image by reference, ID or ID prefix; IMAGE_NOT_FOUND otherwise. */
  async resolve(nameOrId: string): Promise<ResolvedImage> {
    const all = await this.resolveAll();
    const idLike = /^(sha256:)?([a-f0-9]{4,64})$/.exec(nameOrId);
    if (idLike !== null) {
      const hex = idLike[2]!;
      const hits = [...all.values()].filter((r) => r.id.slice(7).startsWith(hex));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) {
        throw new BrigError('INVALID_ARGUMENT', `image ID prefix "${nameOrId}" is ambiguous`, {
          hint: 'give more characters of the ID',
        });
      }
      if (idLike[1] !== undefined || hex.length === 64) throw this.notFound(nameOrId);
    }
    const ref = parseReference(nameOrId);
    const full = formatReference(ref);
    for (const r of all.values()) {
      for (const e of r.entries) {
        if (e.name === full) return r;
        if (ref.digest !== undefined && ref.tag === undefined) {
          const name = referenceName(ref);
          if (e.repoDigest === `${name}@${ref.digest}`) return r;
          if (e.name?.startsWith(`${name}:`) && e.target.digest === ref.digest) return r;
        }
      }
    }
    throw this.notFound(nameOrId);
  }

  /** docker's "No such image: busybox:latest" (a name gets its default tag, an ID stays as given). */
  private notFound(nameOrId: string): BrigError {
    let shown = nameOrId;
    try {
      if (!/^(sha256:)?[a-f0-9]{4,64}$/.test(nameOrId)) shown = familiarReference(parseReference(nameOrId));
    } catch {
      // Not a reference: said as given.
    }
    return new BrigError('IMAGE_NOT_FOUND', `No such image: ${shown}`, {
      hint: `pull it first: brig pull ${nameOrId}`,
    });
  }

  private repoTags(r: ResolvedImage): string[] {
    return r.entries
      .filter((e) => e.name !== undefined && !isNameWithDigest(e.name))
      .map((e) => familiarReference(parseReference(e.name!)));
  }

  /** The image's digests as docker lists them (`name@sha256:...`), those in `only` if given. */
  private repoDigests(r: ResolvedImage, only?: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    for (const e of r.entries) {
      if (e.repoDigest !== undefined && (only === undefined || only.has(e.repoDigest)))
        out.add(familiarReference(parseReference(e.repoDigest, { defaultTag: false })));
      if (e.name !== undefined && isNameWithDigest(e.name) && (only === undefined || only.has(e.name))) {
        const ref = parseReference(e.name);
        out.add(familiarReference({ ...ref, tag: undefined }));
      }
    }
    return [...out];
  }

  private size(r: ResolvedImage): number {
    return r.manifest.layers.reduce((n, l) => n + l.size, r.manifest.config.size);
  }

  // ---------------------------------------------------------------- pull / push

  /**
   * Pulls an image: resolves the reference (and the platform in an index), downloads the
   * config and layers in parallel with digest checks, stores the manifest and names it,
   * then unpacks it into the snapshotter unless `unpack` is false.
   */
  async pull(
    reference: string,
    opts: { platform?: Platform; onProgress?: ProgressFn; unpack?: boolean; signal?: AbortSignal; registry?: RegistryClient } = {},
  ): Promise<PullResult> {
    await this.init();
    return this.store.transaction((tx) => this.pull_(reference, opts, tx));
  }

  private async pull_(
    reference: string,
    opts: { platform?: Platform; onProgress?: ProgressFn; unpack?: boolean; signal?: AbortSignal; registry?: RegistryClient },
    tx: Transaction,
  ): Promise<PullResult> {
    const signal = opts.signal ?? this.signal;
    const registry = opts.registry ?? this.registry;
    const ref = parseReference(reference);
    const platform = opts.platform ?? this.platform;
    // What the name pointed at before: the same image again is "up to date", as docker says.
    const before = await this.store.get(formatReference(ref));
    const oldId = before && (await this.store.readManifest(before.target.digest).then((m) => m.config.digest, () => undefined));
    const top = await registry.getManifest(ref, { signal });
    let manifestBytes = top.bytes;
    let target: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (isIndexType(top.mediaType)) {
      const index = parseIndex(top.bytes, `index ${formatReference(ref)}`);
      const chosen = selectPlatform(index.manifests, platform, `image ${formatReference(ref)}`);
      const m = await registry.getManifest(
        { ...ref, tag: undefined, digest: chosen.digest },
        { signal },
      );
      if (isIndexType(m.mediaType)) {
        throw new BrigError(
          'INVALID_MANIFEST',
          `image ${formatReference(ref)}: nested indexes are not supported`,
        );
      }
      manifestBytes = m.bytes;
      target = {
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.bytes.length,
        platform: chosen.platform ?? platform,
      };
    }
    opts.onProgress?.({
      kind: 'manifest',
      digest: target.digest,
      status: 'done',
      current: target.size,
      total: target.size,
    });
    const manifest = parseManifest(manifestBytes, `manifest ${formatReference(ref)}`);
    const blobs = [manifest.config, ...manifest.layers];
    for (const l of manifest.layers) {
      if (l.urls !== undefined && l.urls.length > 0) {
        // Foreign layers (Windows base images) live outside the registry: not for Linux images.
        throw new BrigError(
          'INVALID_MANIFEST',
          `image ${formatReference(ref)}: layer ${l.digest} is a foreign layer`,
        );
      }
    }
    // Refuse what cannot fit before downloading anything (limits.ts).
    for (const b of blobs) {
      if (b.size > this.limits.maxBlobSize) {
        throw tooLarge(`blob ${b.digest} is ${b.size} bytes, over the limit of ${this.limits.maxBlobSize}`, undefined, LIMIT_ENV.maxBlobSize);
      }
    }
    checkFreeDisk(this.store.blobs.ingestDir, this.limits.minFreeDisk + blobs.reduce((n, b) => n + b.size, 0), `pull ${formatReference(ref)}`);
    // An image the store holds already is not reported layer by layer (docker prints only
    // its digest and "up to date"); a layer it holds is "exists" from the start.
    const held = (await this.resolveAll()).get(manifest.config.digest);
    const onProgress = held !== undefined && held.broken === undefined ? undefined : opts.onProgress;
    for (const b of manifest.layers) {
      const have = (await this.store.blobs.stat(b.digest)) === b.size;
      onProgress?.({ kind: 'blob', digest: b.digest, status: have ? 'exists' : 'waiting', current: have ? b.size : 0, total: b.size });
    }
    await mapLimit(blobs, this.concurrency, (d) =>
      registry.fetchBlob(ref, d, this.store.blobs, { onProgress, signal }),
    );
    const config = await this.store.readConfig(manifest.config.digest);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new BrigError(
        'INVALID_MANIFEST',
        `image ${formatReference(ref)}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
      );
    }
    if (target.platform === undefined) {
      target.platform = { os: config.os, architecture: config.architecture };
      if (config.variant) target.platform.variant = config.variant;
    }
    await this.store.blobs.put(manifestBytes, { digest: target.digest, size: target.size });
    // Unpacked before it is named: a refused layer leaves no tag (and the transaction
    // removes the snapshots and blobs).
    if (opts.unpack !== false && this.snapshotter !== undefined) await this.unpack(manifest, config, signal, tx, onProgress);
    await this.store.setImage(formatReference(ref), target, {
      repoDigest: `${referenceName(ref)}@${top.digest}`,
    });
    return {
      reference: formatReference(ref),
      id: manifest.config.digest,
      digest: top.digest,
      manifestDigest: target.digest,
      platform: target.platform,
      status: oldId === manifest.config.digest ? 'up-to-date' : 'downloaded',
    };
  }

  /** The tags a registry lists for a repository (`pull --all-tags`). */
  async remoteTags(reference: string, opts: { signal?: AbortSignal; registry?: RegistryClient } = {}): Promise<string[]> {
    return (opts.registry ?? this.registry).listTags(parseReference(reference, { defaultTag: false }), opts);
  }

  /**
   * `GET /distribution/{name}/json`: what the registry holds under a reference, without
   * pulling it: the descriptor it serves and the platforms it offers (an index's entries, or
   * a single manifest's config's os and architecture), as docker's distribution router does.
   */
  async distribution(reference: string, opts: { signal?: AbortSignal; registry?: RegistryClient } = {}): Promise<{ Descriptor: Descriptor; Platforms: Platform[] }> {
    const registry = opts.registry ?? this.registry;
    const ref = parseReference(reference);
    const top = await registry.getManifest(ref, opts);
    const Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (isIndexType(top.mediaType)) {
      const index = parseIndex(top.bytes, `index ${formatReference(ref)}`);
      return { Descriptor, Platforms: index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) };
    }
    const manifest = parseManifest(top.bytes, `manifest ${formatReference(ref)}`);
    const config = JSON.parse((await registry.getBlob(ref, manifest.config, opts)).toString('utf8')) as { os?: unknown; architecture?: unknown; variant?: unknown };
    if (typeof config.os !== 'string' || typeof config.architecture !== 'string') {
      throw new BrigError('INVALID_MANIFEST', `image ${formatReference(ref)}: its config names no os and architecture`);
    }
    return { Descriptor, Platforms: [{ architecture: config.architecture, os: config.os, ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}) }] };
  }

  /**
   * Pushes a local image to `destination` (default: its own name). Blobs go in parallel;
   * a blob the registry has under the image's source repository is mounted, not uploaded.
   */
  async push(
    source: string,
    opts: {
      destination?: string;
      onProgress?: ProgressFn;
      /** Told once, before any blob moves: the layers to push (the config is not one) and where mounts come from. */
      onStart?: (layers: string[], mountFrom: string | undefined) => void;
      chunkSize?: number;
      signal?: AbortSignal;
      registry?: RegistryClient;
    } = {},
  ): Promise<{ reference: string; digest: string; size: number }> {
    const registry = opts.registry ?? this.registry;
    const r = this.usable(await this.resolve(source));
    const dest = parseReference(opts.destination ?? source);
    const mountFrom = r.entries
      .map((e) =>
        e.repoDigest === undefined ? undefined : parseReference(e.repoDigest, { defaultTag: false }),
      )
      .find((x): x is Reference => x !== undefined && x.registry === dest.registry)?.repository;
    opts.onStart?.(r.manifest.layers.map((l) => l.digest), mountFrom);
    const blobs = [r.manifest.config, ...r.manifest.layers];
    await mapLimit(blobs, this.concurrency, (d) =>
      registry.pushBlob(dest, d, () => this.store.blobs.open(d.digest, { signal: opts.signal }), {
        mountFrom,
        chunkSize: opts.chunkSize,
        onProgress: opts.onProgress,
      }),
    );
    const bytes = await this.store.blobs.read(r.target.digest);
    const digest = await registry.putManifest(dest, bytes, r.target.mediaType);
    await this.store.setImage(formatReference(dest), r.target, {
      repoDigest: `${referenceName(dest)}@${digest}`,
    });
    return { reference: formatReference(dest), digest, size: bytes.length };
  }

  // ---------------------------------------------------------------- unpack / rootfs

  /** Unpacks an image's layers into committed snapshots named by chain ID (skipping those present). */
  async unpack(
    manifest: Manifest,
    config: ImageConfig,
    signal = this.signal,
    tx?: Transaction,
    onProgress?: ProgressFn,
  ): Promise<string[]> {
    const s = this.snapshotter;
    if (s === undefined) throw new BrigError('INTERNAL', 'no snapshotter configured');
    const chain = chainIDs(config.rootfs.diff_ids);
    const committed: string[] = [];
    tx?.onRollback(() => this.removeSnapshots(committed));
    const existing = new Set((await s.list()).filter((i) => i.kind === 'committed').map((i) => i.key));
    for (let i = 0; i < chain.length; i++) {
      const id = chain[i]!;
      if (existing.has(id)) continue;
      const key = `extract-${Math.random().toString(36).slice(2, 10)}-${id}`;
      // Owned by this process: if it is killed, the next command's cleanup removes it.
      await s.prepare(key, i === 0 ? undefined : chain[i - 1], {
        labels: { [OWNER_LABEL]: formatOwner(currentOwner()) },
      });
      const layer = manifest.layers[i]!;
      const progress = (status: 'extracting' | 'extracted') =>
        onProgress?.({ kind: 'blob', digest: layer.digest, status, current: status === 'extracted' ? layer.size : 0, total: layer.size });
      try {
        const t = await s.applyTarget(key);
        progress('extracting');
        await unpackLayer(this.store.blobs.open(layer.digest, { signal }), t.dir, {
          ...this.limits,
          whiteouts: t.whiteouts,
          diffID: config.rootfs.diff_ids[i],
          signal,
        });
        await s.commit(id, key);
        committed.push(id);
        progress('extracted');
      } catch (e) {
        try {
          await s.remove(key);
        } catch (r) {
          if ((r as BrigError).code !== 'SNAPSHOT_NOT_FOUND') {
            throw new BrigError((e as BrigError).code ?? 'INTERNAL', `${(e as Error).message}; removing the work snapshot ${key} failed too: ${(r as Error).message}`, { cause: e });
          }
        }
        // Another pull committed the same layer first: theirs is as good as ours.
        if ((e as BrigError).code === 'SNAPSHOT_EXISTS') {
          progress('extracted');
          continue;
        }
        throw e;
      }
    }
    return chain;
  }

  /**
   * A container rootfs: an active snapshot `key` on top of the image (unpacking it first
   * if needed). Returns the mounts to perform and the image config to build the runtime
   * config from.
   */
  async prepareRootfs(
    nameOrId: string,
    key: string,
  ): Promise<{ mounts: Mount[]; config: ImageConfig; id: string }> {
    const r = this.usable(await this.resolve(nameOrId));
    const chain = await this.unpack(r.manifest, r.config);
    const mounts = await this.snapshotter!.prepare(key, chain[chain.length - 1], {
      labels: { 'brig.image': r.id },
    });
    return { mounts, config: r.config, id: r.id };
  }

  // ---------------------------------------------------------------- queries

  /**
   * `GET /images/json`: every image, newest first, narrowed by docker's filters —
   * `dangling` (true: no tag; false: some name), `label`, `before`/`since` (an image, by
   * its creation time), `until` (a time), `reference` (globs; only matching names are
   * listed, and an image with none is left out): see filters.ts. `users` counts each
   * image's containers; `extra` are images kept outside the store (the engine's built-in
   * one), filtered the same way.
   */
  async list(
    opts: { filters?: FilterMap; users?: readonly ImageUser[]; extra?: readonly { image: FilterableImage; summary: ImageSummary }[]; sharedSize?: boolean } = {},
  ): Promise<ImageSummary[]> {
    const f = new Filters(opts.filters);
    f.validate(['dangling', 'label', 'before', 'since', 'until', 'reference']);
    const times: { before?: number; since?: number } = {};
    for (const v of f.get('before')) times.before = Math.min(times.before ?? Number.POSITIVE_INFINITY, createdMs(await this.resolve(v)));
    for (const v of f.get('until')) times.before = Math.min(times.before ?? Number.POSITIVE_INFINITY, filterTime(v));
    for (const v of f.get('since')) times.since = Math.max(times.since ?? Number.NEGATIVE_INFINITY, createdMs(await this.resolve(v)));
    const keep = imageListFilter(f, times, (full) => {
      const ref = parseReference(full, { defaultTag: false });
      return { familiar: familiarReference(ref), familiarName: familiarReference({ ...ref, tag: undefined, digest: undefined }) };
    });
    const out: ImageSummary[] = [];
    const all = await this.resolveAll();
    // docker's shared-size: the bytes of this image's layers that another image uses too.
    const layerUse = new Map<string, number>();
    if (opts.sharedSize) for (const r of all.values()) for (const l of new Set(r.manifest.layers.map((x) => x.digest))) layerUse.set(l, (layerUse.get(l) ?? 0) + 1);
    const shared = (r: ResolvedImage) => (opts.sharedSize ? r.manifest.layers.filter((l) => (layerUse.get(l.digest) ?? 0) > 1).reduce((n, l) => n + l.size, 0) : -1);
    for (const x of opts.extra ?? []) {
      const names = keep(x.image);
      if (names !== undefined) out.push(x.summary);
    }
    for (const r of all.values()) {
      const refs = this.refs(r);
      const names = keep({ created: createdMs(r), labels: r.config.config?.Labels ?? {}, names: refs });
      if (names === undefined) continue;
      const shown = new Set(names.map((n) => n.full));
      out.push({
        Id: r.id,
        ParentId: '',
        RepoTags: refs.filter((x) => !x.digest && shown.has(x.full)).map((x) => familiarReference(parseReference(x.full))),
        RepoDigests: this.repoDigests(r, shown),
        Created: unixSeconds(r.config.created),
        Size: this.size(r),
        SharedSize: shared(r),
        Labels: r.config.config?.Labels ?? {},
        Containers: opts.users === undefined ? -1 : opts.users.filter((u) => u.imageId === r.id).length,
      });
    }
    return out.sort((a, b) => b.Created - a.Created);
  }

  async inspect(nameOrId: string): Promise<ImageInspect> {
    const r = this.usable(await this.resolve(nameOrId));
    const c = r.config;
    const stored = r.entries
      .map((e) => e.stored)
      .filter((x): x is string => x !== undefined)
      .sort();
    const out: ImageInspect = {
      Id: r.id,
      RepoTags: this.repoTags(r),
      RepoDigests: this.repoDigests(r),
      Parent: '',
      Comment: c.history?.[c.history.length - 1]?.comment ?? '',
      Created: c.created ?? '',
      DockerVersion: '',
      Author: c.author ?? '',
      Config: c.config ?? {},
      Architecture: c.architecture,
      Os: c.os,
      Size: this.size(r),
      GraphDriver: { Name: this.snapshotter?.name ?? 'none', Data: null },
      RootFS: { Type: 'layers', Layers: [...c.rootfs.diff_ids] },
      Metadata: { LastTagTime: stored[stored.length - 1] ?? '' },
      Descriptor: r.target,
    };
    if (c.variant) out.Variant = c.variant;
    return out;
  }

  async history(nameOrId: string): Promise<HistoryItem[]> {
    const r = this.usable(await this.resolve(nameOrId));
    const hist: HistoryEntry[] = r.config.history ?? r.manifest.layers.map(() => ({}));
    let layer = 0;
    const items = hist.map((h) => {
      const size = h.empty_layer ? 0 : (r.manifest.layers[layer++]?.size ?? 0);
      return {
        Id: '<missing>',
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? '',
        Tags: null as string[] | null,
        Size: size,
        Comment: h.comment ?? '',
      };
    });
    items.reverse();
    if (items[0] !== undefined) {
      items[0].Id = r.id;
      items[0].Tags = this.repoTags(r);
    }
    return items;
  }

  // ---------------------------------------------------------------- names

  async tag(source: string, target: string): Promise<void> {
    const r = this.usable(await this.resolve(source));
    const ref = parseReference(target);
    if (ref.digest !== undefined) {
      throw new BrigError('INVALID_REFERENCE', `cannot tag with a digest: "${target}"`, { field: 'target' });
    }
    await this.store.setImage(formatReference(ref), r.target);
  }

  /** The image's names as docker's reference store holds them: tags, and digests (named or pulled by). */
  private refs(r: ResolvedImage): ImageRef[] {
    const out = new Map<string, ImageRef>();
    const add = (full: string, named: boolean) => {
      if (out.has(full)) return;
      const ref = parseReference(full, { defaultTag: false });
      out.set(full, { full, repo: referenceName(ref), digest: ref.digest !== undefined, named });
    };
    for (const e of r.entries) if (e.name !== undefined) add(e.name, true);
    for (const e of r.entries) if (e.repoDigest !== undefined) add(e.repoDigest, false);
    return [...out.values()];
  }

  private async untag(x: ImageRef): Promise<RemoveItem> {
    if (x.named) await this.store.removeName(x.full);
    else await this.store.dropRepoDigest(x.full);
    return { Untagged: familiarReference(parseReference(x.full, { defaultTag: false })) };
  }

  /**
   * `rmi` with docker's rules (daemon/images/image_delete.go), given the containers that use
   * images:
   *
   *   - by name: the name goes (and, with the last tag of a repository, its digests). Without
   *     force that is refused while a container uses the image and the name is its only one
   *     ("unable to remove repository reference ... (must force)"). When no name is left the
   *     image is deleted, unless a running container uses it: then (only with force) it stays,
   *     nameless, as docker keeps it.
   *   - by ID: the image is deleted with all its names. A running container's image "cannot be
   *     forced"; without force also an image with names in several repositories, or one a
   *     stopped container uses, is refused ("must be forced").
   *
   * Deleting removes the image's snapshots no other image or container builds on (reported
   * as `Deleted: <chain ID>`, as docker reports its layers), its index entries and its blobs.
   */
  async remove(nameOrId: string, opts: { force?: boolean; users?: readonly ImageUser[] } = {}): Promise<RemoveItem[]> {
    return (await this.remove_(nameOrId, opts)).items;
  }

  private async remove_(nameOrId: string, opts: { force?: boolean; users?: readonly ImageUser[] }): Promise<{ items: RemoveItem[]; bytes: number }> {
    const r = await this.resolve(nameOrId);
    const force = opts.force === true;
    const users = (opts.users ?? []).filter((u) => u.imageId === r.id);
    const refs = this.refs(r);
    const short = r.id.slice(7, 19);
    const byId = /^(sha256:)?[a-f0-9]{4,64}$/.test(nameOrId) && r.id.slice(7).startsWith(nameOrId.replace(/^sha256:/, ''));
    if (!byId) {
      const full = formatReference(parseReference(nameOrId));
      const target = refs.find((x) => x.full === full);
      if (target === undefined) throw this.notFound(nameOrId);
      if (!force && users[0] !== undefined && isSingleReference(refs)) {
        throw new BrigError(
          'IMAGE_IN_USE',
          `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${users[0].id.slice(0, 12)} is using its referenced image ${short}`,
          { hint: 'remove the container first, or untag anyway with -f' },
        );
      }
      // A tag takes its repository's digests with it when it was the repository's last tag.
      const gone = [target];
      if (!target.digest && !refs.some((x) => x !== target && !x.digest && x.repo === target.repo)) {
        gone.push(...refs.filter((x) => x.digest && x.repo === target.repo && x !== target));
      }
      const left = refs.filter((x) => !gone.includes(x));
      if (left.length > 0 || users.some((u) => u.running || !force)) {
        // Still named, or a container runs it: only the names go (a used image stays nameless).
        if (left.length === 0) await this.store.setImage(undefined, r.target);
        const items: RemoveItem[] = [];
        for (const x of gone) items.push(await this.untag(x));
        return { items, bytes: 0 };
      }
      return this.deleteImage(r, gone);
    }
    const conflict = (hard: boolean, why: string, hint: string) =>
      new BrigError('IMAGE_IN_USE', `conflict: unable to delete ${short} (${hard ? 'cannot be forced' : 'must be forced'}) - ${why}`, { hint });
    const running = users.find((u) => u.running);
    if (running) {
      throw conflict(true, `image is being used by running container ${running.id.slice(0, 12)}`, 'stop and remove the container first (brig rm -f)');
    }
    if (!force && refs.length > 0 && !isSingleReference(refs)) {
      throw conflict(false, 'image is referenced in multiple repositories', 'remove it by name, or all its names at once with -f');
    }
    const stopped = users[0];
    if (!force && stopped) {
      throw conflict(false, `image is being used by stopped container ${stopped.id.slice(0, 12)}`, 'remove the container first (brig rm), or delete the image anyway with -f');
    }
    return this.deleteImage(r, refs);
  }

  /**
   * Deletes an image: its snapshots first (if that fails the image is still there to remove
   * again, nothing orphaned), then its names (`untag`), its index entries and its blobs.
   * Returns docker's records and the bytes freed.
   */
  private async deleteImage(r: ResolvedImage, untag: ImageRef[]): Promise<{ items: RemoveItem[]; bytes: number }> {
    const snaps = await this.removeSnapshots(chainIDs(r.config.rootfs.diff_ids), r.id);
    const items: RemoveItem[] = [];
    for (const x of untag) items.push(await this.untag(x));
    for (const e of r.entries) await this.store.removeManifest(e.target.digest);
    await this.store.removeManifest(r.target.digest);
    const gc = await this.store.gc({
      graceMs: 0,
      only: [r.target.digest, r.manifest.config.digest, ...r.manifest.layers.map((l) => l.digest)],
    });
    items.push({ Deleted: r.id }, ...snaps.removed.map((id) => ({ Deleted: id })));
    return { items, bytes: snaps.bytes + gc.bytes };
  }

  /**
   * Removes the chain's snapshots from the top down, stopping at one still in use by an
   * image (other than `except`, the one being removed) or a container. Returns the chain IDs
   * removed and the bytes they held.
   */
  private async removeSnapshots(chain: string[], except?: string): Promise<{ removed: string[]; bytes: number }> {
    const out = { removed: [] as string[], bytes: 0 };
    const s = this.snapshotter;
    if (s === undefined) return out;
    const still = new Set<string>();
    for (const r of (await this.resolveAll()).values())
      if (r.id !== except) for (const c of chainIDs(r.config.rootfs.diff_ids)) still.add(c);
    for (const id of [...chain].reverse()) {
      if (still.has(id)) break;
      try {
        const used = (await s.usage(id)).own.size;
        await s.remove(id);
        out.removed.push(id);
        out.bytes += used;
      } catch (e) {
        const code = (e as BrigError).code;
        if (code === 'SNAPSHOT_NOT_FOUND') continue;
        if (code === 'SNAPSHOT_INVALID') break; // a container or another image builds on it
        throw e;
      }
    }
    return out;
  }

  /**
   * `image prune` (POST /images/prune): removes dangling images — without a tag, what docker
   * calls dangling — or with `dangling=false` every image, skipping those a container uses
   * and those the filters leave out (`until`, `label`, `label!`). Each goes as `rmi` would
   * take it. Then the blobs and snapshots no image references. SpaceReclaimed is what was
   * freed: the blobs' sizes and the snapshot trees' as docker counts a layer (usage.ts).
   */
  async prune(opts: { filters?: FilterMap; users?: readonly ImageUser[]; graceMs?: number } = {}): Promise<{
    ImagesDeleted: RemoveItem[];
    SpaceReclaimed: number;
  }> {
    const f = new Filters(opts.filters);
    f.validate(['dangling', 'label', 'label!', 'until']);
    const danglingOnly = f.bool('dangling', true);
    const untilValues = f.get('until');
    if (untilValues.length > 1) throw invalidFilter('more than one until filter specified');
    const until = untilValues[0] === undefined ? undefined : filterTime(untilValues[0]);
    const used = new Set((opts.users ?? []).map((u) => u.imageId));
    const deleted: RemoveItem[] = [];
    let bytes = 0;
    await this.init();
    await this.snapshotter?.cleanup();
    for (const r of (await this.resolveAll()).values()) {
      if (used.has(r.id)) continue;
      if (until !== undefined && !(createdMs(r) <= until)) continue;
      const labels = r.config.config?.Labels ?? {};
      if (!f.matchKVList('label', labels)) continue;
      if (f.contains('label!') && f.matchKVList('label!', labels)) continue;
      const refs = this.refs(r);
      if (danglingOnly && refs.some((x) => !x.digest)) continue;
      for (const name of refs.length > 0 ? refs.map((x) => x.full) : [r.id]) {
        try {
          const done = await this.remove_(name, { users: opts.users ?? [] });
          deleted.push(...done.items);
          bytes += done.bytes;
        } catch (e) {
          // Taken meanwhile, or named elsewhere (docker skips conflicts).
          const code = (e as BrigError).code;
          if (code !== 'IMAGE_IN_USE' && code !== 'IMAGE_NOT_FOUND') throw e;
        }
      }
    }
    // What earlier removals or killed operations left.
    bytes += (await this.store.gc({ graceMs: opts.graceMs })).bytes;
    if (this.snapshotter !== undefined) {
      const live = new Set<string>();
      for (const r of (await this.resolveAll()).values())
        for (const c of chainIDs(r.config.rootfs.diff_ids)) live.add(c);
      const snaps = (await this.snapshotter.list()).filter((i) => i.kind === 'committed' && !live.has(i.key));
      for (const sn of snaps.reverse()) {
        const size = await this.snapshotter.usage(sn.key).then((u) => u.own.size, () => 0);
        await this.snapshotter.remove(sn.key).then(
          () => {
            bytes += size;
          },
          (e: BrigError) => {
            if (e.code !== 'SNAPSHOT_INVALID' && e.code !== 'SNAPSHOT_NOT_FOUND') throw e;
          },
        );
      }
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: bytes };
  }

  // ---------------------------------------------------------------- archives

  /**
   * `image save` (GET /images/get): the images as a tar in docker-archive or oci-archive
   * format, streamed. Every name is resolved before the first byte, so a missing image fails
   * with nothing written. A name saves that name; an ID saves the image with all its names.
   */
  async saveStream(
    namesOrIds: string[],
    opts: { format?: ArchiveFormat; signal?: AbortSignal } = {},
  ): Promise<AsyncIterable<Buffer>> {
    const items = new Map<string, SaveItem>();
    for (const n of namesOrIds) {
      const r = this.usable(await this.resolve(n));
      const item = items.get(r.id) ?? { names: [], target: r.target, manifest: r.manifest, config: r.config };
      const asName = /^(sha256:)?[a-f0-9]{4,64}$/.test(n) ? undefined : formatReference(parseReference(n));
      const names =
        asName !== undefined
          ? [asName]
          : r.entries.map((e) => e.name).filter((x): x is string => x !== undefined);
      for (const x of names) if (!item.names.includes(x)) item.names.push(x);
      items.set(r.id, item);
    }
    return archiveStream(this.store, [...items.values()], opts.format ?? 'docker-archive', {
      signal: opts.signal ?? this.signal,
    });
  }

  /** `saveStream` into a new file at `path` (which must not exist), removed again on failure. */
  async save(
    namesOrIds: string[],
    path: string,
    opts: { format?: ArchiveFormat; signal?: AbortSignal } = {},
  ): Promise<void> {
    const tar = await this.saveStream(namesOrIds, opts);
    const fh = await fs.open(path, 'wx', 0o644);
    try {
      try {
        for await (const c of tar) await fh.write(c);
      } finally {
        await fh.close();
      }
    } catch (e) {
      await fs.rm(path, { force: true });
      throw e;
    }
  }

  /**
   * `image load`: reads a docker-archive or oci-archive (plain or compressed). `name`
   * names images whose archive entry carries only a tag or nothing.
   */
  async load(
    source: string | AsyncIterable<Uint8Array>,
    opts: { name?: string; signal?: AbortSignal } = {},
  ): Promise<LoadResult> {
    await this.init();
    return this.store.transaction(() =>
      loadArchive(this.store, source, {
        limits: this.limits,
        platform: this.platform,
        name: opts.name,
        signal: opts.signal ?? this.signal,
      }),
    );
  }

  /** Imports from an OCI image layout directory (`skopeo copy ... oci:DIR`). */
  async importLayout(dir: string, opts: { name?: string; signal?: AbortSignal } = {}): Promise<LoadResult> {
    await this.init();
    return this.store.transaction(() =>
      importLayout(this.store, dir, {
        platform: this.platform,
        name: opts.name,
        signal: opts.signal ?? this.signal,
      }),
    );
  }

  // ---------------------------------------------------------------- commit

  /**
   * `commit`: the changes in a container's rootfs snapshot (its overlay upper dir, with
   * whiteouts for deletions) become a new layer on top of the image it was prepared from.
   */
  async commit(
    key: string,
    opts: { reference?: string; changes?: ContainerConfig; comment?: string; author?: string; exclude?: ReadonlySet<string> } = {},
  ): Promise<{ id: string; reference: string | undefined }> {
    const s = this.snapshotter;
    if (s === undefined) throw new BrigError('INTERNAL', 'no snapshotter configured');
    const info = await s.stat(key);
    const upper = await s.upperDir(key);
    if (upper === undefined) {
      throw new BrigError(
        'UNSUPPORTED_FIELD',
        `commit of snapshot "${key}" needs the overlayfs snapshotter`,
        {
          hint: 'the copy snapshotter keeps no record of what changed',
        },
      );
    }
    const base = [...(await this.resolveAll()).values()].find(
      (r) => r.broken === undefined && chainIDs(r.config.rootfs.diff_ids).at(-1) === info.parent,
    );
    if (base === undefined) {
      throw new BrigError('IMAGE_NOT_FOUND', `the image snapshot "${key}" was prepared from is gone`);
    }
    return this.store.transaction(() => this.commit_(base, upper, opts));
  }

  private async commit_(
    base: ResolvedImage,
    upper: string,
    opts: { reference?: string; changes?: ContainerConfig; comment?: string; author?: string; exclude?: ReadonlySet<string> },
  ): Promise<{ id: string; reference: string | undefined }> {
    const layer = await createLayer(upper, this.store.blobs, { overlayDiff: true, signal: this.signal, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
    const created = new Date().toISOString();
    const config: ImageConfig = {
      ...base.config,
      created,
      config: { ...base.config.config, ...opts.changes },
      rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, layer.diffID] },
      history: [
        ...(base.config.history ?? []),
        { created, created_by: 'brig commit', ...(opts.comment ? { comment: opts.comment } : {}) },
      ],
    };
    if (opts.author !== undefined) config.author = opts.author;
    const target = await this.storeImage(config, [
      ...base.manifest.layers,
      { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
    ]);
    const name = opts.reference === undefined ? undefined : formatReference(parseReference(opts.reference));
    await this.store.setImage(name, target.manifest);
    return { id: target.id, reference: name };
  }

  // ---------------------------------------------------------------- import

  /**
   * `image import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer image.
   * `changes` sets the container config (Cmd, Env, ...), as `--change` does.
   */
  async import(
    source: string | AsyncIterable<Uint8Array>,
    opts: { reference?: string; changes?: ContainerConfig; message?: string; platform?: Platform } = {},
  ): Promise<{ id: string; reference: string | undefined }> {
    await this.init();
    return this.store.transaction(() => this.import_(source, opts));
  }

  private async import_(
    source: string | AsyncIterable<Uint8Array>,
    opts: { reference?: string; changes?: ContainerConfig; message?: string; platform?: Platform },
  ): Promise<{ id: string; reference: string | undefined }> {
    const input = typeof source === 'string' ? (await fs.open(source)).createReadStream() : source;
    const layer = await storeTarStream(decompress(input, { signal: this.signal }), this.store.blobs, {
      signal: this.signal,
    });
    // A tarball is what import takes (docker: "invalid tar header"): read the stored layer
    // through once, bounded, before it becomes an image; a failure rolls the blob back.
    try {
      for await (const entry of readTar(decompress(this.store.blobs.open(layer.digest, { signal: this.signal })), {
        maxEntries: this.limits.maxEntries,
        maxBytes: this.limits.maxLayerSize,
      })) {
        for await (const _ of entry.body());
      }
    } catch (e) {
      if ((e as BrigError).code !== 'INVALID_TAR') throw e;
      throw new BrigError('INVALID_TAR', `Error processing tar file: ${(e as Error).message}`, { cause: e, hint: 'import takes a tar archive of a filesystem (plain, gzip or zstd)' });
    }
    const platform = opts.platform ?? this.platform;
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      config: opts.changes ?? {},
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created, created_by: 'brig import', ...(opts.message ? { comment: opts.message } : {}) }],
    };
    if (platform.variant) config.variant = platform.variant;
    const name = opts.reference === undefined ? undefined : formatReference(parseReference(opts.reference));
    const target = await this.storeImage(config, [
      { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
    ]);
    await this.store.setImage(name, target.manifest);
    return { id: target.id, reference: name };
  }

  /** Stores a config and an OCI manifest for it (not named yet); returns the manifest descriptor and image ID. */
  async storeImage(config: ImageConfig, layers: Descriptor[]): Promise<{ manifest: Descriptor; id: string }> {
    await this.init();
    const cfg = await this.store.putJson(MediaType.OciConfig, config);
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers };
    const desc = await this.store.putJson(MediaType.OciManifest, manifest);
    desc.platform = { os: config.os, architecture: config.architecture };
    if (config.variant) desc.platform.variant = config.variant;
    return { manifest: desc, id: cfg.digest };
  }
}
