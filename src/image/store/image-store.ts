/**
 * The image store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`)
 * whose index.json lists one descriptor per image name. Each entry points at a
 * single-platform manifest and carries the full normalised name in
 * `org.opencontainers.image.ref.name` (and containerd's `io.containerd.image.name`), so
 * `skopeo inspect oci:ROOT:docker.io/library/busybox:latest` and `umoci` read it as is.
 *
 * index.json is changed under a lock file and replaced atomically, and only by `setImage`,
 * which first loads what it names. Blobs are written before the entry that references them;
 * garbage collection keeps blobs a live transaction's lease holds, and others younger than a
 * grace period, so a pull that is still writing is never collected from under itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { currentOwner, formatOwner, type Owner, ownerAlive, parseOwner } from '../../util/owner.js';
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
import { BlobStore, blobWrites } from './blob-store.js';
import { withLock, writeFileAtomic } from './lock.js';

export const ANNOTATION_REPO_DIGEST = 'io.brig.image.repo-digest';
export const ANNOTATION_STORED = 'io.brig.image.stored';

/** The largest manifest, index or config the store reads (and so accepts). */
export const MAX_DOCUMENT = 4 << 20;

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

/** A store change that must all happen or not at all (see `ImageStore.transaction`). */
export interface Transaction {
  /** Runs when the transaction fails, last registered first, before its blobs are removed. */
  onRollback(undo: () => Promise<unknown>): void;
}

interface TxState extends Transaction {
  lease: string;
  digests: Set<string>;
  /** index.json changes to revert: the entry added and the entries it replaced. */
  entries: { added: Descriptor; replaced: Descriptor[] }[];
  undo: (() => Promise<unknown>)[];
}

const transactions = new AsyncLocalStorage<TxState>();

export interface GcResult {
  removed: string[];
  /** The removed blobs' bytes. */
  bytes: number;
}

export class ImageStore {
  readonly root: string;
  readonly blobs: BlobStore;
  private readonly signal: AbortSignal | undefined;
  private readonly indexPath: string;
  private readonly lockPath: string;

  private readonly check: ((image: LoadedImage, name: string | undefined) => void) | undefined;
  private readonly leaseDir: string;

  /**
   * `check` is asked about every image before it gets an index entry (and may throw): what
   * the store holds must be usable by whoever reads it, e.g. no deeper than the snapshotter
   * can stack.
   */
  constructor(opts: {
    root: string;
    signal?: AbortSignal;
    check?: (image: LoadedImage, name: string | undefined) => void;
  }) {
    this.root = opts.root;
    this.signal = opts.signal;
    this.check = opts.check;
    this.leaseDir = join(opts.root, 'leases');
    this.blobs = new BlobStore({ root: opts.root });
    this.indexPath = join(opts.root, 'index.json');
    this.lockPath = join(opts.root, 'index.lock');
  }

