import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../../src/cli/args.js';
import { parseSignal } from '../../../src/util/signals.js';

const SPECS = {
  bundle: { kind: 'string' as const, short: 'b' },
  detach: { kind: 'bool' as const, short: 'd' },
  n: { kind: 'int' as const },
};

test('long, short, = forms and positionals', () => {
  const p = parseArgs(['--bundle=/x', '-d', 'id', '--n', '3'], SPECS);
  assert.deepEqual(p.flags, { bundle: '/x', detach: true, n: 3 });
  assert.deepEqual(p.rest, ['id']);
  assert.deepEqual(parseArgs(['-b', '/y', '--', '-id'], SPECS).rest, ['-id']);
});

test('global parsing stops at the verb', () => {
  assert.deepEqual(parseArgs(['--bundle', 'x', 'run', '--detach'], SPECS, true).rest, ['run', '--detach']);
});

test('unknown flags and missing values are errors naming the flag', () => {
  assert.throws(() => parseArgs(['--nope'], SPECS), /unknown flag --nope/);
  assert.throws(() => parseArgs(['--bundle'], SPECS), /flag --bundle needs a value/);
  assert.throws(() => parseArgs(['--n', 'x'], SPECS), /flag --n: "x" is not a number/);
});

test('signals by name with or without SIG, and by number', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal('10'), 10);
  assert.throws(() => parseSignal('NOPE'));
  assert.throws(() => parseSignal('0'));
});
