/**
 * The overlayfs snapshotter: each snapshot is one directory (`fs`, plus `work` for active
 * ones). An active snapshot mounts as overlay with its parents as lowerdirs (nearest
 * first) and its own `fs` as upperdir, so preparing costs nothing and layers are shared.
 * Each layer is its own `lowerdir+=` option (kernel 6.8+), never one `lowerdir=a:b:c`
 * string: mount(2) cuts that at a page without an error (src/engine/rootfs-mount.ts).
 * Layers are unpacked straight into the upper dir with overlay whiteouts (0:0 devices,
 * `trusted.overlay.opaque`), which needs root; rootless hosts use the copy snapshotter.
 */
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { DirSnapshotter } from './dir-snapshotter.js';
import type { ApplyTarget, Mount, SnapshotKind } from './snapshotter.js';

export class OverlaySnapshotter extends DirSnapshotter {
  readonly name = 'overlayfs';
  protected readonly stacked = true;
  /** The kernel's OVL_MAX_STACK: lower layers one overlay mount takes. */
  readonly maxLayers = 500;

  protected async create(id: number, kind: SnapshotKind): Promise<void> {
    // snapshots/<id> is root-only like the rest of the store; fs is the container's "/".
    await fs.mkdir(this.dir(id), { mode: 0o700 });
    await fs.mkdir(this.fsDir(id), { mode: 0o755 });
    if (kind === 'active') await fs.mkdir(join(this.dir(id), 'work'), { mode: 0o700 });
  }

  protected mountsFor(id: number, kind: SnapshotKind, chain: number[]): Mount[] {
    const lower = chain.map((p) => this.fsDir(p));
    if (kind === 'view') {
      if (lower.length === 0) return [{ type: 'bind', source: this.fsDir(id), options: ['rbind', 'ro'] }];
      if (lower.length === 1) return [{ type: 'bind', source: lower[0]!, options: ['rbind', 'ro'] }];
      return [{ type: 'overlay', source: 'overlay', options: lower.map((l) => `lowerdir+=${l}`) }];
    }
    if (lower.length === 0) return [{ type: 'bind', source: this.fsDir(id), options: ['rbind', 'rw'] }];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        options: [
          `workdir=${join(this.dir(id), 'work')}`,
          `upperdir=${this.fsDir(id)}`,
          ...lower.map((l) => `lowerdir+=${l}`),
        ],
      },
    ];
  }

  async applyTarget(key: string): Promise<ApplyTarget> {
    const r = await this.active(key);
    return { dir: this.fsDir(r.id), whiteouts: 'overlay' };
  }

  async upperDir(key: string): Promise<string | undefined> {
    const r = await this.active(key);
    return this.fsDir(r.id);
  }
}
