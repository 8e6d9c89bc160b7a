/**
 * Issue 17 part B: hostile layers and archives, generated here, checked from the host —
 * bounds (ratio, size, entries, free disk; memory and disk measured), the native batch for
 * nodes and xattrs (no process per entry), and fidelity (xattrs everywhere, last duplicate
 * wins, hard links to symlinks, kernel-read xattrs dropped, capability errors name the entry).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { dumpXattrs } from '../../../src/image/layers/host-tools.js';
import { limitsFromEnv } from '../../../src/image/layers/limits.js';
import { readTar } from '../../../src/image/layers/tar-reader.js';
import { unpackLayer } from '../../../src/image/layers/unpack.js';
import { ImageService } from '../../../src/image/service.js';
import { registryMissing, startRegistry } from '../../support/image-registry.js';
import { chunks, dockerArchive, gzipBomb, makeTar, makeTarGz } from '../../support/image-tar.js';
import { layerTarget } from '../../support/image-tmp.js';
import { repoRoot, requires } from '../../support/requires.js';

const setup = (t: { after: (fn: () => Promise<void>) => void }) => layerTarget(t, 'brig-harden-');

/** Bytes allocated on disk under `dir` (what was really written, sparse or not). */
function diskUsage(dir: string): number {
  return Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8' }).split('\t')[0]);
}

function code(c: string, entry?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof BrigError, String(e));
    assert.equal(e.code, c, e.message);
    if (entry !== undefined) assert.ok(e.message.includes(`"${entry}"`), `names "${entry}": ${e.message}`);
    return true;
  };
}

// ---------------------------------------------------------------- bounds

test('bounds: a multi-member gzip bomb stops at the expansion ratio, having written little', async (t) => {
  const { target } = await setup(t);
  const bomb = gzipBomb('zeros', 8 * 1024 ** 3);
  assert.ok(bomb.length < 9 << 20, `archive is ${bomb.length} bytes`);
  const t0 = performance.now();
  await assert.rejects(unpackLayer(chunks(bomb, 64 << 10), target), (e) => {
    code('LAYER_TOO_LARGE', 'zeros')(e);
    assert.match((e as Error).message, /expands more than 100x/);
    return true;
  });
  const used = diskUsage(target);
  const ms = performance.now() - t0;
  console.log(`  gzip bomb: ${bomb.length} bytes claiming 8 GiB; refused after ${ms.toFixed(0)} ms, ${used} bytes on disk`);
  assert.ok(used < 64 << 20, `wrote ${used} bytes`);
});

test('bounds: layer size, entry count, name bytes and free-disk reserve, each naming the entry', async (t) => {
  const { target } = await setup(t);
  const big = makeTarGz([{ name: 'a', data: Buffer.alloc(4 << 20, 7) }, { name: 'b', data: Buffer.alloc(4 << 20, 1) }]);
  await assert.rejects(unpackLayer(chunks(big), target, { maxLayerSize: 6 << 20 }), code('LAYER_TOO_LARGE', 'b'));
  const many = makeTar(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, data: '' })));
  await assert.rejects(unpackLayer(chunks(many), target, { maxEntries: 20 }), code('LAYER_TOO_LARGE', 'f20'));
  const long = makeTar(Array.from({ length: 40 }, (_, i) => ({ name: `${'n'.repeat(200)}/${i}`, type: 'dir' as const })));
  await assert.rejects(
    (async () => {
      for await (const _ of readTar(chunks(long), { maxNameBytes: 4000 }));
    })(),
    code('LAYER_TOO_LARGE', `${'n'.repeat(200)}/19/`),
  );
  const st = statfsSync(target);
  const free = st.bavail * st.bsize;
  await assert.rejects(
    unpackLayer(chunks(makeTar([{ name: 'x', data: 'x' }])), target, { minFreeDisk: free + (1 << 30) }),
    code('DISK_RESERVE'),
  );
  // A reserve the write passes into stops it part-way (checked every 32 MiB written).
  const { target: t2 } = await setup(t);
  const stream = makeTar([{ name: 'fill', data: Buffer.alloc(256 << 20, 3) }]);
  await assert.rejects(unpackLayer(chunks(stream, 1 << 20), t2, { minFreeDisk: free - (64 << 20) }), code('DISK_RESERVE', 'fill'));
  assert.ok(diskUsage(t2) < 160 << 20);
});

