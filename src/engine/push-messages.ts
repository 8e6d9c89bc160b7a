/**
 * A push's progress as docker's daemon words it (distribution/push_v2.go, xfer/upload.go),
 * from the image service's events: the JSON messages POST /images/{name}/push streams and
 * the CLI prints.
 *
 *   The push refers to repository [127.0.0.1:5000/team/app]
 *   a1b2c3d4e5f6: Preparing            each layer, the top one first
 *   a1b2c3d4e5f6: Pushing              with progressDetail (a terminal draws a bar)
 *   a1b2c3d4e5f6: Pushed               or "Layer already exists", "Mounted from team/base"
 *   1: digest: sha256:... size: 527    the caller's, once the manifest is in (with aux)
 *
 * The config blob has no line, as in docker. docker names a layer by its DiffID; brig by the
 * digest it pushes (the compressed blob's), the same digest its pull lines show.
 */
import type { ProgressEvent } from '../image/index.js';
import type { Reference } from '../image/reference.js';
import type { JSONMessage } from './engine.js';

export function pushMessages(ref: Reference, emit: (m: JSONMessage) => void): { start(layers: string[], mountFrom: string | undefined): void; progress(e: ProgressEvent): void } {
  let layers = new Set<string>();
  let from: string | undefined;
  const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  return {
    start(digests, mountFrom) {
      layers = new Set(digests);
      from = mountFrom;
      emit({ status: `The push refers to repository [${ref.registry}/${ref.repository}]` });
      for (const d of [...digests].reverse()) emit({ status: 'Preparing', progressDetail: {}, id: short(d) });
    },
    progress(e) {
      if (e.kind !== 'blob' || !layers.has(e.digest)) return;
      const id = short(e.digest);
      switch (e.status) {
        case 'uploading':
          emit({ status: 'Pushing', progressDetail: { current: e.current, total: e.total }, id });
          return;
        case 'done':
          emit({ status: 'Pushed', progressDetail: {}, id });
          return;
        case 'exists':
          emit({ status: 'Layer already exists', progressDetail: {}, id });
          return;
        case 'mounted':
          emit({ status: `Mounted from ${from ?? ref.repository}`, progressDetail: {}, id });
          return;
        case 'retrying':
          emit({ status: `Retrying (${e.reason ?? 'transfer failed'})`, progressDetail: {}, id });
          return;
        default:
          return;
      }
    },
  };
}

/**
 * docker's last push messages: the line "TAG: digest: DIGEST size: N", then the same for
 * programs as an aux-only message (push_v2.go sends two; docker's CLI prints no aux message).
 */
export function pushedMessages(tag: string, digest: string, size: number): JSONMessage[] {
  return [{ status: `${tag}: digest: ${digest} size: ${size}` }, { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } }];
}
