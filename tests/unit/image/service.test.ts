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
  assert.deepEqual(await svc.list({ filters: { reference: ['localhost:5000/team/app'] } }).then((l) => l.length), 1);
  assert.deepEqual(await svc.list({ filters: { reference: ['nothere'] } }), []);
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
    (await svc.list({ filters: { dangling: ['true'] } })).map((i) => i.Id),
    [a.id],
  );
  const p1 = await svc.prune({ graceMs: 0 });
  assert.deepEqual(p1.ImagesDeleted, [{ Deleted: a.id }]);
  assert.ok(p1.SpaceReclaimed > 0);
  const p2 = await svc.prune({ filters: { dangling: ['false'] }, users: [{ id: 'ctr', imageId: c.id, running: false }], graceMs: 0 });
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

test("rmi by docker's rules for images containers use (daemon/images/image_delete.go)", async (t) => {
  const { svc } = await setup(t);
  const a = await svc.import(chunks(rootfs('a')), { reference: 'app:1' });
  const short = a.id.slice(7, 19);
  const stopped = [{ id: 'c'.repeat(64), imageId: a.id, running: false }];
  const running = [{ id: 'd'.repeat(64), imageId: a.id, running: true }];
  await assert.rejects(svc.remove('app:1', { users: stopped }), {
    code: 'IMAGE_IN_USE',
    message: `conflict: unable to remove repository reference "app:1" (must force) - container cccccccccccc is using its referenced image ${short}`,
  });
  await assert.rejects(svc.remove(short, { users: stopped }), { message: `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc` });
  await assert.rejects(svc.remove(a.id, { users: running, force: true }), { message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container dddddddddddd` });
  // A second name: only the name goes, container or not.
  await svc.tag('app:1', 'app:2');
  assert.deepEqual(await svc.remove('app:2', { users: stopped }), [{ Untagged: 'app:2' }]);
  await svc.tag('app:1', 'other:1');
  await assert.rejects(svc.remove(short), { message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories` });
  // -f by name, a running container: untagged, kept nameless.
  assert.deepEqual(await svc.remove('other:1', { users: running, force: true }), [{ Untagged: 'other:1' }]);
  assert.deepEqual(await svc.remove('app:1', { users: running, force: true }), [{ Untagged: 'app:1' }]);
  assert.deepEqual((await svc.list()).map((i) => [i.Id, i.RepoTags]), [[a.id, []]]);
  // -f by ID, a stopped container: deleted.
  assert.deepEqual(await svc.remove(short, { users: stopped, force: true }), [{ Deleted: a.id }]);
  await assert.rejects(svc.remove('app:1'), { code: 'IMAGE_NOT_FOUND', message: 'No such image: app:1' });
  await assert.rejects(svc.remove('nosuch'), { message: 'No such image: nosuch:latest' });
});

test('rmi reports the snapshots it deletes as docker reports layers; prune counts the disk they held', async (t) => {
  const { svc, snapshotter } = await setup(t);
  const a = await svc.import(chunks(rootfs('a')), { reference: 'a:1' });
  await svc.prepareRootfs('a:1', 'ctr');
  await snapshotter.remove('ctr');
  const [snap] = (await snapshotter.list()).map((s) => s.key);
  assert.ok(snap);
  const usage = (await snapshotter.usage(snap)).own.size;
  assert.ok(usage > 0, `${usage}`);
  assert.deepEqual(await svc.remove('a:1'), [{ Untagged: 'a:1' }, { Deleted: a.id }, { Deleted: snap }]);
  const b = await svc.import(chunks(rootfs('b')));
  await svc.prepareRootfs(b.id, 'ctr2');
  await snapshotter.remove('ctr2');
  const snapB = (await snapshotter.list())[0]!.key;
  const usageB = (await snapshotter.usage(snapB)).own.size;
  const p = await svc.prune({ graceMs: 0 });
  assert.deepEqual(p.ImagesDeleted, [{ Deleted: b.id }, { Deleted: snapB }]);
  assert.ok(p.SpaceReclaimed > usageB, `${p.SpaceReclaimed} > ${usageB} and the three blobs`);
});

