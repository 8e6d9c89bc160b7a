/**
 * Which snapshotter a host gets by default: overlayfs when the kernel has it and brig runs
 * as root (overlay whiteouts are 0:0 devices and trusted.* xattrs); the copy snapshotter
 * otherwise. `brig info` reports the choice and the reason. No host tool is asked for: the
 * layer applier makes whiteouts and sets xattrs itself (native/layerops), so a host without
 * Debian's `attr` no longer falls back to copying every image for every container.
 */

import { userInfo } from 'node:os';
import { CopySnapshotter } from './copy.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter } from './snapshotter.js';
import { readTextSync } from '../../util/read-text.js';

export interface SnapshotterChoice {
  snapshotter: Snapshotter;
  /** Why overlayfs was not chosen, when it was not. */
  reason: string | undefined;
}

/** Why overlayfs cannot be used here, or undefined; the host facts can be given (tests). */
export function overlayUnavailable(host: { filesystems?: string; uid?: number } = {}): string | undefined {
  let fss = host.filesystems;
  if (fss === undefined) {
    try {
      fss = readTextSync('/proc/filesystems');
    } catch {
      return '/proc/filesystems is not readable';
    }
  }
  if (!/\toverlay$/m.test(fss)) return 'the kernel has no overlay filesystem';
  if ((host.uid ?? userInfo().uid) !== 0) return 'overlay whiteouts need root';
  return undefined;
}

export function defaultSnapshotter(opts: { root: string; signal?: AbortSignal }): SnapshotterChoice {
  const reason = overlayUnavailable();
  if (reason === undefined) {
    return {
      snapshotter: new OverlaySnapshotter({ root: `${opts.root}/overlayfs`, signal: opts.signal }),
      reason,
    };
  }
  return { snapshotter: new CopySnapshotter({ root: `${opts.root}/copy`, signal: opts.signal }), reason };
}
