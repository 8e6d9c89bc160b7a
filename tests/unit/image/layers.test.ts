import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { BrigError } from '../../../src/errors/index.js';
import { sha256 } from '../../../src/image/digest.js';
import { createLayer, tarTree } from '../../../src/image/layers/create.js';
import { findTool } from '../../../src/image/layers/host-tools.js';
import { readTar } from '../../../src/image/layers/tar-reader.js';
import { encodeHeader, padding } from '../../../src/image/layers/tar-writer.js';
import { unpackLayer } from '../../../src/image/layers/unpack.js';
import { BlobStore } from '../../../src/image/store/blob-store.js';
import { chunks, makeTar, makeTarGz, type TestEntry } from '../../support/image-tar.js';
import { layerTarget, tempDir } from '../../support/image-tmp.js';

const root = process.getuid?.() === 0;

const setup = (t: { after: (fn: () => Promise<void>) => void }) => layerTarget(t);

async function listOutside(outside: string): Promise<string[]> {
  return (await fs.readdir(outside, { recursive: true })).sort();
}

function refused(code: string, entry: string) {
  return (e: unknown) => {
    assert.ok(e instanceof BrigError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(`"${entry}"`), `message names "${entry}": ${e.message}`);
    return true;
  };
}

test('tar reader: ustar, pax long names and xattrs, GNU long names, checksums', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const tar = makeTar([
    { name: 'a/', type: 'dir', mode: 0o750 },
    { name: 'a/file', data: 'hello', mode: 0o640, uid: 1000, gid: 1001 },
    { name: long, data: 'x' },
    { name: 'x', xattrs: new Map([['user.k', Buffer.from([0, 1, 2, 255])]]) },
    { name: 'l', type: 'symlink', linkname: 'y'.repeat(300) },
  ]);
  // A GNU long name record before a short-named entry.
  const gnuName = 'g'.repeat(200);
  const gnu = Buffer.concat([
    encodeHeader({ name: '././@LongLink', type: 'file', size: gnuName.length + 1 }),
    Buffer.from(`${gnuName}\0`),
    padding(gnuName.length + 1),
  ]);
  gnu[156] = 'L'.charCodeAt(0);
  // Fix the checksum after changing the type flag.
  gnu.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += gnu[i]!;
  gnu.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const gnuTar = Buffer.concat([gnu, makeTar([{ name: 'short', data: 'g' }])]);

  const seen: Record<string, string> = {};
  for await (const e of readTar(chunks(Buffer.concat([tar.subarray(0, tar.length - 1024), gnuTar])))) {
    let body = '';
    for await (const c of e.body()) body += c.toString();
    seen[e.header.name] = `${e.header.type}:${body}:${e.header.linkname.length}`;
    if (e.header.name === 'a/file') {
      assert.equal(e.header.mode, 0o640);
      assert.equal(e.header.uid, 1000);
      assert.equal(e.header.gid, 1001);
    }
    if (e.header.name === 'x') assert.deepEqual(e.header.xattrs.get('user.k'), Buffer.from([0, 1, 2, 255]));
  }
  assert.deepEqual(Object.keys(seen), ['a/', 'a/file', long, 'x', 'l', gnuName]);
  assert.equal(seen[gnuName], 'file:g:0');
  assert.equal(seen.l, 'symlink::300');

  const corrupt = Buffer.from(tar);
  corrupt[10] = corrupt[10]! ^ 1;
  await assert.rejects(async () => {
    for await (const _ of readTar(chunks(corrupt)));
  }, /checksum/);
  await assert.rejects(
    async () => {
      for await (const e of readTar(chunks(tar.subarray(0, 700)))) for await (const _ of e.body());
    },
    { code: 'INVALID_TAR' },
  );
});

test('GNU tar can list layers brig creates, and brig reads what GNU tar writes', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const src = join(dir, 'src');
  await fs.mkdir(join(src, 'sub', 'x'.repeat(120)), { recursive: true });
  await fs.writeFile(join(src, 'sub', 'x'.repeat(120), 'y'.repeat(100)), 'deep');
  await fs.symlink('sub', join(src, 'link'));
  const tarFile = join(dir, 'out.tar');
  const parts: Buffer[] = [];
  for await (const c of tarTree(src)) parts.push(c);
  await fs.writeFile(tarFile, Buffer.concat(parts));
  const listing = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' });
  assert.ok(listing.includes(`sub/${'x'.repeat(120)}/${'y'.repeat(100)}`));
  const gnuTar = join(dir, 'gnu.tar');
  execFileSync('tar', ['--format=gnu', '-cf', gnuTar, '-C', src, '.']);
  const names: string[] = [];
  for await (const e of readTar(chunks(await fs.readFile(gnuTar)))) names.push(e.header.name);
  assert.ok(names.includes(`./sub/${'x'.repeat(120)}/${'y'.repeat(100)}`));
});

