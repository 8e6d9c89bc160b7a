/**
 * docker's stdio streams on the wire: raw bytes for a container or exec with a tty, else
 * frames of [stream 0 0 0 len(be32)] data (1 stdout, 2 stderr; 0 stdin for none here), the
 * same framing brig's monitor uses on its attach socket. From API 1.42 the non-tty stream
 * says so in its Content-Type.
 */
import type { Readable, Writable } from 'node:stream';
import type { Exchange } from './exchange.js';
import { versionAtLeast } from './router.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

export function streamType(tty: boolean, version: string): string {
  return !tty && versionAtLeast(version, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** An empty stdout frame: nothing to a demultiplexer, a write that fails once the client is gone. */
export const EMPTY_FRAME = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

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

/** How long a stream's first record is waited for before the headers go without it. */
const FIRST_RECORD_MS = 50;

/**
 * A streamed answer of records (log lines, stats samples, events): the first record is read
 * before the headers go, so an error there (a bad filter, an unknown container) is still an
 * HTTP error, unless it takes longer than FIRST_RECORD_MS (a follow with nothing yet: clients
 * wait for the headers); then each is written as `encode` makes it, waiting for a slow
 * client, until the records end or the client goes.
 */
export async function streamRecords<T>(x: Exchange, records: AsyncIterable<T>, headers: Record<string, string>, encode: (r: T) => string | Buffer | undefined): Promise<void> {
  const it = records[Symbol.asyncIterator]();
  try {
    const first = it.next();
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([first.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), FIRST_RECORD_MS)))]);
    clearTimeout(timer);
    if (ready) await first;
    const out = x.stream(200, headers);
    try {
      for (let next = await first; !next.done && !x.signal.aborted; next = await it.next()) {
        const data = encode(next.value);
        if (data !== undefined && !out.write(data)) await drained(out);
      }
    } catch (e) {
      if (!x.signal.aborted) throw e;
    }
    out.end();
  } finally {
    void Promise.resolve(it.return?.()).catch(() => {});
  }
}
