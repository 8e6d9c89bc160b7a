/**
 * docker's stdio streams on the wire: raw bytes for a container or exec with a tty, else
 * frames of [stream 0 0 0 len(be32)] data (1 stdout, 2 stderr; 0 stdin for none here), the
 * same framing brig's monitor uses on its attach socket. From API 1.42 the non-tty stream
 * says so in its Content-Type.
 */
import type { Readable, Writable } from 'node:stream';
import { versionAtLeast } from './router.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

export function streamType(tty: boolean, version: string): string {
  return !tty && versionAtLeast(version, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

/**
 * Copies `from` into `to` as `wrap` makes each chunk, slowing `from` while `to` is full (a
 * slow client holds the container's output back, as docker's does, instead of the server
 * buffering it); resolves when `from` ends or is gone.
 */
export function copyStream(from: Readable, to: Writable, wrap: (d: Buffer) => Buffer | undefined = (d) => d): Promise<void> {
  return new Promise((resolve) => {
    const onDrain = () => from.resume();
    from.on('data', (d: Buffer) => {
      const out = wrap(d);
      if (out && out.length && !to.destroyed && !to.write(out)) {
        from.pause();
        to.once('drain', onDrain);
      }
    });
    from.once('end', resolve);
    from.once('close', resolve);
    from.on('error', () => resolve());
  });
}

/** Resolves once `out` can take more (or is gone). */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => (out.off('drain', done), out.off('close', done), resolve());
    out.once('drain', done);
    out.once('close', done);
  });
}

/** Writes every chunk, waiting while the client is slow, until the end or the client goes; then ends `out`. */
export async function writeAll(out: Writable, chunks: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  for await (const chunk of chunks) {
    if (signal.aborted) break;
    if (!out.write(chunk)) await drained(out);
  }
  out.end();
}