test('prune filters: until, label, label!; dangling=false for all; bad filters refused', async (t) => {
  const { svc } = await setup(t);
  const old = await svc.import(chunks(rootfs('old')), { reference: 'old:1', changes: { Labels: { keep: 'no' } } });
  const fresh = await svc.import(chunks(rootfs('fresh')), { reference: 'fresh:1', changes: { Labels: { keep: 'yes' } } });
  // Make "old" older: its config says when it was created.
  const cfgOld = (await svc.inspect('old:1')).Created;
  assert.ok(cfgOld);
  const all = { dangling: ['false'] };
  assert.deepEqual((await svc.prune({ filters: { ...all, until: ['2000-01-01T00:00:00Z'] }, graceMs: 0 })).ImagesDeleted, []);
  assert.deepEqual((await svc.prune({ filters: { ...all, label: ['keep=maybe'] }, graceMs: 0 })).ImagesDeleted, []);
  assert.deepEqual((await svc.prune({ filters: { ...all, 'label!': ['keep=yes'] }, graceMs: 0 })).ImagesDeleted, [{ Untagged: 'old:1' }, { Deleted: old.id }]);
  assert.deepEqual((await svc.prune({ filters: { ...all, label: ['keep'] }, users: [{ id: 'x', imageId: fresh.id, running: false }], graceMs: 0 })).ImagesDeleted, []);
  assert.deepEqual((await svc.prune({ filters: { label: ['keep'] }, graceMs: 0 })).ImagesDeleted, [], 'tagged: not dangling');
  await assert.rejects(svc.prune({ filters: { until: ['1h', '2h'] } }), { message: 'more than one until filter specified' });
  await assert.rejects(svc.prune({ filters: { until: ['xyz'] } }), { message: 'failed to parse value as time or duration: invalid seconds "xyz": invalid syntax' });
  await assert.rejects(svc.prune({ filters: { reference: ['x'] } }), { message: "invalid filter 'reference'" });
});

test('list filters: before/since by image, reference globs, dangling, label; Containers counted', async (t) => {
  const { svc } = await setup(t);
  const one = await svc.import(chunks(rootfs('1')), { reference: 'app:1', changes: { Labels: { n: '1' } } });
  await new Promise((r) => setTimeout(r, 10));
  const two = await svc.import(chunks(rootfs('2')), { reference: 'app:2' });
  await svc.tag('app:1', 'team/app:1');
  const none = await svc.import(chunks(rootfs('3')));
  const ids = (l: { Id: string }[]) => l.map((i) => i.Id).sort();
  assert.deepEqual(ids(await svc.list({ filters: { before: ['app:2'] } })), [one.id]);
  assert.deepEqual(ids(await svc.list({ filters: { since: ['app:1'] } })), [none.id, two.id].sort());
  assert.deepEqual(ids(await svc.list({ filters: { dangling: ['true'] } })), [none.id]);
  assert.deepEqual(ids(await svc.list({ filters: { label: ['n=1'] } })), [one.id]);
  const teams = await svc.list({ filters: { reference: ['*/app'] } });
  assert.deepEqual(teams.map((i) => i.RepoTags), [['team/app:1']]);
  assert.equal((await svc.list({ users: [{ id: 'c', imageId: two.id, running: true }] })).find((i) => i.Id === two.id)?.Containers, 1);
  await assert.rejects(svc.list({ filters: { before: ['nosuch'] } }), { code: 'IMAGE_NOT_FOUND' });
  await assert.rejects(svc.list({ filters: { dangling: ['maybe'] } }), { message: "invalid filter 'dangling=[maybe]'" });
});

test('import refuses what is not a tar, and keeps nothing of it', async (t) => {
  const { svc, dir } = await setup(t);
  await assert.rejects(svc.import(chunks(Buffer.alloc(2048, 7)), { reference: 'junk:1' }), (e: BrigError) => e.code === 'INVALID_TAR' && e.message.startsWith('Error processing tar file: '));
  assert.deepEqual(await svc.list(), []);
  assert.deepEqual(await fs.readdir(join(dir, 'images', 'blobs', 'sha256')), []);
});
