/**
 * What failures leave in the image store, checked on disk: a pull whose unpack is refused,
 * snapshots holding paths near PATH_MAX, and a load or unpack killed with SIGKILL. After
 * each, the store holds no tag, snapshot, blob, lease or directory the failure made (or the
 * next command removes them).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { MediaType } from '../../../src/image/manifest.js';
import { formatReference, parseReference } from '../../../src/image/reference.js';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { dockerArchive, fileLayer } from '../../support/image-archive.js';
import { registryMissing, startRegistry, type TestRegistry } from '../../support/image-registry.js';
import { chunks, makeTar, type TestEntry } from '../../support/image-tar.js';
import { tempDir } from '../../support/image-tmp.js';
import { requires } from '../../support/requires.js';

const run = promisify(execFile);

function service(dir: string, name: string) {
  return new ImageService({
    root: join(dir, name, 'images'),
    snapshotter: new CopySnapshotter({ root: join(dir, name, 'snapshots') }),
    platform: { os: 'linux', architecture: 'amd64' },
  });
}

/** Everything in a service's store that an image or a failure could leave. */
async function contents(dir: string, name: string) {
  const ls = (p: string) => fs.readdir(join(dir, name, p)).catch(() => [] as string[]);
  const idx = JSON.parse(await fs.readFile(join(dir, name, 'images', 'index.json'), 'utf8'));
  return {
    index: idx.manifests.length as number,
    blobs: await ls('images/blobs/sha256'),
    ingest: await ls('images/ingest'),
    leases: await ls('images/leases'),
    snapshots: await ls('snapshots/snapshots'),
    trash: await ls('snapshots/trash'),
    metadata: Object.keys(
      JSON.parse(await fs.readFile(join(dir, name, 'snapshots', 'metadata.json'), 'utf8').catch(() => '{"snapshots":{}}'))
        .snapshots,
    ),
  };
}

const EMPTY = { index: 0, blobs: [], ingest: [], leases: [], snapshots: [], trash: [], metadata: [] };

describe('a refused pull', { skip: registryMissing() }, () => {
  let reg: TestRegistry;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    reg = await startRegistry();
    ({ dir, cleanup } = await tempDir());
  });
  after(async () => {
    await reg?.stop();
    await cleanup?.();
  });

  test('an unpack refused (a ../ entry) leaves no tag, snapshot, blob or lease', async () => {
    const ref = `${reg.host}/hostile/escape:1`;
    // load does not unpack, so the pushing side accepts the hostile second layer.
    const src = service(dir, 'src');
    const hostile = makeTar([{ name: '../escape', data: 'out' }]);
    await src.load(chunks(dockerArchive([{ tags: [ref], layers: [fileLayer('ok', 'fine'), hostile] }])));
    await src.push(ref);

    const dst = service(dir, 'dst');
    await assert.rejects(dst.pull(ref), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'LAYER_UNSAFE');
      return true;
    });
    assert.deepEqual(await dst.list(), []);
    assert.deepEqual(await contents(dir, 'dst'), EMPTY);
    await assert.rejects(fs.access(join(dir, 'escape')));
  });

  test('a config over the document limit is refused, and its blobs do not stay', async () => {
    const ref = parseReference(`${reg.host}/hostile/bigconfig:1`);
    const src = service(dir, 'src2');
    await src.load(chunks(dockerArchive([{ tags: ['x:1'], layers: [fileLayer('ok', 'fine')] }])));
    const layer = (await src.store.readManifest((await src.store.list())[0]!.target.digest)).layers[0]!;
    const cfg = await src.store.putJson('application/vnd.oci.image.config.v1+json', {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] },
      config: { Labels: { big: 'x'.repeat(5_000_000) } },
    });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers: [layer] }));
    for (const d of [cfg, layer]) await src.registry.pushBlob(ref, d, () => src.store.blobs.open(d.digest));
    await src.registry.putManifest(ref, manifest, MediaType.OciManifest);

    const dst = service(dir, 'dst2');
    await assert.rejects(dst.pull(formatReference(ref)), /blob sha256:[a-f0-9]{64} is 500\d{4} bytes, over 4194304/);
    assert.deepEqual(await contents(dir, 'dst2'), EMPTY);
  });
});

