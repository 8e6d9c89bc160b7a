/**
 * docker-archive files (what `docker save` writes) built in the test from layer tars, so
 * store tests can load hostile images: deep stacks, oversized configs, setuid binaries.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
    ...['sh', 'cat', 'ls', 'echo', 'id', 'test', 'true'].map(
      (n): TestEntry => ({ name: `bin/${n}`, type: 'symlink', linkname: 'busybox' }),
    ),
    ...extra,
  ]);
}

/** A layer holding one small file. */
export function fileLayer(name: string, data: string): Buffer {
  return makeTar([{ name, data, mode: 0o644 }]);
}