test('unpack: files, dirs, links, modes, times, owners, xattrs, fifo, devices; gzip and zstd', async (t) => {
  const { target } = await setup(t);
  const entries: TestEntry[] = [
    { name: './', type: 'dir', mode: 0o755 },
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', data: 'BB', mode: 0o4755, uid: 0, gid: 0, mtime: 1600000000 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
    { name: 'etc/deep/file', data: 'implied parents', mode: 0o600, uid: 1000, gid: 1000 },
    { name: 'ro/', type: 'dir', mode: 0o555, mtime: 1500000000 },
    { name: 'ro/inner', data: 'x' },
    { name: 'fifo', type: 'fifo', mode: 0o644 },
    { name: 'x', data: 'x', xattrs: new Map([['user.brig', Buffer.from('yes')]]) },
  ];
  if (root) entries.push({ name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 });
  const tar = makeTar(entries);
  const r = await unpackLayer(chunks(makeTarGz(entries)), target, { diffID: sha256(tar) });
  assert.equal(r.diffID, sha256(tar));
  assert.equal(r.entries, entries.length);
  const bb = await fs.lstat(join(target, 'bin/busybox'));
  assert.equal(bb.mode & 0o7777, 0o4755);
  assert.equal(bb.mtimeMs, 1600000000_000);
  assert.equal(bb.nlink, 2);
  assert.equal(await fs.readlink(join(target, 'bin/sh')), 'busybox');
  assert.equal((await fs.lstat(join(target, 'ro'))).mode & 0o777, 0o555);
  assert.equal((await fs.lstat(join(target, 'ro'))).mtimeMs, 1500000000_000);
  assert.ok((await fs.lstat(join(target, 'fifo'))).isFIFO());
  if (root) {
    const f = await fs.lstat(join(target, 'etc/deep/file'));
    assert.equal(f.uid, 1000);
    const n = await fs.lstat(join(target, 'null'));
    assert.ok(n.isCharacterDevice());
    assert.equal(n.rdev, 0x103);
  }
  if (findTool('getfattr')) {
    const out = execFileSync('getfattr', ['-n', 'user.brig', '--only-values', join(target, 'x')], {
      encoding: 'utf8',
    });
    assert.equal(out, 'yes');
  }
  // zstd, and a diffID mismatch is an error.
  const { target: t2 } = await setup(t);
  await unpackLayer(chunks(zstdCompressSync(tar)), t2);
  assert.equal(await fs.readFile(join(t2, 'etc/deep/file'), 'utf8'), 'implied parents');
  const { target: t3 } = await setup(t);
  await assert.rejects(unpackLayer(chunks(tar), t3, { diffID: sha256('other') }), {
    code: 'DIGEST_MISMATCH',
  });
});

test('unpack: a lower-layer symlink parent is followed inside the root', async (t) => {
  const { target, outside } = await setup(t);
  await fs.mkdir(join(target, 'usr/lib'), { recursive: true });
  await fs.symlink('usr/lib', join(target, 'lib'));
  await fs.symlink('/usr/lib', join(target, 'lib64'));
  await unpackLayer(
    chunks(
      makeTar([
        { name: 'lib/a', data: 'a' },
        { name: 'lib64/b', data: 'b' },
      ]),
    ),
    target,
  );
  assert.equal(await fs.readFile(join(target, 'usr/lib/a'), 'utf8'), 'a');
  assert.equal(await fs.readFile(join(target, 'usr/lib/b'), 'utf8'), 'b');
  assert.deepEqual(await listOutside(outside), ['secret']);
});

test('unpack: replacing a symlink never writes through it', async (t) => {
  const { target, outside } = await setup(t);
  await fs.symlink('../outside/secret', join(target, 'f'));
  await unpackLayer(chunks(makeTar([{ name: 'f', data: 'mine' }])), target);
  assert.equal(await fs.readFile(join(outside, 'secret'), 'utf8'), 'secret');
  assert.equal(await fs.readFile(join(target, 'f'), 'utf8'), 'mine');
});

