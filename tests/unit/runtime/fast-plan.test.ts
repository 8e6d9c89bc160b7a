/**
 * The fast start and delete plans create writes (src/runtime/fast-plan.ts): which exist,
 * the order of their operations, and the file format the launcher reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFastPlans, encodeFastPlan } from '../../../src/runtime/fast-plan.js';
import type { StoredState } from '../../../src/runtime/state.js';

const s: StoredState = {
  ociVersion: '1.2.0',
  id: 'c1',
  status: 'created',
  pid: 42,
  pidStartTime: '1234',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00.000Z',
};
const written = JSON.stringify(s);
const removal = { leaves: ['/cg/pids/brig/c1', '/cg/memory/brig/c1'], parents: [['/cg/pids/brig'], ['/cg/memory/brig']] };

test('start: guards, the release, then what Node records, in its order', () => {
  const plans = compileFastPlans('/run/x/c1', s, written, removal, true);
  assert.deepEqual(plans.start!.map((o) => o.op), ['container', 'state-is', 'init-alive', 'release', 'commit', 'unlink', 'write-file', 'unlink', 'await-exec']);
  const write = plans.start!.find((o) => o.op === 'write-file')!;
  assert.deepEqual(write, { op: 'write-file', path: '/run/x/c1/state.json', content: JSON.stringify({ ...s, status: 'running' }) });
});

test('delete: init gone (or killed with --force), then the cgroups in destroy order, then the state directory', () => {
  const plans = compileFastPlans('/run/x/c1', s, written, removal, true);
  const ops = ['container', 'state-is', 'only-files', 'rmdir', 'rmdir', 'rmdir-chain', 'rmdir-chain', 'commit', 'remove-dir'];
  assert.deepEqual(plans.delete!.map((o) => o.op), [...ops.slice(0, 2), 'init-gone', ...ops.slice(2)]);
  assert.deepEqual(plans.deleteForce!.map((o) => o.op), [...ops.slice(0, 2), 'kill-init', ...ops.slice(2)]);
  // Created or started: both states are the container the plan was made for.
  assert.equal((plans.delete![1] as { contents: string[] }).contents.length, 2);
  // A detached run is running already: one state, no start plan.
  const run = compileFastPlans('/run/x/c1', { ...s, status: 'running' }, written, removal, false);
  assert.equal(run.start, undefined);
  assert.equal((run.delete![1] as { contents: string[] }).contents.length, 1);
});

test('poststart hooks leave start to Node, poststop hooks delete', () => {
  const hook = [{ path: '/bin/true' }];
  assert.deepEqual(Object.keys(compileFastPlans('/d', { ...s, hooks: { poststart: hook } }, written, removal, true)), ['delete', 'deleteForce']);
  assert.deepEqual(Object.keys(compileFastPlans('/d', { ...s, hooks: { poststop: hook } }, written, removal, true)), ['start']);
});

test('the file: a version line, length-prefixed arguments (bytes, not characters), an end line', () => {
  const text = encodeFastPlan([
    { op: 'container', id: 'c1', dir: '/d/é' },
    { op: 'commit' },
    { op: 'rmdir-chain', paths: ['/a b', '/c'] },
  ]).toString();
  assert.equal(text, 'brig-fast 1\ncontainer 2:c1 5:/d/é\ncommit\nrmdir-chain 4:/a b 2:/c\nend\n');
});
