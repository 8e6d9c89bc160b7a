/** brig version's pure parts: Go's time.ANSIC for Built. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ansic } from '../../../src/cli/brig/commands/system/version.js';

test("Built as Go's time.ANSIC", () => {
  assert.equal(ansic('2025-05-30T12:07:14.123Z'), 'Fri May 30 12:07:14 2025');
  assert.equal(ansic('2026-12-06T03:04:05Z'), 'Sun Dec  6 03:04:05 2026');
  assert.equal(ansic(''), '');
  assert.equal(ansic('not a time'), 'not a time');
});
