import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frozen, jsonBuffer } from '../../../src/util/frozen-json.js';

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
