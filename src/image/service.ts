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
  type SaveItem,
  saveArchive,
} from './archive.js';
import { chainIDs } from './chain.js';
import { mapLimit } from './concurrency.js';
import { decompress } from './layers/compression.js';
import { createLayer, storeTarStream } from './layers/create.js';
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

  private notFound(nameOrId: string): BrigError {
    return new BrigError('IMAGE_NOT_FOUND', `no such image: ${nameOrId}`, {
      hint: `pull it first: brig pull ${nameOrId}`,
    });
  }

  private repoTags(r: ResolvedImage): string[] {
    return r.entries
      .filter((e) => e.name !== undefined && !isNameWithDigest(e.name))
      .map((e) => familiarReference(parseReference(e.name!)));
  }

  private repoDigests(r: ResolvedImage): string[] {
    const out = new Set<string>();
    for (const e of r.entries) {
      if (e.repoDigest !== undefined)
        out.add(familiarReference(parseReference(e.repoDigest, { defaultTag: false })));
      if (e.name !== undefined && isNameWithDigest(e.name)) {
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
    opts: { platform?: Platform; onProgress?: ProgressFn; unpack?: boolean; signal?: AbortSignal } = {},
  ): Promise<PullResult> {
    await this.init();
    return this.store.transaction((tx) => this.pull_(reference, opts, tx));
  }

  private async pull_(
    reference: string,
    opts: { platform?: Platform; onProgress?: ProgressFn; unpack?: boolean; signal?: AbortSignal },
    tx: Transaction,
  ): Promise<PullResult> {
    const signal = opts.signal ?? this.signal;
    const ref = parseReference(reference);
    const platform = opts.platform ?? this.platform;
    const top = await this.registry.getManifest(ref, { signal });
    let manifestBytes = top.bytes;
    let target: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (isIndexType(top.mediaType)) {
      const index = parseIndex(top.bytes, `index ${formatReference(ref)}`);
      const chosen = selectPlatform(index.manifests, platform, `image ${formatReference(ref)}`);
      const m = await this.registry.getManifest(
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
    for (const b of manifest.layers) {
      opts.onProgress?.({ kind: 'blob', digest: b.digest, status: 'waiting', current: 0, total: b.size });
    }
    await mapLimit(blobs, this.concurrency, (d) =>
      this.registry.fetchBlob(ref, d, this.store.blobs, { onProgress: opts.onProgress, signal }),
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
    if (opts.unpack !== false && this.snapshotter !== undefined) await this.unpack(manifest, config, signal, tx);
    await this.store.setImage(formatReference(ref), target, {
      repoDigest: `${referenceName(ref)}@${top.digest}`,
    });
    return {
      reference: formatReference(ref),
      id: manifest.config.digest,
      digest: top.digest,
      manifestDigest: target.digest,
      platform: target.platform,
    };
  }

  /**
   * Pushes a local image to `destination` (default: its own name). Blobs go in parallel;
   * a blob the registry has under the image's source repository is mounted, not uploaded.
   */
  async push(
    source: string,
    opts: { destination?: string; onProgress?: ProgressFn; chunkSize?: number; signal?: AbortSignal } = {},
  ): Promise<{ reference: string; digest: string; size: number }> {
    const r = this.usable(await this.resolve(source));
    const dest = parseReference(opts.destination ?? source);
    const mountFrom = r.entries
      .map((e) =>
        e.repoDigest === undefined ? undefined : parseReference(e.repoDigest, { defaultTag: false }),
      )
      .find((x): x is Reference => x !== undefined && x.registry === dest.registry)?.repository;
    const blobs = [r.manifest.config, ...r.manifest.layers];
    await mapLimit(blobs, this.concurrency, (d) =>
      this.registry.pushBlob(dest, d, () => this.store.blobs.open(d.digest, { signal: opts.signal }), {
        mountFrom,
        chunkSize: opts.chunkSize,
        onProgress: opts.onProgress,
      }),
    );
    const bytes = await this.store.blobs.read(r.target.digest);
    const digest = await this.registry.putManifest(dest, bytes, r.target.mediaType);
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
      try {
        const t = await s.applyTarget(key);
        const layer = manifest.layers[i]!;
        await unpackLayer(this.store.blobs.open(layer.digest, { signal }), t.dir, {
          ...this.limits,
          whiteouts: t.whiteouts,
          diffID: config.rootfs.diff_ids[i],
          signal,
        });
        await s.commit(id, key);
        committed.push(id);
      } catch (e) {
        try {
          await s.remove(key);
        } catch (r) {
          if ((r as BrigError).code !== 'SNAPSHOT_NOT_FOUND') {
            throw new BrigError((e as BrigError).code ?? 'INTERNAL', `${(e as Error).message}; removing the work snapshot ${key} failed too: ${(r as Error).message}`, { cause: e });
          }
        }
        // Another pull committed the same layer first: theirs is as good as ours.
        if ((e as BrigError).code === 'SNAPSHOT_EXISTS') continue;
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

  async list(opts: { dangling?: boolean; reference?: string } = {}): Promise<ImageSummary[]> {
    const all = [...(await this.resolveAll()).values()];
    let want: string | undefined;
    if (opts.reference !== undefined)
      want = referenceName(parseReference(opts.reference, { defaultTag: false }));
    return all
      .filter((r) => {
        const tags = this.repoTags(r);
        if (opts.dangling === true && tags.length > 0) return false;
        if (opts.dangling === false && tags.length === 0) return false;
        if (
          want !== undefined &&
          !r.entries.some((e) => e.name?.startsWith(`${want}:`) || e.name?.startsWith(`${want}@`))
        ) {
          return false;
        }
        return true;
      })
      .map((r) => ({
        Id: r.id,
        ParentId: '',
        RepoTags: this.repoTags(r),
        RepoDigests: this.repoDigests(r),
        Created: unixSeconds(r.config.created),
        Size: this.size(r),
        SharedSize: -1,
        Labels: r.config.config?.Labels ?? {},
        Containers: -1,
      }))
      .sort((a, b) => b.Created - a.Created);
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

  /**
   * `rmi`: untags a name; when no name is left (or the image was named by ID), deletes
   * the image, its unshared blobs and its unshared snapshots. An ID with several names
   * needs `force`, as in docker.
   */
  async remove(nameOrId: string, opts: { force?: boolean; prune?: boolean } = {}): Promise<RemoveItem[]> {
    const r = await this.resolve(nameOrId);
    const out: RemoveItem[] = [];
    const byId =
      /^(sha256:)?[a-f0-9]{4,64}$/.test(nameOrId) &&
      r.id.slice(7).startsWith(nameOrId.replace(/^sha256:/, ''));
    const named = r.entries.filter((e) => e.name !== undefined);
    if (byId && named.length > 1 && !opts.force) {
      throw new BrigError('IMAGE_IN_USE', `image ${r.id.slice(7, 19)} is referenced in multiple repositories`, {
        hint: 'remove it by name, or force removal',
      });
    }
    const full = byId ? undefined : formatReference(parseReference(nameOrId));
    const entry = byId ? undefined : (r.entries.find((e) => e.name === full) ?? named[0]);
    const untag = byId ? named : entry?.name !== undefined ? [entry] : [];
    const deleting = byId || !r.entries.some((e) => e !== entry && e.name !== undefined);
    // The data goes before the records that lead to it: if removing a snapshot fails, the
    // image is still there to remove again (and nothing is orphaned).
    if (deleting && opts.prune !== false) await this.removeSnapshots(chainIDs(r.config.rootfs.diff_ids), r.id);
    for (const e of untag) {
      await this.store.removeName(e.name!);
      out.push({ Untagged: familiarReference(parseReference(e.name!)) });
    }
    if (!deleting) return out;
    for (const e of r.entries) await this.store.removeManifest(e.target.digest);
    await this.store.removeManifest(r.target.digest);
    if (opts.prune !== false) {
      await this.store.gc({
        graceMs: 0,
        only: [r.target.digest, r.manifest.config.digest, ...r.manifest.layers.map((l) => l.digest)],
      });
    }
    out.push({ Deleted: r.id });
    return out;
  }

  /**
   * Removes the chain's snapshots from the top down, stopping at one still in use by an
   * image (other than `except`, the one being removed) or a container.
   */
  private async removeSnapshots(chain: string[], except?: string): Promise<void> {
    const s = this.snapshotter;
    if (s === undefined) return;
    const still = new Set<string>();
    for (const r of (await this.resolveAll()).values())
      if (r.id !== except) for (const c of chainIDs(r.config.rootfs.diff_ids)) still.add(c);
    for (const id of [...chain].reverse()) {
      if (still.has(id)) break;
      try {
        await s.remove(id);
      } catch (e) {
        const code = (e as BrigError).code;
        if (code === 'SNAPSHOT_NOT_FOUND') continue;
        if (code === 'SNAPSHOT_INVALID') break; // a container or another image builds on it
        throw e;
      }
    }
  }

  /**
   * `image prune`: removes dangling images (all unused ones with `all`, given the IDs
   * containers use), then unreferenced blobs and snapshots.
   */
  async prune(opts: { all?: boolean; inUse?: ReadonlySet<string>; graceMs?: number } = {}): Promise<{
    ImagesDeleted: RemoveItem[];
    SpaceReclaimed: number;
  }> {
    const deleted: RemoveItem[] = [];
    await this.init();
    await this.snapshotter?.cleanup();
    for (const r of (await this.resolveAll()).values()) {
      if (opts.inUse?.has(r.id)) continue;
      const dangling = this.repoTags(r).length === 0;
      if (!dangling && !opts.all) continue;
      deleted.push(...(await this.remove(r.id, { force: true, prune: false })));
    }
    const gc = await this.store.gc({ graceMs: opts.graceMs });
    if (this.snapshotter !== undefined) {
      const live = new Set<string>();
      for (const r of (await this.resolveAll()).values())
        for (const c of chainIDs(r.config.rootfs.diff_ids)) live.add(c);
      const snaps = (await this.snapshotter.list()).filter((i) => i.kind === 'committed' && !live.has(i.key));
      for (const sn of snaps.reverse()) {
        await this.snapshotter.remove(sn.key).catch((e: BrigError) => {
          if (e.code !== 'SNAPSHOT_INVALID' && e.code !== 'SNAPSHOT_NOT_FOUND') throw e;
        });
      }
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: gc.bytes };
  }

  // ---------------------------------------------------------------- archives

  /**
   * `image save`: writes images to a tar at `path` (which must not exist) in
   * docker-archive or oci-archive format. A name saves that name; an ID saves the image
   * with all its names.
   */
  async save(
    namesOrIds: string[],
    path: string,
    opts: { format?: ArchiveFormat; signal?: AbortSignal } = {},
  ): Promise<void> {
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
    await saveArchive(this.store, [...items.values()], path, opts.format ?? 'docker-archive', {
      signal: opts.signal ?? this.signal,
    });
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
