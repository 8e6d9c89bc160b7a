import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETACH_KEYS, demultiplexer, detachFilter, parseDetachKeys } from '../../../src/cli/brig/attach-session.js';

test("--detach-keys takes docker's syntax; a bad key is refused naming the flag", () => {
  assert.deepEqual(parseDetachKeys(undefined), DEFAULT_DETACH_KEYS);
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-_,DEL')], [0, 31, 127]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\) provided/);
  assert.throws(() => parseDetachKeys('ab'), /Invalid detach keys/);
});

test('the detach filter holds back a possible sequence, lets a broken one through, and detaches on the whole one', () => {
  const f = detachFilter(Buffer.from([16, 17]));
  assert.deepEqual(f(Buffer.from('ab')), { pass: Buffer.from('ab'), detached: false });
  assert.deepEqual(f(Buffer.from([99, 16])), { pass: Buffer.from([99]), detached: false }, 'ctrl-p waits');
  assert.deepEqual(f(Buffer.from('x')), { pass: Buffer.from([16, 120]), detached: false }, 'not followed by ctrl-q: both go');
  assert.deepEqual(f(Buffer.from([16, 16, 17])), { pass: Buffer.from([16]), detached: true }, 'a second ctrl-p starts the sequence again');
  const g = detachFilter(Buffer.from([16, 17]));
  g(Buffer.from('ls'));
  g(Buffer.from([16]));
  assert.deepEqual(g(Buffer.from([17, 120])), { pass: Buffer.alloc(0), detached: true }, 'across reads');
});

test('stream frames are taken apart however the bytes are cut', () => {
  const got: [number, string][] = [];
  const d = demultiplexer((s, b) => got.push([s, b.toString()]));
  const frame = (s: number, t: string) => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, t.length]), Buffer.from(t)]);
  const all = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, '')]);
  for (let i = 0; i < all.length; i += 3) d(all.subarray(i, i + 3));
  assert.deepEqual(got, [
    [1, 'out\n'],
    [2, 'err\n'],
    [1, ''],
  ]);
});
