/**
 * Push and pull against Debian's docker-registry on 127.0.0.1: anonymous and with htpasswd
 * basic auth, monolithic and chunked uploads, cross-repository mounts, and a pull whose
 * connection is cut mid-blob by a proxy (it resumes with a Range request).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BrigError } from '../../../src/errors/index.js';
import { tarTree } from '../../../src/image/layers/create.js';
import { MediaType } from '../../../src/image/manifest.js';
import { parsePlatform } from '../../../src/image/platform.js';
import { parseReference } from '../../../src/image/reference.js';
import type { ProgressEvent } from '../../../src/image/registry/client.js';
import { dockerConfigCredentials } from '../../../src/image/registry/credentials.js';
import { ImageService } from '../../../src/image/service.js';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { importBusybox, makeBusyboxRootfs } from '../../support/image-busybox.js';
import {
  htpasswdMissing,
  registryMissing,
  startRegistry,
  type TestRegistry,
} from '../../support/image-registry.js';
import { tempDir } from '../../support/image-tmp.js';
import { startTokenServer, type TokenServer } from '../../support/image-token-server.js';
import { requires } from '../../support/requires.js';

const run = promisify(execFile);
const opensslMissing = () => (existsSync('/usr/bin/openssl') ? false : 'openssl not installed');
const skip = registryMissing() || requires('busybox');

function service(
  dir: string,
  name: string,
  extra: Partial<ConstructorParameters<typeof ImageService>[0]> = {},
) {
  return new ImageService({
    root: join(dir, name, 'images'),
    snapshotter: new CopySnapshotter({ root: join(dir, name, 'snapshots') }),
    registry: { retry: { baseDelayMs: 20, maxDelayMs: 200 } },
    ...extra,
  });
}

describe('registry without auth', { skip }, () => {
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

  test('push an image built here, pull it back elsewhere: digests equal, rootfs unpacked', async () => {
    const a = service(dir, 'a');
    const ref = `${reg.host}/test/busybox:1`;
    const built = await importBusybox(a, dir, ref);
    const events: ProgressEvent[] = [];
    const pushed = await a.push(ref, { onProgress: (e) => events.push(e) });
    assert.ok(events.some((e) => e.status === 'done'));
    const b = service(dir, 'b');
    const pulled = await b.pull(ref);
    assert.equal(pulled.manifestDigest, pushed.digest);
    assert.equal(pulled.digest, pushed.digest);
    assert.equal(pulled.id, built.id);
    const inspect = await b.inspect(ref);
    assert.equal(inspect.Id, built.id);
    assert.deepEqual(inspect.RepoTags, [ref]);
    assert.deepEqual(inspect.RepoDigests, [`${reg.host}/test/busybox@${pushed.digest}`]);
    assert.deepEqual(inspect.Config.Cmd, ['/bin/sh']);
    // The rootfs is unpacked into a snapshot.
    const { mounts } = await b.prepareRootfs(ref, 'c1');
    const root = mounts[0]!.source;
    assert.equal(await fs.readlink(join(root, 'bin/sh')), 'busybox');
    assert.equal((await fs.stat(join(root, 'bin/busybox'))).size, (await fs.stat('/bin/busybox')).size);
    // Pull by digest works too, and a second pull is a no-op on blobs.
    const again = await b.pull(`${reg.host}/test/busybox@${pushed.digest}`);
    assert.equal(again.manifestDigest, pushed.digest);
  });

  test('chunked upload and cross-repository mount', async () => {
    const a = service(dir, 'c');
    const ref = `${reg.host}/test/chunked:1`;
    await importBusybox(a, dir, ref);
    const events: ProgressEvent[] = [];
    const pushed = await a.push(ref, { chunkSize: 256 << 10, onProgress: (e) => events.push(e) });
    assert.ok(events.filter((e) => e.status === 'uploading').length > 3, 'several chunks');
    // Pull it, then push to another repository on the same registry: blobs are mounted.
    const b = service(dir, 'd');
    await b.pull(ref);
    const mountEvents: ProgressEvent[] = [];
    const copy = await b.push(ref, {
      destination: `${reg.host}/other/copy:1`,
      onProgress: (e) => mountEvents.push(e),
    });
    assert.equal(copy.digest, pushed.digest);
    assert.ok(
      mountEvents.some((e) => e.status === 'mounted'),
      JSON.stringify(mountEvents.map((e) => e.status)),
    );
  });

  test('clear errors: unknown tag and repository', async () => {
    const b = service(dir, 'e');
    await assert.rejects(b.pull(`${reg.host}/test/busybox:nope`), (e: unknown) => {
      return (
        e instanceof BrigError && e.code === 'REGISTRY_NOT_FOUND' && e.message.includes('test/busybox:nope')
      );
    });
    await assert.rejects(b.pull(`${reg.host}/no/such:1`), { code: 'REGISTRY_NOT_FOUND' });
  });

  test('an interrupted pull resumes with a Range request', async () => {
    const a = service(dir, 'f');
    const ref = `${reg.host}/test/resume:1`;
    await importBusybox(a, dir, ref);
    await a.push(ref);
    // A proxy that cuts the first blob download after ~300 KB, once.
    let cut = false;
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      sockets.add(client);
      const upstream = connect(reg.port, '127.0.0.1');
      sockets.add(upstream);
      let seen = 0;
      let isBlob = false;
      client.on('data', (d) => {
        if (/GET \/v2\/[^ ]*\/blobs\/sha256/.test(d.toString('latin1'))) isBlob = true;
      });
      client.pipe(upstream);
      upstream.on('data', (d: Buffer) => {
        seen += d.length;
        if (isBlob && !cut && seen > 300_000) {
          cut = true;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(d);
      });
      upstream.on('end', () => client.end());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const b = service(dir, 'g');
      const events: ProgressEvent[] = [];
      const pulled = await b.pull(`127.0.0.1:${port}/test/resume:1`, { onProgress: (e) => events.push(e) });
      assert.ok(cut, 'the proxy cut a download');
      assert.ok(
        events.some((e) => e.status === 'retrying'),
        'retried',
      );
      assert.ok(
        events.some((e) => e.status === 'resuming'),
        'resumed from the partial file',
      );
      assert.equal(pulled.id, (await a.inspect(ref)).Id);
      assert.deepEqual(
        await fs
          .readdir(join(dir, 'g', 'images', 'ingest'))
          .then((x) => x.filter((n) => n.endsWith('.partial'))),
        [],
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });
  test('manifest lists (platform selection) and Docker schema2 manifests written by skopeo', async () => {
    const a = service(dir, 'h');
    const amd = `${reg.host}/multi/app:amd64`;
    const arm = `${reg.host}/multi/app:arm64`;
    await importBusybox(a, dir, amd);
    const armImg = await a.import(tarTree(await makeBusyboxRootfs(dir)), {
      reference: arm,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      changes: { Cmd: ['/bin/arm'] },
    });
    const [pa, pb] = await Promise.all([a.push(amd), a.push(arm)]);
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          digest: pa.digest,
          size: pa.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: pb.digest,
          size: pb.size,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    };
    const multi = parseReference(`${reg.host}/multi/app:both`);
    const listDigest = await a.registry.putManifest(
      multi,
      Buffer.from(JSON.stringify(list)),
      MediaType.DockerManifestList,
    );
    const b = service(dir, 'i', { platform: { os: 'linux', architecture: 'amd64' } });
    const got = await b.pull(`${reg.host}/multi/app:both`);
    assert.equal(got.digest, listDigest);
    assert.equal(got.manifestDigest, pa.digest);
    const gotArm = await b.pull(`${reg.host}/multi/app:both`, {
      platform: parsePlatform('linux/arm64'),
      unpack: false,
    });
    assert.equal(gotArm.manifestDigest, pb.digest);
    assert.equal(gotArm.id, armImg.id);
    assert.deepEqual((await b.inspect(`${reg.host}/multi/app:both`)).RepoDigests, [
      `${reg.host}/multi/app@${listDigest}`,
    ]);
    await assert.rejects(b.pull(`${reg.host}/multi/app:both`, { platform: parsePlatform('linux/s390x') }), {
      code: 'PLATFORM_NOT_FOUND',
    });
    if (!existsSync('/usr/bin/skopeo')) return;
    const v2s2 = `${reg.host}/multi/app:v2s2`;
    await run('skopeo', [
      'copy',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${join(dir, 'h', 'images')}:${amd}`,
      `docker://${v2s2}`,
    ]);
    const c = service(dir, 'j');
    const pulled = await c.pull(v2s2);
    assert.equal((await c.inspect(v2s2)).Descriptor.mediaType, MediaType.DockerManifest);
    assert.equal(pulled.id, got.id, 'same config, same image ID');
    const { mounts } = await c.prepareRootfs(v2s2, 'x');
    assert.equal(await fs.readlink(join(mounts[0]!.source, 'bin/sh')), 'busybox');
    // Saved as oci-archive, the Docker manifest becomes an OCI one; the image ID stays.
    const file = join(dir, 'v2s2-oci.tar');
    await c.save([v2s2], file, { format: 'oci-archive' });
    const d = service(dir, 'n');
    await d.load(file);
    const ins = await d.inspect(v2s2);
    assert.equal(ins.Descriptor.mediaType, MediaType.OciManifest);
    assert.equal(ins.Id, pulled.id);
    await d.prepareRootfs(v2s2, 'y');
  });

  test('an aborted pull stops, names nothing, and a later pull completes', async () => {
    const a = service(dir, 'l');
    const ref = `${reg.host}/test/abort:1`;
    await importBusybox(a, dir, ref);
    await a.push(ref);
    const b = service(dir, 'm');
    const ac = new AbortController();
    await assert.rejects(
      b.pull(ref, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.status === 'downloading' && e.current > 0) ac.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.deepEqual(await b.list(), []);
    assert.equal((await b.pull(ref)).id, (await a.inspect(ref)).Id);
  });

  test('two pulls of one image into one store at once both succeed', async () => {
    const a = service(dir, 'k');
    const ref = `${reg.host}/test/twice:1`;
    await importBusybox(a, dir, ref);
    await a.push(ref);
    const root = join(dir, 'shared');
    const mk = () =>
      new ImageService({
        root: join(root, 'images'),
        snapshotter: new CopySnapshotter({ root: join(root, 'snaps') }),
      });
    const [x, y] = await Promise.all([mk().pull(ref), mk().pull(ref)]);
    assert.equal(x.manifestDigest, y.manifestDigest);
    const s = mk();
    assert.equal((await s.list()).length, 1);
    assert.equal((await s.snapshotter!.list()).length, 1);
  });
});

describe('registry with htpasswd basic auth', { skip: skip || htpasswdMissing() }, () => {
  let reg: TestRegistry;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    reg = await startRegistry({ user: 'brig', password: 's3cret-pw' });
    ({ dir, cleanup } = await tempDir());
  });
  after(async () => {
    await reg?.stop();
    await cleanup?.();
  });

  test('credentials from a docker config.json; wrong or missing ones give 401 without leaking', async () => {
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    await fs.writeFile(
      good,
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('brig:s3cret-pw').toString('base64') } } }),
    );
    await fs.writeFile(
      bad,
      JSON.stringify({ auths: { [`http://${reg.host}`]: { username: 'brig', password: 'wrong-pw' } } }),
    );
    const ref = `${reg.host}/private/busybox:1`;
    const a = service(dir, 'a', { registry: { credentials: dockerConfigCredentials(good) } });
    await importBusybox(a, dir, ref);
    const pushed = await a.push(ref);
    const b = service(dir, 'b', { registry: { credentials: dockerConfigCredentials(good) } });
    assert.equal((await b.pull(ref)).manifestDigest, pushed.digest);

    for (const [name, config] of [
      ['c', bad],
      ['d', join(dir, 'missing.json')],
    ] as const) {
      const c = service(dir, name, { registry: { credentials: dockerConfigCredentials(config) } });
      await assert.rejects(c.pull(ref), (e: unknown) => {
        assert.ok(e instanceof BrigError);
        assert.equal(e.code, 'REGISTRY_UNAUTHORIZED');
        const text = JSON.stringify({ m: e.message, h: e.hint, j: e.toJSON() });
        assert.ok(!text.includes('s3cret') && !text.includes('wrong-pw') && !text.includes('YnJpZz'), text);
        return true;
      });
    }
    assert.ok(parseReference(ref).registry === reg.host);
  });
});

describe('registry with token auth (docker-registry auth.token + a test token server)', {
  skip: skip || opensslMissing(),
}, () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    tokens = await startTokenServer(dir, {
      writer: { password: 'w-secret' },
      reader: { password: 'r-secret', readonly: true },
    });
    reg = await startRegistry({ token: tokens });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
    await cleanup?.();
  });

  test('Bearer flow: push and pull with tokens; a pull-only account cannot push; anonymous is refused', async () => {
    const cfg = async (name: string, user: string, password: string) => {
      const p = join(dir, `${name}.json`);
      await fs.writeFile(p, JSON.stringify({ auths: { [reg.host]: { username: user, password } } }));
      return dockerConfigCredentials(p);
    };
    const ref = `${reg.host}/tok/busybox:1`;
    const a = service(dir, 'a', { registry: { credentials: await cfg('w', 'writer', 'w-secret') } });
    await importBusybox(a, dir, ref);
    const pushed = await a.push(ref);
    assert.ok(
      tokens.requests.some(
        (r) => r.user === 'writer' && r.scopes.includes('repository:tok/busybox:pull,push'),
      ),
    );
    const b = service(dir, 'b', { registry: { credentials: await cfg('r', 'reader', 'r-secret') } });
    assert.equal((await b.pull(ref)).manifestDigest, pushed.digest);
    await assert.rejects(b.push(ref, { destination: `${reg.host}/tok/other:1` }), (e: unknown) => {
      assert.ok(e instanceof BrigError);
      assert.ok(['REGISTRY_UNAUTHORIZED', 'REGISTRY_DENIED'].includes(e.code), e.code);
      assert.ok(!JSON.stringify(e.toJSON()).includes('r-secret'));
      return true;
    });
    const anon = service(dir, 'c');
    await assert.rejects(anon.pull(ref), { code: 'REGISTRY_UNAUTHORIZED' });
    const wrong = service(dir, 'd', { registry: { credentials: await cfg('x', 'writer', 'nope') } });
    await assert.rejects(wrong.pull(ref), { code: 'REGISTRY_UNAUTHORIZED' });
  });
});