  /** Creates the layout if it is missing; safe to call every time. */
  async init(): Promise<void> {
    await privateDir(this.root);
    await this.blobs.init();
    await fs.mkdir(this.leaseDir, { mode: 0o700 }).catch((e) => {
      if (!hasErrno(e, 'EEXIST')) throw e;
    });
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
    // The door: an entry is written only for an image every reader can load (documents under
    // MAX_DOCUMENT, layers matching diff_ids, the caller's check), so one bad image cannot
    // make listing or removal fail for the whole store.
    this.check?.(await this.load(target), name);
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
    const tx = transactions.getStore();
    await this.updateIndex((index) => {
      const replaced: Descriptor[] = [];
      const kept = index.manifests.filter((d) => {
        const n = d.annotations?.[ANNOTATION_REF_NAME];
        const drop =
          name !== undefined
            ? // The name moves; a manifest that gains a name is no longer dangling.
              n === name || (n === undefined && d.digest === target.digest)
            : // One dangling entry per manifest is enough.
              n === undefined && d.digest === target.digest;
        if (drop) replaced.push(d);
        return !drop;
      });
      tx?.entries.push({ added: entry, replaced });
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

  /** Forgets a digest a name was pulled or pushed by (`rmi repo@sha256:...`); the names stay. */
  async dropRepoDigest(repoDigest: string): Promise<void> {
    await this.updateIndex((index) => ({
      ...index,
      manifests: index.manifests.map((d) => {
        if (d.annotations?.[ANNOTATION_REPO_DIGEST] !== repoDigest) return d;
        const { [ANNOTATION_REPO_DIGEST]: _, ...annotations } = d.annotations;
        return { ...d, annotations };
      }),
    }));
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

  /**
   * Runs `fn` as one all-or-nothing change (a load, a pull): if it throws, the index entries
   * it set are reverted, its `onRollback` steps run (snapshots it unpacked), and the blobs it
   * wrote that nothing else references are deleted at once. Blobs are recorded in a lease
   * file (`leases/<pid>-<starttime>-<rand>`) before they become visible: while the owner
   * lives, garbage collection keeps them; once it is gone (kill -9), the next `gc` deletes
   * the unreferenced ones without waiting for the grace period. A transaction within a
   * transaction joins the outer one.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const outer = transactions.getStore();
    if (outer !== undefined) return fn(outer);
    await this.init();
    const owner = currentOwner();
    const lease = join(this.leaseDir, `${formatOwner(owner)}-${randomBytes(4).toString('hex')}`);
    await fs.writeFile(lease, '', { flag: 'wx', mode: 0o600 });
    const tx: TxState = {
      lease,
      digests: new Set(),
      entries: [],
      undo: [],
      onRollback: (u) => void tx.undo.push(u),
    };
    const record = async (digest: string): Promise<void> => {
      if (tx.digests.has(digest)) return;
      tx.digests.add(digest);
      await fs.appendFile(lease, `${digest}\n`);
    };
    try {
      const out = await transactions.run(tx, () => blobWrites.run(record, () => fn(tx)));
      await fs.rm(lease, { force: true });
      return out;
    } catch (e) {
      await this.rollback(tx).catch((err: unknown) => {
        // The lease stays: the next gc finishes what this could not.
        (e as { rollbackError?: unknown }).rollbackError = err;
      });
      throw e;
    }
  }

  private async rollback(tx: TxState): Promise<void> {
    if (tx.entries.length > 0) {
      await this.updateIndex((index) => {
        let manifests = index.manifests;
        for (const { added, replaced } of [...tx.entries].reverse()) {
          manifests = [...manifests.filter((d) => d !== added && !sameEntry(d, added)), ...replaced];
        }
        return { ...index, manifests };
      });
    }
    for (const u of [...tx.undo].reverse()) await u();
    await fs.rm(tx.lease, { force: true });
    await this.gc({ graceMs: 0, only: tx.digests });
  }

  /** The store's leases: who holds each, and the digests it recorded. */
  private async leases(): Promise<{ path: string; live: boolean; digests: string[] }[]> {
    const names = await fs.readdir(this.leaseDir).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    const out: { path: string; live: boolean; digests: string[] }[] = [];
    for (const n of names) {
      const path = join(this.leaseDir, n);
      const owner: Owner | undefined = parseOwner(n);
      const text = await fs.readFile(path, 'utf8').catch(() => '');
      const digests = text.split('\n').filter((l) => /^sha256:[a-f0-9]{64}$/.test(l));
      out.push({ path, live: owner !== undefined && ownerAlive(owner), digests });
    }
    return out;
  }

  /** Whether a killed load or pull left a lease for `gc` to clear (cheap: one readdir). */
  async hasStaleLeases(): Promise<boolean> {
    return (await this.leases()).some((l) => !l.live);
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
        const bytes = await this.blobs.read(d.digest, { maxSize: MAX_DOCUMENT }).catch(unreadable);
        if (bytes === undefined) return;
        mediaType = sniffMediaType(bytes) ?? mediaType;
      }
      // A document no reader accepts (over MAX_DOCUMENT, corrupt) is a leaf: its image can
      // never be used, and it must not stop collection for the rest of the store.
      if (isManifestType(mediaType)) {
        const m = await this.readManifest(d.digest).catch(unreadable);
        if (m === undefined) return;
        seen.add(m.config.digest);
        for (const l of m.layers) seen.add(l.digest);
      } else if (isIndexType(mediaType)) {
        const idx = await this.readIndexBlob(d.digest).catch(unreadable);
        if (idx !== undefined) await Promise.all(idx.manifests.map(walk));
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
        // A live lease's blobs belong to a load or pull still running; a dead one's to one
        // that was killed: those are garbage now, whatever their age.
        const leases = await this.leases();
        const orphaned = new Set<string>();
        for (const l of leases) for (const d of l.digests) (l.live ? live : orphaned).add(d);
        const now = Date.now();
        const removed: string[] = [];
        let bytes = 0;
        const candidates = new Set(opts.only ?? (await this.blobs.list()));
        for (const d of orphaned) candidates.add(d);
        for (const digest of candidates) {
          if (live.has(digest)) continue;
          const st = await fs.stat(this.blobs.path(digest)).catch(() => undefined);
          if (st === undefined || (now - st.mtimeMs < grace && !orphaned.has(digest))) continue;
          if (await this.blobs.delete(digest)) {
            removed.push(digest);
            bytes += st.size;
          }
        }
        for (const l of leases) if (!l.live) await fs.rm(l.path, { force: true });
        await this.blobs.cleanIngest(Math.max(grace, 60 * 60_000), now);
        return { removed, bytes };
      },
      { signal: this.signal },
    );
  }
}

function unreadable(e: unknown): undefined {
  const code = (e as BrigError).code;
  if (code === 'INVALID_MANIFEST' || code === 'DIGEST_MISMATCH' || code === 'BLOB_NOT_FOUND') return undefined;
  throw e;
}

/** Two index entries for the same name and manifest, set at the same time. */
function sameEntry(a: Descriptor, b: Descriptor): boolean {
  const x = a.annotations ?? {};
  const y = b.annotations ?? {};
  return (
    a.digest === b.digest &&
    x[ANNOTATION_REF_NAME] === y[ANNOTATION_REF_NAME] &&
    x[ANNOTATION_STORED] === y[ANNOTATION_STORED]
  );
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
