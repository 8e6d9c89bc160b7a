/**
 * The one conformance suite every snapshotter passes (containerd's
 * core/snapshots/testsuite). Content is checked through the returned mounts: performed
 * with mount(8) when root, or read from the bind source when every mount is a bind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { unpackLayer } from '../../../src/image/layers/unpack.js';
import type { Mount, Snapshotter } from '../../../src/image/snapshot/snapshotter.js';
import { mountAll } from '../../support/image-mount.js';
import { chunks, makeTar, type TestEntry } from '../../support/image-tar.js';
import { tempDir } from '../../support/image-tmp.js';

export type Factory = (root: string) => Snapshotter;

const isRoot = process.getuid?.() === 0;

/** Runs `fn` with the mounts visible at a directory. */
async function withMounted<T>(mounts: Mount[], scratch: string, fn: (dir: string) => Promise<T>): Promise<T> {
  if (!isRoot) {
    assert.ok(
      mounts.length === 1 && mounts[0]!.type === 'bind',
      'without root only bind mounts can be checked',
    );
    return fn(mounts[0]!.source);
  }
  const target = await fs.mkdtemp(join(scratch, 'mnt-'));
  const unmount = mountAll(mounts, target);
  try {
    return await fn(target);
  } finally {
    unmount();
    await fs.rmdir(target);
  }
}

async function applyLayer(
  s: Snapshotter,
  key: string,
  parent: string | undefined,
  entries: TestEntry[],
  name: string,
) {
  await s.prepare(key, parent);
  const target = await s.applyTarget(key);
  await unpackLayer(chunks(makeTar(entries)), target.dir, { whiteouts: target.whiteouts });
  await s.commit(name, key);
}