test('limits come from the environment and are shown by brig info', { skip: requires('root') }, async (t) => {
  assert.deepEqual(limitsFromEnv({ BRIG_MAX_LAYER_SIZE: '2g', BRIG_MAX_EXPANSION_RATIO: '20', BRIG_MIN_FREE_DISK: '0' }), {
    maxLayerSize: 2 * 1024 ** 3,
    maxRatio: 20,
    minFreeDisk: 0,
  });
  assert.throws(() => limitsFromEnv({ BRIG_MAX_BLOB_SIZE: 'lots' }), code('INVALID_ARGUMENT'));
  const { dir } = await setup(t);
  const r = spawnSync(join(repoRoot, 'bin/brig'), ['info', '--format', 'json'], {
    env: { ...process.env, BRIG_ROOT: join(dir, 'data'), BRIG_MAX_LAYER_ENTRIES: '5000' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { ImageLimits: { name: string; env: string; value: number }[] };
  const byName = Object.fromEntries(info.ImageLimits.map((l) => [l.name, l]));
  assert.equal(byName.maxEntries!.value, 5000);
  assert.equal(byName.maxEntries!.env, 'BRIG_MAX_LAYER_ENTRIES');
  assert.equal(byName.maxRatio!.value, 100);
});

async function loadInChild(store: string, archive: string, limits: object = {}) {
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist/tests/support/image-load-child.js'), store, archive, JSON.stringify(limits)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ok: boolean; code?: string; message?: string; hwmKiB: number; ms: number };
}

test('load: memory stays bounded whatever the archive holds, and only referenced entries are kept', async (t) => {
  const { dir } = await setup(t);
  // 48 unreferenced entries of 8 MiB (the old reader kept each in memory) and a small image.
  const filler = Array.from({ length: 48 }, (_, i) => ({ name: `junk/${i}`, data: Buffer.alloc(8 << 20, i) }));
  const archive = join(dir, 'a.tar.gz');
  await fs.writeFile(archive, makeTarGz(dockerArchive([makeTar([{ name: 'hello', data: 'hi' }])], filler)));
  const store = join(dir, 'store');
  const r = await loadInChild(store, archive, { maxRatio: 1e6 });
  assert.ok(r.ok, r.message);
  const baseline = await loadInChild(join(dir, 'store2'), join(dir, 'none'), {});
  console.log(`  load of ${48 * 8} MiB of unreferenced entries: peak RSS ${r.hwmKiB} KiB (a failing load: ${baseline.hwmKiB} KiB), ${r.ms.toFixed(0)} ms`);
  assert.ok(r.hwmKiB < baseline.hwmKiB + 96 * 1024, `peak RSS ${r.hwmKiB} KiB`);
  // config, layer and manifest: nothing else became a blob, and no staging file is left.
  assert.equal((await fs.readdir(join(store, 'blobs/sha256'))).length, 3);
  assert.deepEqual(await fs.readdir(join(store, 'ingest')), []);
});

test('load: a compressed archive expanding into a huge blob is refused early and leaves nothing', async (t) => {
  const { dir } = await setup(t);
  const archive = join(dir, 'bomb.tar.gz');
  await fs.writeFile(archive, gzipBomb('0123/layer.tar', 4 * 1024 ** 3));
  const store = join(dir, 'store');
  const r = await loadInChild(store, archive);
  assert.equal(r.code, 'LAYER_TOO_LARGE', r.message);
  assert.match(r.message!, /"0123\/layer.tar"/);
  const used = diskUsage(store);
  console.log(`  load bomb (${(await fs.stat(archive)).size} bytes claiming 4 GiB): refused in ${r.ms.toFixed(0)} ms, ${used} bytes in the store`);
  assert.ok(used < 64 << 20);
  assert.deepEqual(await fs.readdir(join(store, 'ingest')), []);
  // And an entry over the blob limit is refused from its header alone.
  const svc = new ImageService({ root: join(dir, 'store3'), limits: { maxBlobSize: 1 << 20 } });
  await assert.rejects(svc.load(chunks(makeTar([{ name: 'x/layer.tar', data: Buffer.alloc(2 << 20) }]))), code('LAYER_TOO_LARGE', 'x/layer.tar'));
});

// ---------------------------------------------------------------- native nodes and xattrs

test('20k whiteouts and 1k fifos: a handful of native runs, not a process per entry', { skip: requires('root') }, async (t) => {
  const { target } = await setup(t);
  const entries = [
    ...Array.from({ length: 20_000 }, (_, i) => ({ name: `d${i % 50}/.wh.f${i}`, data: '' })),
    ...Array.from({ length: 1000 }, (_, i) => ({ name: `p/fifo${i}`, type: 'fifo' as const, mode: 0o640 })),
  ];
  const t0 = performance.now();
  const r = await unpackLayer(chunks(makeTar(entries), 1 << 20), target, { whiteouts: 'overlay' });
  const ms = performance.now() - t0;
  console.log(`  20k whiteouts + 1k fifos: ${ms.toFixed(0)} ms, ${r.nativeRuns} native runs`);
  assert.ok(r.nativeRuns <= 6, `${r.nativeRuns} runs`);
  assert.ok(ms < 15_000, `${ms} ms`);
  const w = await fs.lstat(join(target, 'd7/f19957'));
  assert.ok(w.isCharacterDevice() && w.rdev === 0);
  const p = await fs.lstat(join(target, 'p/fifo999'));
  assert.ok(p.isFIFO());
  assert.equal(p.mode & 0o777, 0o640);
});

// ---------------------------------------------------------------- fidelity

test('xattrs on directories, symlinks and devices, names with "=" and any byte', { skip: requires('root') }, async (t) => {
  const { target } = await setup(t);
  const cap = Buffer.alloc(20);
  cap.writeUInt32LE(0x02000001, 0);
  cap.writeUInt32LE(1 << 10, 4); // CAP_NET_BIND_SERVICE
  const r = await unpackLayer(
    chunks(
      makeTar([
        { name: 'd/', type: 'dir', xattrs: new Map([['user.dir', Buffer.from('D')]]) },
        { name: 'd/f', data: 'f', xattrs: new Map([['user.a=b', Buffer.from('eq')], ['user.\u00e9\x01', Buffer.from([0, 255])]]) },
        { name: 'd/l', type: 'symlink', linkname: 'f', xattrs: new Map([['security.capability', cap]]) },
        { name: 'd/p', type: 'fifo', xattrs: new Map([['user.fifo', Buffer.from('P')]]) },
        { name: 'd/tool', data: 'x', mode: 0o755, xattrs: new Map([['security.capability', cap]]) },
      ]),
    ),
    target,
  );
  const x = await dumpXattrs(target);
  const at = (p: string) => x.get(join(target, p)) ?? new Map<string, Buffer>();
  assert.equal(at('d').get('user.dir')?.toString(), 'D');
  assert.equal(at('d/f').get('user.a=b')?.toString(), 'eq');
  assert.deepEqual(at('d/f').get('user.\u00e9\x01'), Buffer.from([0, 255]));
  assert.deepEqual(at('d/l').get('security.capability'), cap);
  assert.deepEqual(at('d/tool').get('security.capability'), cap);
  // The kernel takes user.* only on files and directories: a fifo's is a warning.
  assert.equal(at('d/p').get('user.fifo'), undefined);
  assert.deepEqual(r.warnings, ['layer entry "d/p": extended attribute "user.fifo" not set: lsetxattr: EPERM']);
});

test('xattr names GNU tar encodes (%3D, %25) read back as they were', { skip: requires('root') }, async (t) => {
  const { dir, target } = await setup(t);
  const src = join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(join(src, 'f'), 'f');
  execFileSync('setfattr', ['-n', 'user.p%q=r', '-v', 'v', join(src, 'f')]);
  const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-cf', '-', '-C', src, 'f']);
  await unpackLayer(chunks(tar), target);
  const x = await dumpXattrs(target);
  assert.equal(x.get(join(target, 'f'))?.get('user.p%q=r')?.toString(), 'v');
});

test('kernel-read xattrs from an image (trusted.overlay.*, security.selinux) are dropped with a warning', { skip: requires('root') }, async (t) => {
  const { target } = await setup(t);
  const r = await unpackLayer(
    chunks(
      makeTar([
        {
          name: 'f',
          data: 'f',
          xattrs: new Map([
            ['trusted.overlay.metacopy', Buffer.alloc(0)],
            ['trusted.overlay.redirect', Buffer.from('/etc/shadow')],
            ['security.selinux', Buffer.from('system_u:object_r:shadow_t:s0')],
            ['user.kept', Buffer.from('k')],
          ]),
        },
        { name: 'd/', type: 'dir', xattrs: new Map([['trusted.overlay.opaque', Buffer.from('y')]]) },
      ]),
    ),
    target,
    { whiteouts: 'overlay' },
  );
  const x = await dumpXattrs(target);
  assert.deepEqual([...(x.get(join(target, 'f'))?.keys() ?? [])], ['user.kept']);
  assert.equal(x.get(join(target, 'd')), undefined);
  assert.equal(r.warnings.length, 4);
  assert.ok(r.warnings.every((w) => /^entry "(f|d\/)": extended attribute "(trusted|security)\.[a-z.]+" dropped/.test(w)), r.warnings.join('\n'));
});

test('a bad security.capability value fails naming the entry', async (t) => {
  const { target } = await setup(t);
  await assert.rejects(
    unpackLayer(chunks(makeTar([{ name: 'bin/ping', data: 'x', xattrs: new Map([['security.capability', Buffer.from('garbage')]]) }])), target),
    (e) => {
      code('LAYER_UNSAFE', 'bin/ping')(e);
      assert.ok(!(e as Error).message.includes(target), 'no host path in the message');
      return true;
    },
  );
});

test('duplicate directory entries: the last one wins, as GNU tar and containerd', async (t) => {
  const { target } = await setup(t);
  await unpackLayer(
    chunks(
      makeTar([
        { name: 'd/', type: 'dir', mode: 0o700, mtime: 1000 },
        { name: 'd/x', data: 'x' },
        { name: 'd/', type: 'dir', mode: 0o751, mtime: 2000 },
        { name: 'e/', type: 'dir', mode: 0o755 },
        { name: 'e/', type: 'dir', mode: 0o700 },
      ]),
    ),
    target,
  );
  const d = await fs.stat(join(target, 'd'));
  assert.equal(d.mode & 0o777, 0o751);
  assert.equal(d.mtimeMs, 2000_000);
  assert.equal((await fs.stat(join(target, 'e'))).mode & 0o777, 0o700);
});

test('a hard link to a same-layer symlink is never followed as a parent', async (t) => {
  const { target, outside } = await setup(t);
  await assert.rejects(
    unpackLayer(
      chunks(
        makeTar([
          { name: 's', type: 'symlink', linkname: '../outside' },
          { name: 'h', type: 'link', linkname: 's' },
          { name: 'h/pwned', data: 'x' },
        ]),
      ),
      target,
    ),
    code('LAYER_UNSAFE', 'h/pwned'),
  );
  assert.deepEqual(await fs.readdir(outside), ['secret']);
});

test('pull: a blob over the size limit is refused before anything downloads', { skip: registryMissing() }, async (t) => {
  const { dir } = await setup(t);
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const ref = `${reg.host}/hostile/big:1`;
  const src = new ImageService({ root: join(dir, 'src') });
  await src.import(chunks(makeTar([{ name: 'big', data: randomBytes(3 << 20) }])), { reference: ref });
  await src.push(ref);
  const dst = new ImageService({ root: join(dir, 'dst'), limits: { maxBlobSize: 1 << 20 } });
  await assert.rejects(dst.pull(ref), code('LAYER_TOO_LARGE'));
  const blobs = await fs.readdir(join(dir, 'dst/blobs/sha256'));
  assert.deepEqual(blobs, [], 'no blob was stored');
  assert.deepEqual(await fs.readdir(join(dir, 'dst/ingest')), []);
});
