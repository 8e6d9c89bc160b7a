/**
 * treeUsage (src/image/snapshot/usage.ts), docker's count of a layer's bytes: apparent sizes
 * of all but directories, hard links once, symlinks never followed, depth past PATH_MAX.
 * Without root.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { rmTreeSync } from '../../../src/image/fs-util.js';
import { treeUsage } from '../../../src/image/snapshot/usage.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-usage-'));
after(() => rmTreeSync(tmp));

test('files count their bytes, directories none, a hard-linked file once, a symlink its own length', () => {
  const root = path.join(tmp, 'tree');
  mkdirSync(path.join(root, 'a/b'), { recursive: true });
  writeFileSync(path.join(root, 'a/f'), 'hello'); // 5
  writeFileSync(path.join(root, 'a/b/g'), 'x'.repeat(1000)); // 1000
  linkSync(path.join(root, 'a/b/g'), path.join(root, 'a/hard')); // counted once
  // Symlinks are never followed: a link to a big file outside, or to a directory, is its target's text.
  const outside = path.join(tmp, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'big'), 'y'.repeat(100_000));
  symlinkSync(path.join(outside, 'big'), path.join(root, 'tofile'));
  symlinkSync(outside, path.join(root, 'todir'));
  const linkText = path.join(outside, 'big').length + outside.length;
  assert.deepEqual(treeUsage(root), { size: 5 + 1000 + linkText, inodes: 3 + 2 + 2 });
  assert.deepEqual(treeUsage(path.join(tmp, 'missing')), { size: 0, inodes: 0 });
  // The root itself a symlink: not followed either.
  symlinkSync(outside, path.join(tmp, 'rootlink'));
  assert.deepEqual(treeUsage(path.join(tmp, 'rootlink')), { size: 0, inodes: 0 });
});

test('a tree deeper than PATH_MAX is walked to its bottom', () => {
  const root = path.join(tmp, 'deep');
  mkdirSync(root);
  // 300 levels of 30 characters: ~9.3 KB of path, past PATH_MAX (4096); made by going down
  // with relative chdir, as no absolute path reaches the bottom.
  const back = process.cwd();
  try {
    process.chdir(root);
    for (let i = 0; i < 300; i++) {
      mkdirSync('d'.repeat(30));
      process.chdir('d'.repeat(30));
    }
    writeFileSync('f', 'abc');
  } finally {
    process.chdir(back);
  }
  assert.deepEqual(treeUsage(root), { size: 3, inodes: 1 + 300 + 1 });
  rmTreeSync(root);
});