async function tree(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

function code(c: string) {
  return (e: unknown) => e instanceof BrigError && e.code === c;
}

export function snapshotterSuite(name: string, factory: Factory, skip: string | false): void {
  const setup = async (t: { after: (fn: () => Promise<void>) => void }) => {
    const { dir, cleanup } = await tempDir(`brig-snap-${name}-`);
    t.after(cleanup);
    return { s: factory(join(dir, 'root')), dir };
  };

  test(`${name}: layers stack, whiteouts hide lower content, containers write on top`, {
    skip,
  }, async (t) => {
    const { s, dir } = await setup(t);
    await applyLayer(
      s,
      'extract-1',
      undefined,
      [
        { name: 'bin/', type: 'dir' },
        { name: 'bin/sh', data: 'sh' },
        { name: 'etc/', type: 'dir' },
        { name: 'etc/gone', data: 'x' },
        { name: 'etc/keep', data: 'k' },
        { name: 'var/', type: 'dir' },
        { name: 'var/old', data: 'o' },
      ],
      'layer-1',
    );
    await applyLayer(
      s,
      'extract-2',
      'layer-1',
      [
        { name: 'etc/.wh.gone', data: '' },
        { name: 'var/.wh..wh..opq', data: '' },
        { name: 'var/new', data: 'n' },
        { name: 'bin/sh', data: 'sh2' },
      ],
      'layer-2',
    );
    const expected = ['bin', 'bin/sh', 'etc', 'etc/keep', 'var', 'var/new'];
    const mounts = await s.prepare('container', 'layer-2');
    assert.deepEqual(await s.mounts('container'), mounts);
    await withMounted(mounts, dir, async (root) => {
      assert.deepEqual(await tree(root), expected);
      assert.equal(await fs.readFile(join(root, 'bin/sh'), 'utf8'), 'sh2');
      await fs.writeFile(join(root, 'etc/written'), 'c');
    });
    // The container's write is not in the image: a view of layer-2 does not see it.
    await withMounted(await s.view('look', 'layer-2'), dir, async (root) => {
      assert.deepEqual(await tree(root), expected);
      if (isRoot) await assert.rejects(fs.writeFile(join(root, 'x'), 'x'), { code: 'EROFS' });
    });
    // layer-1 is unchanged by layer-2.
    await withMounted(await s.view('look-1', 'layer-1'), dir, async (root) => {
      assert.deepEqual(await tree(root), ['bin', 'bin/sh', 'etc', 'etc/gone', 'etc/keep', 'var', 'var/old']);
    });
    const upper = await s.upperDir('container');
    if (upper !== undefined) assert.deepEqual(await tree(upper), ['etc', 'etc/written']);
  });

  test(`${name}: whiteout semantics (the same in every snapshotter)`, { skip }, async (t) => {
    const { s, dir } = await setup(t);
    await applyLayer(
      s,
      'extract-1',
      undefined,
      [
        { name: 'a/', type: 'dir' },
        { name: 'a/x', data: 'x' },
        { name: 'b', data: 'file' },
        { name: 'c/', type: 'dir' },
        { name: 'c/z', data: 'z' },
        { name: 'e/', type: 'dir' },
        { name: 'e/old', data: 'o' },
        { name: 'keep/k', data: 'k' },
        { name: 'top', data: 't' },
      ],
      'layer-1',
    );
    await applyLayer(
      s,
      'extract-2',
      'layer-1',
      [
        // A root opaque whiteout is ignored (overlayfs never reads one on a layer's root).
        { name: '.wh..wh..opq', data: '' },
        // Whited out, then written again in the same layer: only the new content shows.
        { name: '.wh.a', data: '' },
        { name: 'a/new', data: 'n' },
        { name: '.wh.b', data: '' },
        { name: 'b/', type: 'dir', mode: 0o711 },
        { name: 'b/inner', data: 'i' },
        { name: '.wh.e', data: '' },
        { name: 'e/', type: 'dir' },
        { name: 'c/.wh..wh..opq', data: '' },
        { name: 'c/w', data: 'w' },
        { name: '.wh.top', data: '' },
        // A whiteout of something this layer wrote hides nothing.
        { name: 'mine', data: 'm' },
        { name: '.wh.mine', data: '' },
        // Overlay markers from the image never reach the kernel (a metacopy and redirect
        // would make overlayfs read another file, or fail with EPERM).
        {
          name: 'meta',
          data: 'own content',
          xattrs: new Map([
            ['trusted.overlay.metacopy', Buffer.alloc(0)],
            ['trusted.overlay.redirect', Buffer.from('/keep/k')],
          ]),
        },
      ],
      'layer-2',
    );
    await withMounted(await s.view('look', 'layer-2'), dir, async (root) => {
      assert.equal(await fs.readFile(join(root, 'meta'), 'utf8'), 'own content');
      assert.deepEqual(await tree(root), ['a', 'a/new', 'b', 'b/inner', 'c', 'c/w', 'e', 'keep', 'keep/k', 'meta', 'mine']);
      assert.equal((await fs.stat(join(root, 'b'))).mode & 0o777, 0o711);
    });
  });

  test(`${name}: kinds, parents, listing and removal`, { skip }, async (t) => {
    const { s } = await setup(t);
    await s.prepare('a-active');
    await s.commit('a', 'a-active', { labels: { layer: '1' } });
    await s.prepare('b', 'a', { labels: { container: 'yes' } });
    const a = await s.stat('a');
    assert.equal(a.kind, 'committed');
    assert.equal(a.labels.layer, '1');
    const b = await s.stat('b');
    assert.deepEqual([b.kind, b.parent, b.labels.container], ['active', 'a', 'yes']);
    assert.deepEqual(
      (await s.list()).map((i) => i.key),
      ['a', 'b'],
    );
    await assert.rejects(s.stat('a-active'), code('SNAPSHOT_NOT_FOUND'));
    await assert.rejects(s.prepare('b', 'a'), code('SNAPSHOT_EXISTS'));
    await assert.rejects(s.prepare('c', 'b'), code('SNAPSHOT_INVALID'));
    await assert.rejects(s.prepare('c', 'nope'), code('SNAPSHOT_NOT_FOUND'));
    await assert.rejects(s.commit('a', 'b'), code('SNAPSHOT_EXISTS'));
    await assert.rejects(s.commit('z', 'a'), code('SNAPSHOT_INVALID'));
    await assert.rejects(s.mounts('a'), code('SNAPSHOT_INVALID'));
    await assert.rejects(s.remove('a'), code('SNAPSHOT_INVALID'));
    await assert.rejects(s.prepare('../evil'), code('INVALID_ARGUMENT'));
    await s.view('v', 'a');
    await assert.rejects(s.applyTarget('v'), code('SNAPSHOT_INVALID'));
    await s.remove('v');
    await s.remove('b');
    await s.remove('a');
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(await fs.readdir(join((s as unknown as { root: string }).root, 'snapshots')), []);
  });

  test(`${name}: usage counts a snapshot's bytes alone and with its parents`, { skip }, async (t) => {
    const { s } = await setup(t);
    await applyLayer(s, 'l1-a', undefined, [{ name: 'bin/', type: 'dir' }, { name: 'bin/sh', data: 'sh' }, { name: 'etc/', type: 'dir' }, { name: 'etc/x', data: 'xx' }], 'l1');
    await applyLayer(s, 'l2-a', 'l1', [{ name: 'etc/', type: 'dir' }, { name: 'etc/y', data: 'yyy' }], 'l2');
    await s.prepare('ctr', 'l2');
    // What a container writes lands where applyTarget says (its upper dir, or its copy).
    await fs.writeFile(join((await s.applyTarget('ctr')).dir, 'new'), 'hello');
    const u = await s.usage('ctr');
    assert.equal(u.total.size, 2 + 2 + 3 + 5, 'what a mount shows');
    // overlayfs: what the container added; copy: its copy holds everything.
    assert.equal(u.own.size, s.name === 'overlayfs' ? 5 : 12);
    assert.deepEqual((await s.usage('l1')).own, { size: 4, inodes: 5 });
    // A committed snapshot's count is kept, and the same when read again.
    assert.deepEqual(await s.usage('l2'), await s.usage('l2'));
    await assert.rejects(s.usage('nope'), code('SNAPSHOT_NOT_FOUND'));
  });

  test(`${name}: concurrent prepares get distinct snapshots`, { skip }, async (t) => {
    const { s } = await setup(t);
    await s.prepare('base-a');
    await s.commit('base', 'base-a');
    const mounts = await Promise.all(Array.from({ length: 10 }, (_, i) => s.prepare(`c${i}`, 'base')));
    const sources = new Set(mounts.map((m) => JSON.stringify(m)));
    assert.equal(sources.size, 10);
    assert.equal((await s.list()).length, 11);
  });
}