/** A layer whose deepest entry makes `prefix` + its path exactly `total` characters long. */
function deepLayer(prefix: string, total: number): Buffer {
  const entries: TestEntry[] = [];
  let path = '';
  while (prefix.length + path.length + 201 < total - 1) {
    path += `${'d'.repeat(200)}/`;
    entries.push({ name: path, type: 'dir', mode: 0o755 });
  }
  entries.push({ name: path + 'f'.repeat(total - prefix.length - path.length), data: 'deep' });
  return makeTar(entries);
}

describe('snapshots holding paths near PATH_MAX', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => cleanup?.());

  test('a path 2 characters short of PATH_MAX: rmi removes the snapshot and its parent', async () => {
    const svc = service(dir, 'near');
    // Layer 2 unpacks into snapshot 2.
    const prefix = join(dir, 'near', 'snapshots', 'snapshots', '2', 'fs') + '/';
    await svc.load(chunks(dockerArchive([{ tags: ['near:1'], layers: [fileLayer('base', 'b'), deepLayer(prefix, 4094)] }])));
    const r = await svc.resolve('near:1');
    await svc.unpack(r.manifest, r.config);
    assert.equal((await svc.snapshotter!.list()).length, 2);
    await svc.remove('near:1');
    assert.deepEqual(await contents(dir, 'near'), EMPTY);
  });

  test('an unpack that fails past PATH_MAX reports the entry and leaves no snapshot or trash', async () => {
    const svc = service(dir, 'past');
    const prefix = join(dir, 'past', 'snapshots', 'snapshots', '2', 'fs') + '/';
    await svc.load(chunks(dockerArchive([{ tags: ['past:1'], layers: [fileLayer('base', 'b'), deepLayer(prefix, 4200)] }])));
    const r = await svc.resolve('past:1');
    await assert.rejects(svc.unpack(r.manifest, r.config), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'LAYER_APPLY_FAILED', e.message);
      assert.doesNotMatch(e.message, /failed too/);
      return true;
    });
    // The bottom layer committed before the failure stays for the next unpack (prune removes it).
    assert.deepEqual((await svc.snapshotter!.list()).map((s) => s.kind), ['committed']);
    assert.deepEqual((await contents(dir, 'past')).trash, []);
    await svc.remove('past:1');
    assert.deepEqual(await contents(dir, 'past'), EMPTY);
  });
});

describe('a snapshot that cannot be deleted', { skip: requires('root') }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => {
    await run('chattr', ['-R', '-i', dir]).catch(() => undefined);
    await cleanup?.();
  });

  test('rmi fails with the image still there, and the next command finishes it', async (t) => {
    const svc = service(dir, 'stuck');
    await svc.load(chunks(dockerArchive([{ tags: ['stuck:1'], layers: [fileLayer('a', 'a'), fileLayer('b', 'b')] }])));
    const r = await svc.resolve('stuck:1');
    await svc.unpack(r.manifest, r.config);
    const file = join(dir, 'stuck', 'snapshots', 'snapshots', '2', 'fs', 'b');
    const immutable = await run('chattr', ['+i', file]).then(
      () => true,
      () => false,
    );
    if (!immutable) return t.skip(`chattr +i is not supported on ${dir}'s filesystem`);
    // (Node's rm reports an immutable file as ENOTDIR.)
    await assert.rejects(svc.remove('stuck:1'), /snapshots\/trash\/2\/fs\/b/);
    assert.deepEqual((await svc.list()).flatMap((i) => i.RepoTags), ['stuck:1'], 'still tagged: rmi can be retried');
    await run('chattr', ['-i', join(dir, 'stuck', 'snapshots', 'trash', '2', 'fs', 'b')]);
    const next = service(dir, 'stuck');
    await next.remove('stuck:1');
    assert.deepEqual(await contents(dir, 'stuck'), EMPTY);
  });
});
