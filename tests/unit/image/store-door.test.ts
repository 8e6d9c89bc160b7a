/**
 * What the image store lets in, and what it does with records it would not let in today:
 * an oversized config is refused at load with nothing stored, a failing image in an archive
 * takes the archive's other images with it, and an over-limit record already in index.json
 * (from before the check) can still be listed, removed and pruned.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { dockerArchive, fileLayer } from '../../support/image-archive.js';
import { chunks } from '../../support/image-tar.js';
import { tempDir } from '../../support/image-tmp.js';

class ShallowSnapshotter extends CopySnapshotter {
  readonly maxLayers = 3;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, snap = CopySnapshotter) {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const root = join(dir, 'images');
  const svc = new ImageService({
    root,
    snapshotter: new snap({ root: join(dir, 'snaps') }),
    platform: { os: 'linux', architecture: 'amd64' },
  });
  const blobs = async () => (await fs.readdir(join(root, 'blobs', 'sha256')).catch(() => [])).sort();
  const index = async () => JSON.parse(await fs.readFile(join(root, 'index.json'), 'utf8')).manifests as unknown[];
  const leases = async () => fs.readdir(join(root, 'leases'));
  return { dir, root, svc, blobs, index, leases };
}

const BIG = { config: { Labels: { big: 'x'.repeat(5_000_000) } } };

test('a docker-archive whose config is over the document limit is refused; nothing is stored', async (t) => {
  const { svc, blobs, index, leases } = await setup(t);
  const archive = dockerArchive([{ tags: ['big:1'], layers: [fileLayer('a', 'a')], config: BIG }]);
  await assert.rejects(svc.load(chunks(archive)), (e: Error & { code?: string }) => {
    // The archive reader may refuse it first (INVALID_ARCHIVE); the store's door refuses it anyway.
    assert.ok(e.code === 'INVALID_MANIFEST' || e.code === 'INVALID_ARCHIVE', e.code);
    assert.match(e.message, /is 500\d{4} bytes, over (the )?4194304/);
    return true;
  });
  assert.deepEqual(await index(), []);
  assert.deepEqual(await blobs(), []);
  assert.deepEqual(await leases(), []);
  assert.deepEqual(await svc.list(), []);
});

test('a load is all-or-nothing: a refused image untags the ones before it', async (t) => {
  const { svc, blobs, index } = await setup(t);
  await svc.load(chunks(dockerArchive([{ tags: ['keep:1'], layers: [fileLayer('k', 'k')] }])));
  const before = await blobs();
  const archive = dockerArchive([
    { tags: ['good:1', 'keep:1'], layers: [fileLayer('g', 'g')] },
    { tags: ['bad:1'], layers: [fileLayer('b', 'b')], config: BIG },
  ]);
  await assert.rejects(svc.load(chunks(archive)), /over (the )?4194304/);
  const tags = (await svc.list()).flatMap((i) => i.RepoTags);
  assert.deepEqual(tags, ['keep:1'], 'keep:1 points where it did, good:1 is gone');
  assert.equal((await index()).length, 1);
  assert.deepEqual(await blobs(), before);
});

test('an image deeper than the snapshotter stacks is refused at load, naming the count and limit', async (t) => {
  const { svc, blobs } = await setup(t, ShallowSnapshotter);
  const layers = [1, 2, 3, 4].map((i) => fileLayer(`f${i}`, String(i)));
  await assert.rejects(
    svc.load(chunks(dockerArchive([{ tags: ['deep:1'], layers }]))),
    /image docker.io\/library\/deep:1 has 4 layers; the copy snapshotter stacks at most 3/,
  );
  assert.deepEqual(await blobs(), []);
  await svc.load(chunks(dockerArchive([{ tags: ['ok:1'], layers: layers.slice(0, 3) }])));
});

test('an over-limit record already in the store is listed, refused for use, and removable', async (t) => {
  const { root, svc, blobs } = await setup(t);
  await svc.load(chunks(dockerArchive([{ tags: ['good:1'], layers: [fileLayer('g', 'g')] }])));
  const good = await blobs();
  // What an older brig let in: written behind the door's back.
  const cfg = await svc.store.putJson('application/vnd.oci.image.config.v1+json', {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    ...BIG,
  });
  const man = await svc.store.putJson('application/vnd.oci.image.manifest.v1+json', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: cfg,
    layers: [],
  });
  const idx = JSON.parse(await fs.readFile(join(root, 'index.json'), 'utf8'));
  for (const name of ['docker.io/library/big:1', 'docker.io/library/big:2']) {
    idx.manifests.push({ ...man, annotations: { 'org.opencontainers.image.ref.name': name } });
  }
  await fs.writeFile(join(root, 'index.json'), JSON.stringify(idx));

  const list = await svc.list();
  assert.deepEqual(list.flatMap((i) => i.RepoTags).sort(), ['big:1', 'big:2', 'good:1']);
  await assert.rejects(svc.inspect('big:1'), (e: Error & { hint?: string }) => {
    assert.match(e.message, /image big:1 cannot be used: blob sha256:[a-f0-9]{64} is \d+ bytes, over 4194304/);
    assert.match(e.hint ?? '', /brig rmi big:1/);
    return true;
  });
  assert.equal((await svc.inspect('good:1')).RepoTags[0], 'good:1');
  assert.deepEqual(await svc.remove('big:1'), [{ Untagged: 'big:1' }]);
  const pruned = await svc.prune({ filters: { dangling: ['false'] }, users: [{ id: 'ctr', imageId: list.find((i) => i.RepoTags[0] === 'good:1')!.Id, running: true }], graceMs: 0 });
  assert.deepEqual(pruned.ImagesDeleted, [{ Untagged: 'big:2' }, { Deleted: cfg.digest }]);
  assert.deepEqual(await blobs(), good);
  assert.deepEqual((await svc.list()).flatMap((i) => i.RepoTags), ['good:1']);
});

test("a live transaction's blobs survive a gc beside it; a dead one's go at the next open", async (t) => {
  const { root, svc, blobs, leases } = await setup(t);
  await svc.list(); // opens the store
  let release!: () => void;
  const paused = new Promise<void>((r) => (release = r));
  let written!: () => void;
  const wrote = new Promise<void>((r) => (written = r));
  const tx = svc.store.transaction(async () => {
    await svc.store.blobs.put(Buffer.from('in flight'));
    written();
    await paused;
  });
  await wrote;
  assert.equal((await svc.store.gc({ graceMs: 0 })).removed.length, 0, 'the lease keeps it');
  assert.equal((await blobs()).length, 1);
  release();
  await tx;
  assert.deepEqual(await leases(), []);

  // A lease whose owner is gone (same pid, another start time): its blobs are garbage at once.
  const orphan = await svc.store.blobs.put(Buffer.from('left by a killed load'));
  await fs.writeFile(join(root, 'leases', `${process.pid}-1-dead`), `${orphan.digest}\n`);
  const next = new ImageService({ root, platform: { os: 'linux', architecture: 'amd64' } });
  await next.list();
  assert.deepEqual(await leases(), []);
  assert.equal((await blobs()).includes(orphan.digest.slice(7)), false);
});
