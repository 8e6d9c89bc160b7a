/**
 * Layer compression: gzip and zstd by magic number (media types lie often enough that
 * the bytes decide), plain tar otherwise.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'zstd';

export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return 'zstd';
  return 'none';
}

/** Peeks at the first chunk(s) to detect compression, then yields the decompressed stream. */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  opts: { signal?: AbortSignal } = {},
): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    head.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
    headLen += r.value.byteLength;
  }
  const kind = detectCompression(Buffer.concat(head));
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  };
  if (kind === 'none') {
    yield* rest();
    return;
  }
  const z =
    kind === 'gzip' ? createGunzip({ chunkSize: 64 << 10 }) : createZstdDecompress({ chunkSize: 64 << 10 });
  const input = Readable.from(rest(), { objectMode: false, signal: opts.signal });
  // pipeline() destroys both sides on error or when the consumer stops early.
  const out = pipeline(input, z, () => {});
  for await (const chunk of out) yield chunk as Buffer;
}
