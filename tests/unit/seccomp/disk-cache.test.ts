/** The on-disk cache of compiled seccomp programs: round trip, a damaged entry is a miss, bounded size. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DiskSeccompCache, fnv64 } from '../../../src/runtime/seccomp/disk-cache.js';

const program = (n: number) => ({ bytes: new Uint8Array(Array.from({ length: n * 8 }, (_, i) => i & 0xff)), instructions: n, flags: 2, notify: false });

test('a program comes back as it was stored; unknown keys miss', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-cache-'));
  try {
    const c = new DiskSeccompCache(path.join(dir, 'cache'));
    assert.equal(c.get('nope'), undefined, 'no directory yet: a miss');
    c.set('k1', program(3));
    assert.deepEqual(c.get('k1'), program(3));
    assert.equal(new DiskSeccompCache(path.join(dir, 'cache')).get('k1')?.instructions, 3, 'another process reads it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated, altered or garbled entry is a miss, never a wrong filter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-cache-'));
  try {
    const c = new DiskSeccompCache(dir);
    c.set('k', program(4));
    const file = path.join(dir, fnv64(Buffer.from('k')));
    const good = readFileSync(file);
    writeFileSync(file, good.subarray(0, good.length - 8));
    assert.equal(c.get('k'), undefined, 'truncated');
    const altered = Buffer.from(good);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 1, altered.length - 1);
    writeFileSync(file, altered);
    assert.equal(c.get('k'), undefined, 'one bit changed');
    writeFileSync(file, 'not json\n12345678');
    assert.equal(c.get('k'), undefined, 'garbage');
    writeFileSync(file, good);
    assert.deepEqual(c.get('k'), program(4));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an entry read under another key's name (a colliding file name) is a miss: the key is compared whole", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-cache-'));
  try {
    const c = new DiskSeccompCache(dir);
    const strict = 'build\0x86_64\0{"defaultAction":"SCMP_ACT_ERRNO"}';
    const weak = 'build\0x86_64\0{"defaultAction":"SCMP_ACT_ALLOW"}';
    c.set(weak, program(1));
    // As if the weak profile's entry had the strict one's name.
    writeFileSync(path.join(dir, fnv64(Buffer.from(strict))), readFileSync(path.join(dir, fnv64(Buffer.from(weak)))));
    assert.equal(c.get(strict), undefined);
    assert.deepEqual(c.get(weak), program(1));
    assert.equal(fnv64(Buffer.from('')), '811c9dc5050c5d1f');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cache keeps at most 128 entries, the oldest going first, and no temporary files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-cache-'));
  try {
    const c = new DiskSeccompCache(dir);
    for (let i = 0; i < 130; i++) c.set(`k${String(i).padStart(3, '0')}`, program(1));
    const names = readdirSync(dir);
    assert.equal(names.length, 128);
    assert.ok(!names.some((n) => n.startsWith('.')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unwritable cache is only slower: set never throws', () => {
  // Under a regular file: ENOTDIR. (Not under /proc: Node 24's recursive mkdirSync loops for ever there.)
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-cache-'));
  try {
    writeFileSync(path.join(dir, 'file'), '');
    const c = new DiskSeccompCache(path.join(dir, 'file', 'cache'));
    c.set('k', program(1));
    assert.equal(c.get('k'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
