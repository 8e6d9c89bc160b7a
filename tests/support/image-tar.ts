/** Builds tar (and tar.gz) archives in memory for layer tests, hostile ones included. */
import { gzipSync } from 'node:zlib';
import type { WriteHeader } from '../../src/image/layers/tar-writer.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../src/image/layers/tar-writer.js';

export type TestEntry = Omit<WriteHeader, 'type' | 'size'> & {
  type?: WriteHeader['type'];
  data?: string | Buffer;
};

export function makeTar(entries: TestEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const type = e.type ?? 'file';
    parts.push(encodeHeader({ mtime: 1700000000, ...e, type, size: type === 'file' ? data.length : 0 }));
    if (type === 'file') parts.push(data, padding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

export function makeTarGz(entries: TestEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}

export async function* chunks(buf: Buffer, size = 7919): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
