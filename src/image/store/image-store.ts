/**
 * The image store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`)
 * whose index.json lists one descriptor per image name. Each entry points at a
 * single-platform manifest and carries the full normalised name in
 * `org.opencontainers.image.ref.name` (and containerd's `io.containerd.image.name`), so
 * `skopeo inspect oci:ROOT:docker.io/library/busybox:latest` and `umoci` read it as is.
 *
 * index.json is changed under a lock file and replaced atomically. Blobs are written
 * before the entry that references them, and garbage collection keeps blobs younger than a
 * grace period, so a pull that is still writing is never collected from under itself.
 */
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { parseDigest } from '../digest.js';
import { privateDir } from '../fs-util.js';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type Descriptor,
  type ImageConfig,
  type Index,
  isIndexType,
  isManifestType,
  type Manifest,
  MediaType,
  type Platform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  sniffMediaType,
} from '../manifest.js';
import { hostPlatform, selectPlatform } from '../platform.js';
import { BlobStore } from './blob-store.js';
import { withLock, writeFileAtomic } from './lock.js';

export const ANNOTATION_REPO_DIGEST = 'io.brig.image.repo-digest';
export const ANNOTATION_STORED = 'io.brig.image.stored';

const MAX_DOCUMENT = 4 << 20;

export interface StoredImage {
  /** Full normalised name (`docker.io/library/busybox:latest`); undefined for a dangling image. */
  name: string | undefined;
  /** The image's manifest. */
  target: Descriptor;
  /** `name@digest` of what the registry served (an index digest for multi-platform images). */
  repoDigest: string | undefined;
  /** When this name was last set (ISO 8601). */
  stored: string | undefined;
}

export interface LoadedImage {
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export interface GcResult {
  removed: string[];
  bytes: number;
}

export class ImageStore {
  readonly root: string;
  readonly blobs: BlobStore;
  private readonly signal: AbortSignal | undefined;
  private readonly indexPath: string;
  private readonly lockPath: string;

  constructor(opts: { root: string; signal?: AbortSignal }) {
    this.root = opts.root;
    this.signal = opts.signal;
    this.blobs = new BlobStore({ root: opts.root });
    this.indexPath = join(opts.root, 'index.json');
    this.lockPath = join(opts.root, 'index.lock');
  }

  /** Creates the layout if it is missing; safe to call every time. */
  async init(): Promise<void> {
    await privateDir(this.root);
    await this.blobs.init();
    await fs
      .writeFile(join(this.root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}', { flag: 'wx' })
      .catch((e) => {
        if (!hasErrno(e, 'EEXIST')) throw e;
      });
    try {
      await fs.writeFile(this.indexPath, serializeIndex({ schemaVersion: 2, manifests: [] }), { flag: 'wx' });
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) throw e;
    }
  }

  private async readIndex(): Promise<Index> {
    let data: Buffer;
    try {
      data = await fs.readFile(this.indexPath);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      throw e;
    }
    return parseIndex(data, this.indexPath);
  }

  private async updateIndex(fn: (index: Index) => Index): Promise<void> {
    await withLock(
      this.lockPath,
      async () => {
        const next = fn(await this.readIndex());
        await writeFileAtomic(this.indexPath, serializeIndex(next));
      },
      { signal: this.signal },
    );
  }

  async list(): Promise<StoredImage[]> {
    return (await this.readIndex()).manifests.map(toStored);
  }

  /** The image stored under a full normalised name. */
  async get(name: string): Promise<StoredImage | undefined> {
    return (await this.list()).find((i) => i.name === name);
  }

  /**
   * Points `name` at a manifest (replacing what it pointed at). With `name` undefined the
   * image is stored without a name (dangling, like `docker load` of an untagged image).
   */
  async setImage(
    name: string | undefined,
    target: Descriptor,
    opts: { repoDigest?: string } = {},
  ): Promise<void> {
    if (!isManifestType(target.mediaType)) {
      throw new BrigError(
        'INVALID_MANIFEST',
        `image ${name ?? target.digest}: ${target.mediaType} is not a manifest`,
      );
    }
    if (!(await this.blobs.has(target.digest))) {
      throw new BrigError(
        'BLOB_NOT_FOUND',
        `image ${name ?? target.digest}: manifest ${target.digest} not stored`,
      );
    }
    const annotations: Record<string, string> = { [ANNOTATION_STORED]: new Date().toISOString() };
    if (name !== undefined) {
      annotations[ANNOTATION_REF_NAME] = name;
      annotations[ANNOTATION_IMAGE_NAME] = name;
    }
    if (opts.repoDigest !== undefined) annotations[ANNOTATION_REPO_DIGEST] = opts.repoDigest;
    const entry: Descriptor = {
      mediaType: target.mediaType,
      digest: target.digest,
      size: target.size,
      annotations,
    };
    if (target.platform !== undefined) entry.platform = target.platform;
    await this.updateIndex((index) => {
      const manifests = index.manifests.filter((d) => {
        const n = d.annotations?.[ANNOTATION_REF_NAME];
        if (name !== undefined) return n !== name;
        // One dangling entry per manifest is enough.
        return !(n === undefined && d.digest === target.digest);
      });
      // A manifest that gains a name is no longer dangling.
      const kept =
        name === undefined
          ? manifests
          : manifests.filter(
              (d) => !(d.digest === target.digest && d.annotations?.[ANNOTATION_REF_NAME] === undefined),
            );
      return { ...index, manifests: [...kept, entry] };
    });
  }

