import assert from 'node:assert/strict';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { sha256 } from '../../../src/image/digest.js';
import { MediaType } from '../../../src/image/manifest.js';
import { parsePlatform, selectPlatform } from '../../../src/image/platform.js';
import { ImageStore } from '../../../src/image/store/image-store.js';
import { tempDir } from '../../support/image-tmp.js';

async function storeWithImage(dir: string) {
  const store = new ImageStore({ root: dir });
  await store.init();
  const layer = await store.blobs.put(Buffer.from('layer-bytes'));
  const config = await store.putJson(MediaType.OciConfig, {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  });
  const manifest = await store.putJson(MediaType.OciManifest, {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: [{ mediaType: MediaType.OciLayer, ...layer }],
  });
  return { store, layer, config, manifest };
}

test('blobs are verified on write and on read', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const store = new ImageStore({ root: dir });
  await store.init();
  const data = Buffer.from('hello');
  const info = await store.blobs.put(data, { digest: sha256(data), size: 5 });
  assert.equal(info.digest, sha256(data));
  await assert.rejects(store.blobs.put(Buffer.from('x'), { digest: sha256(data) }), {
    code: 'DIGEST_MISMATCH',
  });
  await assert.rejects(store.blobs.put(Buffer.from('hello!'), { size: 5 }), { code: 'DIGEST_MISMATCH' });
  // Corrupt on disk: reads and streams refuse it.
  await writeFile(store.blobs.path(info.digest), 'HELLO');
  await assert.rejects(store.blobs.read(info.digest), { code: 'DIGEST_MISMATCH' });
  await assert.rejects(
    async () => {
      for await (const _ of store.blobs.open(info.digest));
    },
    { code: 'DIGEST_MISMATCH' },
  );
  await assert.rejects(store.blobs.read(sha256('nope')), { code: 'BLOB_NOT_FOUND' });
  // No temp files left behind by the failed writes.
  assert.deepEqual(await readdir(join(dir, 'ingest')), []);
});

test('concurrent writers of one blob both succeed', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const store = new ImageStore({ root: dir });
  await store.init();
  const big = Buffer.alloc(3 << 20, 7);
  const chunks = function* () {
    for (let i = 0; i < big.length; i += 65536) yield big.subarray(i, i + 65536);
  };
  const results = await Promise.all(
    Array.from({ length: 8 }, () => store.blobs.write(chunks(), { digest: sha256(big) })),
  );
  assert.ok(results.every((r) => r.digest === sha256(big) && r.size === big.length));
  assert.equal((await store.blobs.read(sha256(big))).length, big.length);
});

test('names, oci layout files, and concurrent tagging', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const { store, manifest } = await storeWithImage(dir);
  const names = Array.from({ length: 20 }, (_, i) => `docker.io/library/x:${i}`);
  await Promise.all(names.map((n) => store.setImage(n, manifest)));
  assert.equal((await store.list()).length, 20);
  const layout = JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'));
  assert.equal(layout.imageLayoutVersion, '1.0.0');
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assert.equal(
    index.manifests[0].annotations['org.opencontainers.image.ref.name'].startsWith('docker.io/'),
    true,
  );
  assert.equal(await store.removeName('docker.io/library/x:3'), manifest.digest);
  assert.equal(await store.removeName('docker.io/library/x:3'), undefined);
  assert.equal((await store.removeManifest(manifest.digest)).length, 19);
  assert.equal((await store.list()).length, 0);
});

test('load validates manifest against config; gc removes unreferenced blobs only', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const { store, layer, config, manifest } = await storeWithImage(dir);
  await store.setImage('docker.io/library/a:1', manifest);
  const loaded = await store.load(manifest);
  assert.equal(loaded.config.rootfs.diff_ids[0], layer.digest);
  const junk = await store.blobs.put(Buffer.from('junk'));
  const young = await store.blobs.put(Buffer.from('young'));
  const old = new Date(Date.now() - 3600_000);
  await utimes(store.blobs.path(junk.digest), old, old);
  const r = await store.gc({ graceMs: 60_000 });
  assert.deepEqual(r.removed, [junk.digest]);
  assert.ok(await store.blobs.has(young.digest));
  await store.removeName('docker.io/library/a:1');
  const r2 = await store.gc({ graceMs: 0 });
  assert.equal(r2.removed.length, 4);
  for (const d of [layer, config, manifest]) assert.equal(await store.blobs.has(d.digest), false);
});

test('setImage refuses non-manifests and missing blobs', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const store = new ImageStore({ root: dir });
  await store.init();
  await assert.rejects(
    store.setImage('docker.io/library/a:1', {
      mediaType: MediaType.OciManifest,
      digest: sha256('x'),
      size: 1,
    }),
    (e: unknown) => e instanceof BrigError && e.code === 'BLOB_NOT_FOUND',
  );
  await assert.rejects(
    store.setImage('docker.io/library/a:1', { mediaType: MediaType.OciLayer, digest: sha256('x'), size: 1 }),
    { code: 'INVALID_MANIFEST' },
  );
});

test('platform selection from an index', () => {
  const d = (platform: object, n: string) => ({
    mediaType: MediaType.OciManifest,
    digest: sha256(n),
    size: 1,
    platform: platform as { os: string; architecture: string },
  });
  const list = [
    d({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6'),
    d({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'armv7'),
    d({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'arm64'),
    d({ os: 'linux', architecture: 'amd64' }, 'amd64'),
    d({ os: 'unknown', architecture: 'unknown' }, 'att'),
  ];
  assert.equal(selectPlatform(list, parsePlatform('linux/amd64'), 'x').digest, sha256('amd64'));
  assert.equal(selectPlatform(list, parsePlatform('linux/arm64'), 'x').digest, sha256('arm64'));
  assert.equal(selectPlatform(list, parsePlatform('linux/arm/v7'), 'x').digest, sha256('armv7'));
  assert.equal(selectPlatform(list.slice(0, 1), parsePlatform('linux/arm/v7'), 'x').digest, sha256('armv6'));
  assert.throws(() => selectPlatform(list, parsePlatform('linux/s390x'), 'idx'), {
    code: 'PLATFORM_NOT_FOUND',
  });
  assert.throws(() => parsePlatform('linux/amd64/v2/x'), { code: 'INVALID_ARGUMENT' });
});

test('overlayfs is chosen from the kernel and root alone: no host tool (setfattr) is asked for', async () => {
  const { overlayUnavailable } = await import('../../../src/image/snapshot/select.js');
  assert.equal(overlayUnavailable({ filesystems: 'nodev\tproc\nnodev\toverlay\n', uid: 0 }), undefined);
  assert.equal(overlayUnavailable({ filesystems: 'nodev\toverlay\n', uid: 1000 }), 'overlay whiteouts need root');
  assert.equal(overlayUnavailable({ filesystems: 'nodev\tproc\n', uid: 0 }), 'the kernel has no overlay filesystem');
});
