/**
 * Snapshotters: how image layers become a container's root filesystem.
 *
 * This follows containerd's model (core/snapshots/snapshotter.go). A snapshot is a
 * directory tree in one of three kinds:
 *
 *   - **committed**: immutable. It is what one layer (applied on top of its parent) looks
 *     like. Committed snapshots are named by the layer's *chain ID*, so images that share
 *     a base share its snapshots.
 *   - **active**: writable, created with `prepare(key, parent)`. Unpacking a layer means:
 *     prepare an active snapshot on the previous layer's committed one, apply the tar to
 *     it, then `commit(chainID, key)`, which turns it into a committed snapshot. A
 *     container's rootfs is also an active snapshot, prepared on the image's top layer and
 *     never committed (or committed by `brig commit`, after creating a layer from it).
 *   - **view**: a read-only active snapshot (`view(key, parent)`), e.g. to read an image's
 *     /etc/passwd without a container.
 *
 * A snapshotter never mounts anything itself. `prepare`, `view` and `mounts` return mount
 * descriptions `{ type, source, options }` — exactly what mount(8) or the runtime's
 * config.json `mounts`/`root` need — and whoever runs the container performs them (the
 * runtime helper, in the container's mount namespace). That keeps snapshotters free of
 * privileges, lets the same description be used by a rootless or remote runtime, and makes
 * them testable without root. Writing into a snapshot while preparing it (unpacking a
 * layer) goes through `applyTarget`, which names the directory that receives the layer and
 * how whiteouts must be written there.
 *
 * Parents form a chain: a snapshot can be removed only when no other snapshot names it as
 * its parent, so removing an image's snapshots goes from the top layer down.
 *
 * Implementations: `OverlaySnapshotter` (one directory per layer, stacked by overlayfs at
 * mount time, so preparing is O(1)) and `CopySnapshotter` (each snapshot is a full copy of
 * its parent: slower and larger, but works where overlayfs does not — some rootless
 * setups, overlay-on-overlay, old kernels). Both pass one conformance suite
 * (tests/integration/image/snapshotter-suite.ts).
 */

export type SnapshotKind = 'committed' | 'active' | 'view';

/**
 * Label of a work snapshot (an unpack's `extract-...`) naming the process that owns it as
 * `<pid>-<starttime>` (store/lock.ts): once that process is gone, `cleanup` removes it.
 */
export const OWNER_LABEL = 'io.brig.owner';

/** One mount, as mount(8) takes it: `mount -t TYPE -o OPTIONS SOURCE TARGET`. */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export interface SnapshotInfo {
  /** The key of an active/view snapshot, or the name of a committed one. */
  key: string;
  kind: SnapshotKind;
  parent: string | undefined;
  /** ISO 8601. */
  created: string;
  labels: Record<string, string>;
}

/** Bytes and inodes a snapshot holds on disk (see usage.ts for how they are counted). */
export interface SnapshotUsage {
  size: number;
  inodes: number;
}

export interface ApplyTarget {
  /** The directory that receives a layer's entries. */
  dir: string;
  /** How `.wh.` entries are written there (see layers/unpack.ts). */
  whiteouts: 'remove' | 'overlay';
}

export interface Snapshotter {
  /** `overlayfs` or `copy`: recorded with images and shown by `brig info`. */
  readonly name: string;

  /**
   * The deepest layer stack it can mount (overlayfs: 500 lower layers), or undefined when
   * there is no limit. The image store refuses deeper images at the door.
   */
  readonly maxLayers?: number;

  /** Info about a snapshot; SNAPSHOT_NOT_FOUND when there is none. */
  stat(key: string): Promise<SnapshotInfo>;

  /** Every snapshot, parents before children. */
  list(): Promise<SnapshotInfo[]>;

  /** A writable snapshot on top of a committed `parent` (or empty). Returns its mounts. */
  prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;

  /** A read-only snapshot of a committed `parent`. Returns its mounts. */
  view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;

  /** The mounts of an active or view snapshot. */
  mounts(key: string): Promise<Mount[]>;

  /** Turns the active snapshot `key` into the committed snapshot `name`. */
  commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void>;

  /** Removes a snapshot that is no snapshot's parent. */
  remove(key: string): Promise<void>;

  /**
   * Removes what failed or killed operations left: active snapshots whose OWNER_LABEL
   * process is gone, and the data of removed snapshots whose deletion did not finish.
   */
  cleanup(): Promise<void>;

  /** Where to unpack a layer into the active snapshot `key`. */
  applyTarget(key: string): Promise<ApplyTarget>;

  /**
   * The directory holding what was written into an active snapshot on top of its parent
   * (an overlay upper dir), or undefined when the snapshotter keeps only full copies.
   * `brig commit` makes a layer from it.
   */
  upperDir(key: string): Promise<string | undefined>;

  /**
   * What an active or committed snapshot holds on disk, walked without following a symlink
   * (docker's SizeRw and SizeRootFs come from here): `own`, what it adds to its parents (an
   * overlay upper dir; with the copy snapshotter a whole copy, which shares nothing), and
   * `total`, what a mount of it shows: its own and every parent's (overlay), or the copy.
   */
  usage(key: string): Promise<{ own: SnapshotUsage; total: SnapshotUsage }>;
}