const hostile: {
  name: string;
  entries: TestEntry[];
  entry: string;
  lower?: (target: string) => Promise<void>;
}[] = [
  { name: 'traversal', entries: [{ name: '../outside/pwned', data: 'x' }], entry: '../outside/pwned' },
  {
    name: 'nested traversal',
    entries: [{ name: 'a/../../outside/pwned', data: 'x' }],
    entry: 'a/../../outside/pwned',
  },
  { name: 'absolute path', entries: [{ name: '/tmp/pwned', data: 'x' }], entry: '/tmp/pwned' },
  {
    name: 'symlink escape (write through a layer symlink)',
    entries: [
      { name: 's', type: 'symlink', linkname: '../outside' },
      { name: 's/pwned', data: 'x' },
    ],
    entry: 's/pwned',
  },
  {
    name: 'symlink escape (absolute layer symlink)',
    entries: [
      { name: 's', type: 'symlink', linkname: '/' },
      { name: 's/pwned', data: 'x' },
    ],
    entry: 's/pwned',
  },
  {
    name: 'symlink escape (lower symlink climbing out)',
    lower: (t) => fs.symlink('../../outside', join(t, 'low')),
    entries: [{ name: 'low/pwned', data: 'x' }],
    entry: 'low/pwned',
  },
  {
    name: 'hard link escape (..)',
    entries: [{ name: 'h', type: 'link', linkname: '../outside/secret' }],
    entry: 'h',
  },
  {
    name: 'hard link escape (absolute)',
    entries: [{ name: 'h', type: 'link', linkname: '/etc/passwd' }],
    entry: 'h',
  },
  {
    name: 'hard link escape (through a layer symlink)',
    entries: [
      { name: 's', type: 'symlink', linkname: '../outside' },
      { name: 'h', type: 'link', linkname: 's/secret' },
    ],
    entry: 'h',
  },
  {
    name: 'hard link escape (through a lower symlink)',
    lower: (t) => fs.symlink('../outside', join(t, 'low')),
    entries: [{ name: 'h', type: 'link', linkname: 'low/secret' }],
    entry: 'h',
  },
  { name: 'whiteout of ..', entries: [{ name: 'a/.wh..', data: '' }], entry: 'a/.wh..' },
  { name: 'whiteout of nothing', entries: [{ name: '.wh.', data: '' }], entry: '.wh.' },
  { name: 'reserved whiteout', entries: [{ name: '.wh..wh.plnk', data: '' }], entry: '.wh..wh.plnk' },
  {
    name: 'whiteout through a layer symlink',
    entries: [
      { name: 's', type: 'symlink', linkname: '../outside' },
      { name: 's/.wh.secret', data: '' },
    ],
    entry: 's/.wh.secret',
  },
  {
    name: 'opaque whiteout through a lower symlink',
    lower: (t) => fs.symlink('../outside', join(t, 'low')),
    entries: [{ name: 'low/.wh..wh..opq', data: '' }],
    entry: 'low/.wh..wh..opq',
  },
];

for (const h of hostile) {
  test(`hostile layer refused: ${h.name}`, async (t) => {
    const { target, outside } = await setup(t);
    await h.lower?.(target);
    const before = await listOutside(outside);
    await assert.rejects(unpackLayer(chunks(makeTarGz(h.entries)), target), refused('LAYER_UNSAFE', h.entry));
    assert.deepEqual(await listOutside(outside), before);
    assert.equal(await fs.readFile(join(outside, 'secret'), 'utf8'), 'secret');
  });
}

test('hostile layer refused: gzip bomb (size limit) and too many entries', async (t) => {
  const { target } = await setup(t);
  const bomb = makeTarGz([{ name: 'zeros', data: Buffer.alloc(64 << 20) }]);
  assert.ok(bomb.length < 200_000);
  await assert.rejects(
    unpackLayer(chunks(bomb, 65536), target, { maxLayerSize: 16 << 20 }),
    refused('LAYER_TOO_LARGE', 'zeros'),
  );
  assert.deepEqual(await fs.readdir(target), []);
  const many = makeTarGz(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: '' })));
  await assert.rejects(
    unpackLayer(chunks(many), target, { maxEntries: 10 }),
    refused('LAYER_TOO_LARGE', 'f10'),
  );
  // Padding after the end marker counts too.
  const padded = Buffer.concat([makeTar([{ name: 'a', data: 'a' }]), Buffer.alloc(32 << 20)]);
  await assert.rejects(unpackLayer(chunks(padded, 1 << 20), target, { maxLayerSize: 8 << 20 }), {
    code: 'LAYER_TOO_LARGE',
  });
});

