/**
 * Image benchmarks (method in bench/image/README.md):
 *   unpack:    brig's unpackLayer vs `tar -xzf` on the same gzip layer, and on a layer of
 *              20k whiteouts;
 *   pull:      brig pull+unpack from a local docker-registry vs `skopeo copy` + `umoci unpack`
 *              and `podman pull` (each tool that is installed).
 * Usage: node dist/bench/image/run.js [--mb 250] [--runs 5] [--only unpack|pull]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { rmTree } from '../../src/image/fs-util.js';
import { createLayer, tarTree } from '../../src/image/layers/create.js';
import { unpackLayer } from '../../src/image/layers/unpack.js';
import { ImageService } from '../../src/image/service.js';
import { CopySnapshotter } from '../../src/image/snapshot/copy.js';
import { OverlaySnapshotter } from '../../src/image/snapshot/overlay.js';
import { BlobStore } from '../../src/image/store/blob-store.js';
import { startRegistry } from '../../tests/support/image-registry.js';
import { makeTree, median } from './fixture.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '250' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const MB = Number(values.mb);
const RUNS = Number(values.runs);
const isRoot = process.getuid?.() === 0;

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

function report(name: string, base: string, results: Record<string, number[]>, size = `${MB} MB`): void {
  const baseline = median(results[base]!);
  console.log(`\n${name} (${size}, median of ${RUNS} runs)`);
  for (const [k, v] of Object.entries(results)) {
    console.log(
      `  ${k.padEnd(28)} ${median(v).toFixed(2).padStart(7)} s   ${(median(v) / baseline).toFixed(2)}x ${k === base ? '(baseline)' : ''}`,
    );
  }
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(join(tmpdir(), 'brig-bench-'));
  try {
    const tree = join(work, 'tree');
    const info = await makeTree(tree, MB << 20);
    console.log(`fixture: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(0)} MB`);
    if (values.only !== 'pull') {
      const blobs = new BlobStore({ root: join(work, 'blobs') });
      await blobs.init();
      const layer = await createLayer(tree, blobs);
      const results = await unpackVsTar(work, 'out', blobs.path(layer.digest), (out) =>
        unpackLayer(blobs.open(layer.digest), out, { diffID: layer.diffID }),
      );
      report('unpack one gzip layer', 'tar -xzf', results);
      await benchWhiteouts(work, blobs);
    }
    if (values.only !== 'unpack') await benchPull(work, tree);
  } finally {
    await rmTree(work);
  }
}

/** `tar -xzf` and brig take turns extracting one layer into fresh directories. */
async function unpackVsTar(
  work: string,
  tag: string,
  blobPath: string,
  brig: (out: string) => Promise<unknown>,
  before: () => Promise<unknown> = async () => undefined,
): Promise<Record<string, number[]>> {
  const results: Record<string, number[]> = { 'tar -xzf': [], 'brig unpackLayer': [] };
  for (let i = 0; i < RUNS; i++) {
    for (const k of Object.keys(results)) {
      const out = join(work, `${tag}-${i}-${k.length}`);
      await fs.mkdir(out);
      await before();
      results[k]!.push(
        await time(async () => {
          if (k === 'tar -xzf') await run('tar', ['-xzf', blobPath, '-C', out]);
          else await brig(out);
        }),
      );
      await rmTree(out);
    }
  }
  return results;
}

/**
 * A layer of 20k whiteouts across 100 directories: brig makes them as overlay whiteouts
 * (0:0 character devices, through the native batch) when root, removes lower files
 * otherwise; tar writes the same entries as 20k empty `.wh.*` files, the floor for the I/O.
 */
async function benchWhiteouts(work: string, blobs: BlobStore): Promise<void> {
  const tree = join(work, 'wh-tree');
  for (let d = 0; d < 100; d++) {
    await fs.mkdir(join(tree, `d${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 200 }, (_, i) => fs.writeFile(join(tree, `d${d}`, `.wh.f${i}`), '')));
  }
  const layer = await createLayer(tree, blobs);
  // Writeback of the trees removed in the runs before otherwise dominates 20k small creates.
  const results = await unpackVsTar(
    work,
    'wh',
    blobs.path(layer.digest),
    (out) => unpackLayer(blobs.open(layer.digest), out, { diffID: layer.diffID, whiteouts: isRoot ? 'overlay' : 'remove' }),
    () => run('sync', []),
  );
  await rmTree(tree);
  report(`unpack a layer of 20k whiteouts (${isRoot ? 'overlay' : 'remove'} mode)`, 'tar -xzf', results, '20k entries');
}

const podmanStore = (dir: string) => [
  '--root',
  `${dir}/root`,
  '--runroot',
  `${dir}/run`,
  '--storage-driver',
  'overlay',
];

async function benchPull(work: string, tree: string): Promise<void> {
  const reg = await startRegistry();
  try {
    const src = new ImageService({ root: join(work, 'src') });
    const ref = `${reg.host}/bench/image:1`;
    await src.import(tarTree(tree), { reference: ref, changes: { Cmd: ['/bin/sh'] } });
    await src.push(ref);
    const results: Record<string, number[]> = { 'brig pull (+unpack)': [] };
    if (existsSync('/usr/bin/skopeo') && existsSync('/usr/bin/umoci'))
      results['skopeo copy + umoci unpack'] = [];
    if (existsSync('/usr/bin/podman') && isRoot) results['podman pull'] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const k of Object.keys(results)) {
        const dir = join(work, `pull-${i}-${k.length}`);
        await fs.mkdir(dir);
        results[k]!.push(
          await time(async () => {
            if (k.startsWith('brig')) {
              const snapshotter = isRoot
                ? new OverlaySnapshotter({ root: join(dir, 'snaps') })
                : new CopySnapshotter({ root: join(dir, 'snaps') });
              await new ImageService({ root: join(dir, 'images'), snapshotter }).pull(ref);
            } else if (k.startsWith('skopeo')) {
              await run('skopeo', [
                'copy',
                '--src-tls-verify=false',
                `docker://${ref}`,
                `oci:${dir}/layout:x`,
              ]);
              await run('umoci', [
                'unpack',
                ...(isRoot ? [] : ['--rootless']),
                '--image',
                `${dir}/layout:x`,
                `${dir}/bundle`,
              ]);
            } else {
              await run('podman', [...podmanStore(dir), 'pull', '--tls-verify=false', '-q', ref]);
            }
          }),
        );
        if (k === 'podman pull') {
          await run('podman', [...podmanStore(dir), 'system', 'reset', '-f']).catch(() => undefined);
        }
        await rmTree(dir);
      }
    }
    report('pull + unpack from a local registry', 'brig pull (+unpack)', results);
  } finally {
    await reg.stop();
  }
}

await main();
