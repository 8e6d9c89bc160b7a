/** The store's lock file: a dead owner's lock and an ownerless one (its maker killed before it wrote its pid) are taken over; a fresh ownerless one is waited for. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { withLock } from '../../../src/image/store/lock.js';

test('a lock with no owner written is taken over once it is ten seconds old; a fresh one times out', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-lock-'));
  try {
    const lock = path.join(dir, 'lock');
    writeFileSync(lock, '');
    await assert.rejects(withLock(lock, async () => 1, { timeoutMs: 200 }), /held by process unknown/);
    const old = new Date(Date.now() - 20_000);
    utimesSync(lock, old, old);
    assert.equal(await withLock(lock, async () => 2, { timeoutMs: 2000 }), 2);
    writeFileSync(lock, '999999999');
    assert.equal(await withLock(lock, async () => 3, { timeoutMs: 2000 }), 3, 'a dead owner');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
