/**
 * ParsedFileCache: a file is parsed again exactly when the file system says it changed, a
 * file gone is gone from the cache, and retain forgets what a listing no longer has.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ParsedFileCache } from '../../../src/util/parsed-file-cache.js';

test('parsed once while unchanged; again after an in-place write or a rename over it; undefined once removed', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-pfc-'));
  try {
    const file = path.join(dir, 'a.json');
    const cache = new ParsedFileCache<{ v: number }>();
    let parses = 0;
    const parse = (t: string) => (parses++, JSON.parse(t) as { v: number });
    writeFileSync(file, '{"v":1}');
    const first = cache.read(file, parse);
    assert.deepEqual(first, { v: 1 });
    assert.equal(cache.read(file, parse), first, 'the same object, not parsed again');
    assert.equal(parses, 1);
    // Same size, in place: mtime/ctime (nanoseconds) tell.
    writeFileSync(file, '{"v":2}');
    assert.deepEqual(cache.read(file, parse), { v: 2 });
    // Renamed over (a new inode), as records are written.
    writeFileSync(path.join(dir, 'tmp'), '{"v":3}');
    renameSync(path.join(dir, 'tmp'), file);
    assert.deepEqual(cache.read(file, parse), { v: 3 });
    assert.equal(parses, 3);
    rmSync(file);
    assert.equal(cache.read(file, parse), undefined);
    assert.equal(cache.size, 0, 'a file gone is forgotten');
    assert.equal(cache.read(path.join(dir, 'no', 'such'), parse), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retain keeps the files a listing still has and forgets the others; a parse error reaches the caller and caches nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-pfc-'));
  try {
    const cache = new ParsedFileCache<unknown>();
    const files = ['a', 'b', 'c'].map((n) => path.join(dir, n));
    for (const f of files) writeFileSync(f, '1');
    for (const f of files) cache.read(f, JSON.parse);
    cache.retain(new Set([files[0]!]));
    assert.equal(cache.size, 1);
    writeFileSync(files[1]!, '{bad');
    assert.throws(() => cache.read(files[1]!, JSON.parse), SyntaxError);
    assert.equal(cache.size, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
