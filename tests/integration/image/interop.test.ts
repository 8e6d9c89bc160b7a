/**
 * Interop with real peers: skopeo and umoci read what brig writes (its store is an OCI
 * layout; save writes docker-archive and oci-archive), and brig reads what skopeo writes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { importBusybox } from '../../support/image-busybox.js';
import { tempDir } from '../../support/image-tmp.js';
import { requires } from '../../support/requires.js';

const run = promisify(execFile);
const has = (bin: string, pkg: string) =>
  existsSync(`/usr/bin/${bin}`) ? false : `${bin} not installed (apt-get install ${pkg})`;
const NAME = 'docker.io/library/bb:1';

describe('interop with skopeo, umoci and podman', { skip: requires('busybox') }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let svc: ImageService;
  let id: string;
  let manifestDigest: string;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    svc = new ImageService({
      root: join(dir, 'store'),
      snapshotter: new CopySnapshotter({ root: join(dir, 'snaps') }),
    });
    id = (await importBusybox(svc, dir, NAME)).id;
    manifestDigest = (await svc.inspect(NAME)).Descriptor.digest;
  });
  after(() => cleanup?.());

  test('skopeo inspects the store as an OCI layout', { skip: has('skopeo', 'skopeo') }, async () => {
    const { stdout } = await run('skopeo', ['inspect', `oci:${join(dir, 'store')}:${NAME}`]);
    const v = JSON.parse(stdout) as { Digest: string; Layers: string[]; Os: string };
    assert.equal(v.Digest, manifestDigest);
    assert.equal(v.Layers.length, 1);
    assert.equal(v.Os, 'linux');
    const cfg = JSON.parse(
      (await run('skopeo', ['inspect', '--config', `oci:${join(dir, 'store')}:${NAME}`])).stdout,
    );
    assert.deepEqual(cfg.config.Cmd, ['/bin/sh']);
  });

  test('umoci unpacks an image from brig', { skip: has('umoci', 'umoci') || requires('root') }, async () => {
    // umoci wants a bare tag: give it a layout of its own from brig's oci-archive.
    const archive = join(dir, 'for-umoci.tar');
    await svc.save([NAME], archive, { format: 'oci-archive' });
    const layout = join(dir, 'umoci-layout');
    await fs.mkdir(layout);
    await run('tar', ['-xf', archive, '-C', layout]);
    await run('umoci', ['tag', '--image', `${layout}@${manifestDigest}`, 'latest']).catch(async () => {
      // Older umoci has no @digest selector: rewrite index.json with a bare tag.
      const idx = JSON.parse(await fs.readFile(join(layout, 'index.json'), 'utf8'));
      idx.manifests[0].annotations = { 'org.opencontainers.image.ref.name': 'latest' };
      await fs.writeFile(join(layout, 'index.json'), JSON.stringify(idx));
    });
    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
    assert.equal(await fs.readlink(join(bundle, 'rootfs/bin/sh')), 'busybox');
    assert.ok((await fs.stat(join(bundle, 'rootfs/bin/busybox'))).size > 100_000);
  });

  test('skopeo reads brig save output (docker-archive and oci-archive)', {
    skip: has('skopeo', 'skopeo'),
  }, async () => {
    const docker = join(dir, 'save-docker.tar');
    const oci = join(dir, 'save-oci.tar');
    await Promise.all([svc.save([NAME], docker), svc.save([NAME], oci, { format: 'oci-archive' })]);
    const d = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${docker}`])).stdout);
    assert.deepEqual(d.RepoTags, []);
    assert.equal(d.Layers.length, 1);
    const o = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${oci}:${NAME}`])).stdout);
    assert.equal(o.Digest, manifestDigest);
    // And a full copy out of the docker archive succeeds (skopeo checks every digest).
    await run('skopeo', ['copy', `docker-archive:${docker}`, `oci:${join(dir, 'from-docker-archive')}:x`]);
  });

  test('brig reads what skopeo writes (oci: layout and docker-archive:)', {
    skip: has('skopeo', 'skopeo'),
  }, async () => {
    const layout = join(dir, 'skopeo-oci');
    const archive = join(dir, 'skopeo-docker.tar');
    await run('skopeo', ['copy', `oci:${join(dir, 'store')}:${NAME}`, `oci:${layout}:v9`]);
    await run('skopeo', [
      'copy',
      `oci:${join(dir, 'store')}:${NAME}`,
      `docker-archive:${archive}:example.com/from/skopeo:2`,
    ]);
    const other = new ImageService({
      root: join(dir, 'other'),
      snapshotter: new CopySnapshotter({ root: join(dir, 'other-snaps') }),
    });
    const a = await other.importLayout(layout, { name: 'example.com/from/layout' });
    assert.deepEqual(a.loaded, ['example.com/from/layout:v9']);
    assert.equal((await other.inspect('example.com/from/layout:v9')).Id, id);
    const b = await other.load(archive);
    assert.deepEqual(b.loaded, ['example.com/from/skopeo:2']);
    assert.equal((await other.inspect('example.com/from/skopeo:2')).Id, id);
    const { mounts } = await other.prepareRootfs('example.com/from/skopeo:2', 'c');
    assert.equal(await fs.readlink(join(mounts[0]!.source, 'bin/sh')), 'busybox');
  });

  test('brig save | brig load round trip in both formats', async () => {
    for (const format of ['docker-archive', 'oci-archive'] as const) {
      const file = join(dir, `rt-${format}.tar`);
      await svc.save([NAME], file, { format });
      const other = new ImageService({ root: join(dir, `rt-${format}`) });
      const r = await other.load(file);
      assert.deepEqual(r.loaded, [NAME]);
      assert.equal((await other.inspect(NAME)).Id, id);
    }
  });

  // Rootless podman needs subuid ranges for the layer's owners; run it as root.
  test('podman load accepts brig save output (docker-archive and oci-archive)', {
    skip: has('podman', 'podman') || requires('root'),
  }, async () => {
    const file = join(dir, 'for-podman.tar');
    await svc.save([NAME], file);
    const root = join(dir, 'podman-root');
    const runroot = join(dir, 'podman-run');
    const { stdout } = await run('podman', [
      '--root',
      root,
      '--runroot',
      runroot,
      '--storage-driver',
      'vfs',
      'load',
      '-i',
      file,
    ]);
    assert.match(stdout, /Loaded image/);
    await run('podman', ['--root', root, '--runroot', runroot, '--storage-driver', 'vfs', 'rmi', '-a']).catch(
      () => undefined,
    );
  });
});