  /** Removes a name. Returns the manifest digest it pointed at, or undefined when absent. */
  async removeName(name: string): Promise<string | undefined> {
    let digest: string | undefined;
    await this.updateIndex((index) => ({
      ...index,
      manifests: index.manifests.filter((d) => {
        if (d.annotations?.[ANNOTATION_REF_NAME] !== name) return true;
        digest = d.digest;
        return false;
      }),
    }));
    return digest;
  }

  /** Removes every entry (named or dangling) that points at a manifest digest. */
  async removeManifest(digest: string): Promise<string[]> {
    const names: string[] = [];
    await this.updateIndex((index) => ({
      ...index,
      manifests: index.manifests.filter((d) => {
        if (d.digest !== digest) return true;
        const n = d.annotations?.[ANNOTATION_REF_NAME];
        if (n !== undefined) names.push(n);
        return false;
      }),
    }));
    return names;
  }

  /** Stores a JSON document (manifest, index, config) and returns its descriptor. */
  async putJson(mediaType: string, value: unknown): Promise<Descriptor> {
    const data = Buffer.from(JSON.stringify(value));
    const { digest, size } = await this.blobs.put(data);
    return { mediaType, digest, size };
  }

  async readManifest(digest: string): Promise<Manifest> {
    return parseManifest(await this.blobs.read(digest, { maxSize: MAX_DOCUMENT }), `manifest ${digest}`);
  }

  async readIndexBlob(digest: string): Promise<Index> {
    return parseIndex(await this.blobs.read(digest, { maxSize: MAX_DOCUMENT }), `index ${digest}`);
  }

  async readConfig(digest: string): Promise<ImageConfig> {
    return parseImageConfig(
      await this.blobs.read(digest, { maxSize: MAX_DOCUMENT }),
      `image config ${digest}`,
    );
  }

  /**
   * Loads a manifest and its config. An index is resolved to the manifest for `platform`
   * (the host's by default) first.
   */
  async load(desc: Descriptor, platform: Platform = hostPlatform()): Promise<LoadedImage> {
    let target = desc;
    if (isIndexType(desc.mediaType)) {
      const index = await this.readIndexBlob(desc.digest);
      target = selectPlatform(index.manifests, platform, `index ${desc.digest}`);
    }
    const manifest = await this.readManifest(target.digest);
    const config = await this.readConfig(manifest.config.digest);
    if (manifest.layers.length !== config.rootfs.diff_ids.length) {
      throw new BrigError(
        'INVALID_MANIFEST',
        `manifest ${target.digest}: ${manifest.layers.length} layers but config lists ${config.rootfs.diff_ids.length} diff_ids`,
        { field: 'rootfs.diff_ids' },
      );
    }
    return { manifestDescriptor: target, manifest, config };
  }

  /** Digests reachable from `roots` (manifests, indexes and what they reference). Missing children are skipped. */
  async reachable(roots: readonly Descriptor[]): Promise<Set<string>> {
    const seen = new Set<string>();
    const walk = async (d: Descriptor): Promise<void> => {
      if (seen.has(d.digest)) return;
      seen.add(d.digest);
      if (!(await this.blobs.has(d.digest))) return;
      let mediaType = d.mediaType;
      if (!isManifestType(mediaType) && !isIndexType(mediaType) && mediaType.endsWith('json')) {
        mediaType = sniffMediaType(await this.blobs.read(d.digest, { maxSize: MAX_DOCUMENT })) ?? mediaType;
      }
      if (isManifestType(mediaType)) {
        const m = await this.readManifest(d.digest);
        seen.add(m.config.digest);
        for (const l of m.layers) seen.add(l.digest);
      } else if (isIndexType(mediaType)) {
        const idx = await this.readIndexBlob(d.digest);
        await Promise.all(idx.manifests.map(walk));
      }
    };
    await Promise.all(roots.map(walk));
    return seen;
  }

  /**
   * Deletes blobs no image references. Blobs younger than `graceMs` are kept: they may
   * belong to a pull or load that has not written its index entry yet. With `only`, just
   * those digests are candidates (what `rmi` removes: the blobs of the image it untagged).
   */
  async gc(
    opts: { graceMs?: number; extraRoots?: Descriptor[]; only?: Iterable<string> } = {},
  ): Promise<GcResult> {
    const grace = opts.graceMs ?? 10 * 60_000;
    return withLock(
      this.lockPath,
      async () => {
        const index = await this.readIndex();
        const live = await this.reachable([...index.manifests, ...(opts.extraRoots ?? [])]);
        const now = Date.now();
        const removed: string[] = [];
        let bytes = 0;
        const candidates = opts.only === undefined ? await this.blobs.list() : [...new Set(opts.only)];
        for (const digest of candidates) {
          if (live.has(digest)) continue;
          const st = await fs.stat(this.blobs.path(digest)).catch(() => undefined);
          if (st === undefined || now - st.mtimeMs < grace) continue;
          if (await this.blobs.delete(digest)) {
            removed.push(digest);
            bytes += st.size;
          }
        }
        await this.blobs.cleanIngest(Math.max(grace, 60 * 60_000), now);
        return { removed, bytes };
      },
      { signal: this.signal },
    );
  }
}

function toStored(d: Descriptor): StoredImage {
  parseDigest(d.digest, 'index.json manifests[].digest');
  const a = d.annotations ?? {};
  return {
    name: a[ANNOTATION_REF_NAME],
    target: {
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      ...(d.platform ? { platform: d.platform } : {}),
    },
    repoDigest: a[ANNOTATION_REPO_DIGEST],
    stored: a[ANNOTATION_STORED],
  };
}

function serializeIndex(index: Index): string {
  return `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index.manifests }, null, 2)}\n`;
}
