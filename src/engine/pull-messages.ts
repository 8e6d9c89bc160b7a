/**
 * A pull's progress as docker's daemon words it (distribution/pull_v2.go, xfer/download.go),
 * from the image service's events: the JSON messages POST /images/create streams and the
 * CLI prints.
 *
 *   1: Pulling from team/app           once the manifest is in (id: the tag, or the full
 *                                      reference when pulled by digest)
 *   a1b2c3d4e5f6: Pulling fs layer     each layer to download; a held one is "Already exists"
 *   a1b2c3d4e5f6: Downloading          with progressDetail (a terminal draws a bar)
 *   a1b2c3d4e5f6: Verifying Checksum
 *   a1b2c3d4e5f6: Download complete
 *   a1b2c3d4e5f6: Extracting           with progressDetail
 *   a1b2c3d4e5f6: Pull complete
 *
 * The config blob has no line, as in docker. "Digest:" and "Status:" come from the caller,
 * which knows when the pull (or every tag of it) is done.
 */
import type { ProgressEvent } from '../image/index.js';
import { formatReference, type Reference } from '../image/reference.js';
import type { JSONMessage } from './engine.js';

export function pullMessages(ref: Reference, emit: (m: JSONMessage) => void): (e: ProgressEvent) => void {
  const tagOrDigest = ref.digest !== undefined ? formatReference(ref) : (ref.tag ?? 'latest');
  // Layers seen, and whether each was already held: only those get lines.
  const layers = new Map<string, 'fetching' | 'held'>();
  let started = false;
  return (e) => {
    if (e.kind === 'manifest') {
      if (!started) emit({ status: `Pulling from ${ref.repository}`, id: tagOrDigest });
      started = true;
      return;
    }
    const id = e.digest.replace(/^sha256:/, '').slice(0, 12);
    const state = layers.get(e.digest);
    if (state === undefined) {
      // A layer is announced before any transfer (waiting or exists); anything else is the config.
      if (e.status === 'waiting') {
        layers.set(e.digest, 'fetching');
        emit({ status: 'Pulling fs layer', progressDetail: {}, id });
      } else if (e.status === 'exists') {
        layers.set(e.digest, 'held');
        emit({ status: 'Already exists', progressDetail: {}, id });
      }
      return;
    }
    const detail = { current: e.current, total: e.total };
    switch (e.status) {
      case 'downloading':
      case 'resuming':
        emit({ status: 'Downloading', progressDetail: detail, id });
        return;
      case 'retrying':
        emit({ status: `Retrying (${e.reason ?? 'transfer failed'})`, progressDetail: {}, id });
        return;
      case 'done':
        emit({ status: 'Verifying Checksum', progressDetail: {}, id });
        emit({ status: 'Download complete', progressDetail: {}, id });
        return;
      case 'extracting':
        emit({ status: 'Extracting', progressDetail: detail, id });
        return;
      case 'extracted':
        emit({ status: 'Pull complete', progressDetail: {}, id });
        return;
      default:
        // "exists" again from the transfer itself: said once already.
        return;
    }
  };
}
