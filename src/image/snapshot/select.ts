/**
 * Which snapshotter a host gets by default: overlayfs when the kernel has it, brig runs
 * as root (overlay whiteouts are 0:0 devices and trusted.* xattrs) and the attr tools are
 * there; the copy snapshotter otherwise. `brig info` reports the choice and the reason.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { findTool } from '../layers/host-tools.js';
import { CopySnapshotter } from './copy.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter } from './snapshotter.js';

export interface SnapshotterChoice {
  snapshotter: Snapshotter;
  /** Why overlayfs was not chosen, when it was not. */
  reason: string | undefined;
}

export function overlayUnavailable(): string | undefined {
  let fss = '';
  try {
    fss = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    return '/proc/filesystems is not readable';
  }
  if (!/\toverlay$/m.test(fss)) return 'the kernel has no overlay filesystem';
  if (userInfo().uid !== 0) return 'overlay whiteouts need root';
  if (findTool('setfattr') === undefined) return 'setfattr is not installed (apt-get install attr)';
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
