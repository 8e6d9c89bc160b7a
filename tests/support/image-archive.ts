/**
 * docker-archive files (what `docker save` writes) built in the test from layer tars, so
 * store tests can load hostile images: deep stacks, oversized configs, setuid binaries.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../src/image/layers/tar-writer.js';
import { BUSYBOX } from './image-busybox.js';
import { makeTar, type TestEntry } from './image-tar.js';

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface ArchiveImage {
  /** Uncompressed layer tars, bottom first. */
  layers: Buffer[];
  tags?: string[];
  /** Merged into the config (e.g. a huge label to pass the store's document limit). */
  config?: Record<string, unknown>;
}

/** One docker-archive tar holding `images`. */
export function dockerArchive(images: ArchiveImage[]): Buffer {
  const entries: TestEntry[] = [];
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const seen = new Set<string>();
  for (const img of images) {
    const diffIDs = img.layers.map((l) => `sha256:${hex(l)}`);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
        rootfs: { type: 'layers', diff_ids: diffIDs },
        ...img.config,
      }),
    );
    const cfgName = `${hex(config)}.json`;
    entries.push({ name: cfgName, data: config });
    const layerNames: string[] = [];
    img.layers.forEach((l, i) => {
      const name = `${diffIDs[i]!.slice(7)}/layer.tar`;
      layerNames.push(name);
      if (seen.has(name)) return;
      seen.add(name);
      entries.push({ name: `${diffIDs[i]!.slice(7)}/`, type: 'dir', mode: 0o755 });
      entries.push({ name, data: l });
    });
    manifest.push({ Config: cfgName, RepoTags: img.tags ?? [], Layers: layerNames });
  }
  entries.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return makeTar(entries);
}

/** A layer with busybox and its sh/cat/ls links, plus `extra` entries. */
export function busyboxLayer(extra: TestEntry[] = []): Buffer {
  const bb = readFileSync(BUSYBOX);
  return makeTar([
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', data: bb, mode: 0o755 },
    ...['sh', 'cat', 'ls', 'echo', 'id', 'test', '[', 'true', 'sleep'].map(
      (n): TestEntry => ({ name: `bin/${n}`, type: 'symlink', linkname: 'busybox' }),
    ),
    ...extra,
  ]);
}

/** A layer holding one small file. */
export function fileLayer(name: string, data: string): Buffer {
  return makeTar([{ name, data, mode: 0o644 }]);
}

/**
 * Writes a gzip'd docker-archive of one image whose single layer holds `size` bytes of
 * zeros in one file, streamed (never in memory): small on disk, slow to load and unpack,
 * so a test can kill brig in the middle of either.
 */
export async function writeBigArchive(file: string, tag: string, size: number): Promise<void> {
  const chunk = Buffer.alloc(1 << 20);
  function* zeros(n: number): Generator<Buffer> {
    for (let left = n; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  }
  const fileHeader = encodeHeader({ name: 'big', type: 'file', mode: 0o644, size, mtime: 1700000000 });
  const layerSize = fileHeader.length + size + padding(size).length + END_OF_ARCHIVE.length;
  function* layer(): Generator<Buffer> {
    yield fileHeader;
    yield* zeros(size);
    yield padding(size);
    yield END_OF_ARCHIVE;
  }
  const hash = createHash('sha256');
  for (const b of layer()) hash.update(b);
  const diffID = hash.digest('hex');
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/big'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${diffID}`] } }),
  );
  const cfgName = `${hex(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: cfgName, RepoTags: [tag], Layers: [`${diffID}/layer.tar`] }]));
  function* archive(): Generator<Buffer> {
    for (const [name, data] of [
      [cfgName, config],
      ['manifest.json', manifest],
    ] as const) {
      yield encodeHeader({ name, type: 'file', mode: 0o644, size: data.length, mtime: 1700000000 });
      yield data;
      yield padding(data.length);
    }
    yield encodeHeader({ name: `${diffID}/layer.tar`, type: 'file', mode: 0o644, size: layerSize, mtime: 1700000000 });
    yield* layer();
    yield padding(layerSize);
    yield END_OF_ARCHIVE;
  }
  await pipeline(Readable.from(archive()), createGzip({ level: 1 }), createWriteStream(file));
}
