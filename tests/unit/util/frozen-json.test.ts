import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frozen, frozenWith, jsonBuffer } from '../../../src/util/frozen-json.js';

test('jsonBuffer writes what JSON.stringify writes, frozen elements or not', () => {
  const a = frozen({ Id: 'a', Names: ['/x'], Labels: { 'k é': 'v\n"' } });
  const b = { Id: 'b', n: 1 };
  const values: unknown[] = [[a, b, a], [b], [], [a, undefined, null, 3, 'é'], a, b, 'text', 7, null, { nested: [a] }];
  for (const v of values) {
    assert.equal(jsonBuffer(v, '\n').toString(), `${JSON.stringify(v)}\n`, JSON.stringify(v));
    assert.equal(jsonBuffer(v).toString(), JSON.stringify(v));
  }
});

test('a frozen object is encoded once and cannot be changed after', () => {
  const a = frozen({ Id: 'a', Status: 'Up 1 second' });
  assert.equal(jsonBuffer(a), jsonBuffer(a), 'the same encoding, not a new one');
  assert.throws(() => {
    (a as { Status: string }).Status = 'Up 2 seconds';
  }, TypeError);
  assert.equal(jsonBuffer([a]).toString(), '[{"Id":"a","Status":"Up 1 second"}]');
});

test('frozenWith: a new value of the last key, encoded from the first object\'s JSON, as JSON.stringify writes it', () => {
  const a = frozen({ Id: 'a', Labels: { k: 'v "q"' }, Status: 'Up 1 second' });
  jsonBuffer([a]);
  let v = a;
  for (const st of ['Up 2 seconds', 'Up "3" seconds', 'Up é', 'Up 2 seconds']) {
    v = frozenWith(v, 'Status', st);
    assert.ok(Object.isFrozen(v));
    assert.equal(jsonBuffer([v, a]).toString(), JSON.stringify([v, a]));
  }
  assert.equal(a.Status, 'Up 1 second', 'the first one is as it was');
  // Not the last key: still right, by JSON.stringify.
  const b = frozen({ Status: 'x', Id: 'b' });
  const c = frozenWith(b, 'Status', 'y');
  assert.equal(jsonBuffer(c).toString(), JSON.stringify({ Status: 'y', Id: 'b' }));
});
