/** Container changes in an overlay upper dir become a new image layer (brig commit). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { OverlaySnapshotter } from '../../../src/image/snapshot/overlay.js';
import { mountAll } from '../../support/image-mount.js';
import { overlayMissing } from '../../support/image-registry.js';
import { chunks, makeTar } from '../../support/image-tar.js';
import { tempDir } from '../../support/image-tmp.js';

test('commit an overlay container: new files, changes and deletions carry over', {
  skip: overlayMissing(),
}, async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const svc = new ImageService({
    root: join(dir, 'images'),
    snapshotter: new OverlaySnapshotter({ root: join(dir, 'snaps') }),
  });
  const base = await svc.import(
    chunks(
      makeTar([
        { name: 'etc/', type: 'dir' },
        { name: 'etc/keep', data: 'k' },
        { name: 'etc/gone', data: 'g' },
        { name: 'var/', type: 'dir' },
        { name: 'var/old/', type: 'dir' },
        { name: 'var/old/x', data: 'x' },
      ]),
    ),
    { reference: 'base:1', changes: { Cmd: ['/bin/sh'] } },
  );
  const { mounts } = await svc.prepareRootfs('base:1', 'ctr');
  const mnt = join(dir, 'mnt');
  await fs.mkdir(mnt);
  const umount = mountAll(mounts, mnt);
  try {
    await fs.writeFile(join(mnt, 'etc/new'), 'n');
    await fs.rm(join(mnt, 'etc/gone'));
    await fs.rm(join(mnt, 'var/old'), { recursive: true });
    await fs.mkdir(join(mnt, 'var/old'));
    await fs.writeFile(join(mnt, 'var/old/y'), 'y');
  } finally {
    umount();
  }
  const c = await svc.commit('ctr', { reference: 'derived:1', changes: { Env: ['A=1'] }, comment: 'test' });
  const ins = await svc.inspect('derived:1');
  assert.equal(ins.RootFS.Layers.length, 2);
  assert.deepEqual(ins.Config.Cmd, ['/bin/sh']);
  assert.deepEqual(ins.Config.Env, ['A=1']);
  assert.notEqual(c.id, base.id);
  // Unpacked with the copy snapshotter (whiteouts as deletions): the container's view.
  const file = join(dir, 'derived.tar');
  await svc.save(['derived:1'], file, { format: 'oci-archive' });
  const other = new ImageService({
    root: join(dir, 'o'),
    snapshotter: new CopySnapshotter({ root: join(dir, 'o-snaps') }),
  });
  await other.load(file);
  const r = await other.prepareRootfs('derived:1', 'c2');
  const root = r.mounts[0]!.source;
  assert.deepEqual((await fs.readdir(join(root, 'etc'))).sort(), ['keep', 'new']);
  assert.deepEqual(await fs.readdir(join(root, 'var/old')), ['y']);
  assert.equal((await svc.history('derived:1'))[0]!.Comment, 'test');
});