test('whiteouts: remove mode deletes lower content and keeps this layer', async (t) => {
  const { target } = await setup(t);
  await fs.mkdir(join(target, 'd/sub'), { recursive: true });
  await fs.writeFile(join(target, 'd/old'), 'old');
  await fs.writeFile(join(target, 'gone'), 'x');
  await fs.mkdir(join(target, 'gonedir/x'), { recursive: true });
  await unpackLayer(
    chunks(
      makeTar([
        { name: 'd/', type: 'dir' },
        { name: 'd/new', data: 'new' },
        { name: 'd/.wh..wh..opq', data: '' },
        { name: '.wh.gone', data: '' },
        { name: '.wh.gonedir', data: '' },
        { name: 'missing/.wh.nothing', data: '' },
      ]),
    ),
    target,
  );
  assert.deepEqual((await fs.readdir(join(target, 'd'))).sort(), ['new']);
  assert.deepEqual((await fs.readdir(target)).sort(), ['d']);
});

test('whiteouts: overlay mode makes 0:0 devices and opaque xattrs', {
  skip: (!root && 'needs root (mknod, trusted.* xattrs)') || (!findTool('setfattr') && 'attr not installed'),
}, async (t) => {
  const { target } = await setup(t);
  await unpackLayer(
    chunks(
      makeTar([
        { name: '.wh.gone', data: '' },
        { name: 'd/.wh..wh..opq', data: '' },
        { name: 'd/f', data: 'f' },
      ]),
    ),
    target,
    { whiteouts: 'overlay' },
  );
  const w = await fs.lstat(join(target, 'gone'));
  assert.ok(w.isCharacterDevice() && w.rdev === 0);
  const v = execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', join(target, 'd')], {
    encoding: 'utf8',
  });
  assert.equal(v, 'y');
  // And the diff of such an upper dir turns them back into OCI whiteouts.
  const names: string[] = [];
  for await (const e of readTar(tarTree(target, { overlayDiff: true }))) names.push(e.header.name);
  assert.deepEqual(names, ['d/', 'd/.wh..wh..opq', 'd/f', '.wh.gone']);
});

test('createLayer round-trips through unpack with equal content and digests', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const src = join(dir, 'src');
  await fs.mkdir(join(src, 'bin'), { recursive: true });
  await fs.writeFile(join(src, 'bin/tool'), Buffer.alloc(100_000, 1), { mode: 0o755 });
  await fs.link(join(src, 'bin/tool'), join(src, 'bin/alias'));
  await fs.symlink('tool', join(src, 'bin/sym'));
  const blobs = new BlobStore({ root: join(dir, 'store') });
  await blobs.init();
  const layer = await createLayer(src, blobs);
  assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(layer.size, (await fs.stat(blobs.path(layer.digest))).size);
  const again = await createLayer(src, blobs);
  assert.equal(again.digest, layer.digest, 'deterministic');
  const out = join(dir, 'out');
  await fs.mkdir(out);
  const r = await unpackLayer(blobs.open(layer.digest), out, { diffID: layer.diffID });
  assert.equal(r.diffID, layer.diffID);
  assert.equal((await fs.stat(join(out, 'bin/alias'))).nlink, 2);
  assert.equal(await fs.readlink(join(out, 'bin/sym')), 'tool');
  assert.equal((await fs.stat(join(out, 'bin/tool'))).mode & 0o777, 0o755);
});

test('a system error while writing names the entry', async (t) => {
  const { target } = await setup(t);
  const long = `${'n'.repeat(300)}`;
  await assert.rejects(
    unpackLayer(chunks(makeTar([{ name: long, data: 'x' }])), target),
    refused('LAYER_APPLY_FAILED', long),
  );
});

test('corrupt gzip data is INVALID_TAR', async (t) => {
  const { target } = await setup(t);
  const gz = makeTarGz([{ name: 'a', data: 'x'.repeat(10000) }]);
  gz[gz.length - 6] = gz[gz.length - 6]! ^ 0xff;
  await assert.rejects(unpackLayer(chunks(gz), target), { code: 'INVALID_TAR' });
});
