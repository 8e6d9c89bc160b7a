/**
 * The copy snapshotter, for hosts without a usable overlayfs: an active snapshot starts as
 * a full copy of its parent (`cp -a --reflink=auto`, so copy-on-write filesystems share
 * the blocks) and mounts as a plain bind mount. Layers are applied onto that copy with
 * whiteouts deleting lower content. A view binds the parent read-only without copying.
 */
import * as fs from 'node:fs/promises';
import { BrigError } from '../../errors/index.js';
import { findTool } from '../layers/host-tools.js';
import { DirSnapshotter } from './dir-snapshotter.js';
import type { ApplyTarget, Mount, SnapshotKind } from './snapshotter.js';
import { execFileAsync } from '../../util/builtins.js';


export class CopySnapshotter extends DirSnapshotter {
  readonly name = 'copy';
  protected readonly stacked = false;

  protected async create(id: number, kind: SnapshotKind, chain: number[]): Promise<void> {
    // snapshots/<id> is root-only like the rest of the store; fs is the container's "/".
    await fs.mkdir(this.dir(id), { mode: 0o700 });
    await fs.mkdir(this.fsDir(id), { mode: 0o755 });
    if (kind !== 'active' || chain.length === 0) return;
    const cp = findTool('cp');
    if (cp === undefined)
      throw new BrigError('TOOL_MISSING', 'cp is not installed', { hint: 'apt-get install coreutils' });
    try {
      await execFileAsync(cp, ['-a', '--reflink=auto', `${this.fsDir(chain[0]!)}/.`, `${this.fsDir(id)}/`], {
        signal: this.signal,
      });
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
      throw new BrigError('SYSTEM', `copying snapshot ${chain[0]} failed: ${stderr}`, { cause: e });
    }
  }

  protected mountsFor(id: number, kind: SnapshotKind, chain: number[]): Mount[] {
    if (kind === 'view') {
      return [{ type: 'bind', source: this.fsDir(chain[0] ?? id), options: ['rbind', 'ro'] }];
    }
    return [{ type: 'bind', source: this.fsDir(id), options: ['rbind', 'rw'] }];
  }

  async applyTarget(key: string): Promise<ApplyTarget> {
    const r = await this.active(key);
    return { dir: this.fsDir(r.id), whiteouts: 'remove' };
  }

  async upperDir(key: string): Promise<string | undefined> {
    await this.active(key);
    return undefined;
  }
}
