/** ImageService without a registry: import, list, inspect, tag, history, rm, prune, unpack. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { chunks, makeTar } from '../../support/image-tar.js';
import { tempDir } from '../../support/image-tmp.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const snapshotter = new CopySnapshotter({ root: join(dir, 'snaps') });
  const svc = new ImageService({
    root: join(dir, 'images'),
    snapshotter,
    platform: { os: 'linux', architecture: 'amd64' },
  });
  return { dir, svc, snapshotter };
}

const rootfs = (marker: string) =>
  makeTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'marker', data: marker },
  ]);

test('import, list, inspect in docker shapes; tag; history', async (t) => {
  const { svc } = await setup(t);
  const a = await svc.import(chunks(rootfs('a')), {
    reference: 'app:1',
    changes: { Cmd: ['/bin/sh'], Labels: { team: 'x' } },
    message: 'from a tarball',
  });
  assert.match(a.id, /^sha256:[a-f0-9]{64}$/);
  assert.equal(a.reference, 'docker.io/library/app:1');
  await svc.tag('app:1', 'localhost:5000/team/app:prod');
  const [img] = await svc.list();
  assert.ok(img);
  assert.equal(img.Id, a.id);
  assert.deepEqual(img.RepoTags.sort(), ['app:1', 'localhost:5000/team/app:prod']);
  assert.deepEqual(img.Labels, { team: 'x' });
  assert.ok(img.Created > 1_700_000_000);
  const ins = await svc.inspect(a.id.slice(7, 19));
  assert.equal(ins.Id, a.id);
  assert.deepEqual(ins.Config.Cmd, ['/bin/sh']);
  assert.equal(ins.RootFS.Type, 'layers');
  assert.equal(ins.RootFS.Layers.length, 1);
  assert.equal(ins.Os, 'linux');
  assert.equal(ins.Architecture, 'amd64');
  assert.equal(ins.Comment, 'from a tarball');
  assert.ok(ins.Size > 0);
  for (const key of [
    'Id',
    'RepoTags',
    'RepoDigests',
    'Created',
    'Config',
    'RootFS',
    'Architecture',
    'Os',
    'Size',
  ]) {
    assert.ok(key in ins, key);
  }
  const h = await svc.history('app:1');
  assert.equal(h.length, 1);
  assert.equal(h[0]!.Id, a.id);
  assert.equal(h[0]!.CreatedBy, 'brig import');
  assert.deepEqual(await svc.list({ reference: 'localhost:5000/team/app' }).then((l) => l.length), 1);
  assert.deepEqual(await svc.list({ reference: 'nothere' }), []);
  await assert.rejects(
    svc.inspect('nothere'),
    (e: unknown) => e instanceof BrigError && e.code === 'IMAGE_NOT_FOUND' && e.message.includes('nothere'),
  );
  await assert.rejects(svc.tag('app:1', 'app@sha256:' + '0'.repeat(64)), { code: 'INVALID_REFERENCE' });
});

test('rm untags, then deletes blobs and snapshots; an ID with two names needs force', async (t) => {
  const { svc, snapshotter, dir } = await setup(t);
  const a = await svc.import(chunks(rootfs('a')), { reference: 'app:1' });
  await svc.tag('app:1', 'app:2');
  const { mounts } = await svc.prepareRootfs('app:1', 'ctr');
  assert.equal(await fs.readFile(join(mounts[0]!.source, 'marker'), 'utf8'), 'a');
  await assert.rejects(svc.remove(a.id), { code: 'IMAGE_IN_USE' });
  assert.deepEqual(await svc.remove('app:2'), [{ Untagged: 'app:2' }]);
  // A container still uses the top snapshot: the image goes, the snapshot stays.
  assert.deepEqual(await svc.remove('app:1'), [{ Untagged: 'app:1' }, { Deleted: a.id }]);
  assert.deepEqual(await svc.list(), []);
  assert.equal((await snapshotter.list()).length, 2);
  await snapshotter.remove('ctr');
  const pruned = await svc.prune({ graceMs: 0 });
  assert.deepEqual(pruned.ImagesDeleted, []);
  assert.deepEqual(await snapshotter.list(), []);
  assert.deepEqual(await fs.readdir(join(dir, 'images', 'blobs', 'sha256')), []);
});

test('prune removes dangling images; all removes unused ones', async (t) => {
  const { svc } = await setup(t);
  const a = await svc.import(chunks(rootfs('a')));
  const b = await svc.import(chunks(rootfs('b')), { reference: 'b:1' });
  const c = await svc.import(chunks(rootfs('c')), { reference: 'c:1' });
  assert.deepEqual(
    (await svc.list({ dangling: true })).map((i) => i.Id),
    [a.id],
  );
  const p1 = await svc.prune({ graceMs: 0 });
  assert.deepEqual(p1.ImagesDeleted, [{ Deleted: a.id }]);
  assert.ok(p1.SpaceReclaimed > 0);
  const p2 = await svc.prune({ all: true, inUse: new Set([c.id]), graceMs: 0 });
  assert.deepEqual(p2.ImagesDeleted, [{ Untagged: 'b:1' }, { Deleted: b.id }]);
  assert.deepEqual(
    (await svc.list()).map((i) => i.Id),
    [c.id],
  );
});

test('two images sharing a base share its snapshot; unpack is idempotent and concurrent-safe', async (t) => {
  const { svc, snapshotter } = await setup(t);
  await svc.import(chunks(rootfs('same')), { reference: 'x:1' });
  await svc.import(chunks(rootfs('same')), { reference: 'y:1' });
  await Promise.all([
    svc.prepareRootfs('x:1', 'c1'),
    svc.prepareRootfs('y:1', 'c2'),
    svc.prepareRootfs('x:1', 'c3'),
  ]);
  const committed = (await snapshotter.list()).filter((s) => s.kind === 'committed');
  assert.equal(committed.length, 1);
});

test('a layer blob corrupted on disk fails the unpack and leaves no snapshot behind', async (t) => {
  const { svc, snapshotter } = await setup(t);
  await svc.import(chunks(rootfs('a')), { reference: 'bad:1' });
  const layer = (await svc.store.readManifest((await svc.inspect('bad:1')).Descriptor.digest)).layers[0]!;
  const path = svc.store.blobs.path(layer.digest);
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
  await fs.writeFile(path, bytes);
  await assert.rejects(svc.prepareRootfs('bad:1', 'c'), (e: unknown) => e instanceof BrigError);
  assert.deepEqual(await snapshotter.list(), []);
});
