/** Builds tar (and tar.gz) archives in memory for layer tests, hostile ones included. */
import { createHash } from 'node:crypto';
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

/**
 * A gzip bomb in many members (as `cat a.gz b.gz` makes, and gunzip reads as one stream):
 * the tar header of one file entry `name` claiming `size` bytes, then that many zero bytes
 * in members of `member` bytes each, so the archive stays tiny while the data grows.
 */
export function gzipBomb(name: string, size: number, member = 16 << 20): Buffer {
  const head = gzipSync(encodeHeader({ name, type: 'file', size, mode: 0o644 }));
  const zeros = gzipSync(Buffer.alloc(member), { level: 9 });
  const parts = [head];
  for (let left = size; left > 0; left -= member) parts.push(left >= member ? zeros : gzipSync(Buffer.alloc(left)));
  parts.push(gzipSync(Buffer.concat([padding(size), END_OF_ARCHIVE])));
  return Buffer.concat(parts);
}

/** A docker-archive (`docker save` layout) of one image whose layers are the given tars. */
export function dockerArchive(layers: Buffer[], extra: TestEntry[] = [], tag = 'hostile/image:1'): TestEntry[] {
  const diffIds = layers.map((l) => `sha256:${createHash('sha256').update(l).digest('hex')}`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const cfgName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const layerNames = diffIds.map((d) => `${d.slice(7)}/layer.tar`);
  return [
    ...extra,
    { name: cfgName, data: config },
    ...layers.map((l, i) => ({ name: layerNames[i]!, data: l })),
    { name: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: [tag], Layers: layerNames }]) },
  ];
}
