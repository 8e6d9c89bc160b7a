import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MOUNT_ATTR, MS } from '../../../src/runtime/linux/constants.js';
import { parseMountOptions } from '../../../src/runtime/plan/mount-options.js';

test('attribute options set and clear, the last one wins', () => {
  const p = parseMountOptions(['ro', 'nosuid', 'rw', 'noexec', 'exec'], false, 'o');
  assert.equal(p.attrs, MOUNT_ATTR.NOSUID);
  assert.equal(p.attrsClr, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOEXEC);
});

test('atime options replace each other and clear the whole atime field', () => {
  const p = parseMountOptions(['noatime', 'strictatime'], false, 'o');
  assert.equal(p.attrs, MOUNT_ATTR.STRICTATIME);
  assert.equal(p.attrsClr, MOUNT_ATTR._ATIME);
});

test('recursive options go to the tree, "relatime" is not recursive "elatime"', () => {
  const p = parseMountOptions(['rbind', 'rro', 'rnosuid', 'relatime'], false, 'o');
  assert.equal(p.bind, true);
  assert.equal(p.recursive, true);
  assert.equal(p.recAttrs, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID);
  assert.equal(p.attrsClr, MOUNT_ATTR._ATIME);
});

test('propagation options', () => {
  assert.equal(parseMountOptions(['rslave'], false, 'o').propagation, MS.SLAVE | MS.REC);
  assert.equal(parseMountOptions(['shared'], false, 'o').propagation, MS.SHARED);
  assert.equal(parseMountOptions(['runbindable'], false, 'o').propagation, MS.UNBINDABLE | MS.REC);
});

test('filesystem parameters pass through as key/value pairs; defaults are dropped', () => {
  const p = parseMountOptions(['defaults', 'size=64m', 'mode=1777', 'newinstance'], false, 'o');
  assert.deepEqual(p.fsParams, [
    ['size', '64m'],
    ['mode', '1777'],
    ['newinstance', ''],
  ]);
});

test("a bind mount's filesystem parameters have no effect: kept aside, named, for a warning (runc ignores them)", () => {
  const p = parseMountOptions(['bind', 'size=1k', 'mode=755', 'ro'], false, 'mounts[2].options');
  assert.deepEqual(p.fsParams, []);
  assert.deepEqual(p.ignored, [
    ['mounts[2].options[1]', 'size=1k'],
    ['mounts[2].options[2]', 'mode=755'],
  ]);
});

test('idmap and ridmap mark bind mounts; elsewhere, and the crun form, are refused', () => {
  assert.equal(parseMountOptions(['rbind', 'idmap'], false, 'm.options').idmap, 'idmap');
  assert.equal(parseMountOptions(['bind', 'ridmap'], false, 'm.options').idmap, 'ridmap');
  assert.throws(() => parseMountOptions(['idmap'], false, 'm.options'), /m\.options: "idmap" applies to bind mounts only/);
  assert.throws(() => parseMountOptions(['rbind', 'idmap=uids=0-1-1'], false, 'm.options'), { code: 'UNSUPPORTED_FIELD' });
  assert.throws(() => parseMountOptions(['remount'], false, 'm.options'), /m\.options\[0\]/);
});
