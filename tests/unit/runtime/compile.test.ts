import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePlan, execCandidates } from '../../../src/runtime/plan/compile.js';
import { defaultSpec } from '../../../src/runtime/spec/default-spec.js';
import { validateSpec } from '../../../src/runtime/spec/validate.js';
import { FACTS } from '../../support/facts.js';

test('PATH lookup candidates follow the container env, execvp style', () => {
  assert.deepEqual(execCandidates('ls', ['PATH=/a:/b'], '/'), ['/a/ls', '/b/ls']);
  assert.deepEqual(execCandidates('ls', ['PATH=rel::/c'], '/w'), ['/w/rel/ls', '/w/ls', '/c/ls']);
  assert.deepEqual(execCandidates('./x', ['PATH=/a'], '/'), ['./x']);
  assert.equal(execCandidates('ls', [], '/')[0], '/usr/local/sbin/ls');
});

test('the order is fixed: join, clone, sync, mounts, pivot, masks, identity, exec last', () => {
  const plan = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, {
    detach: false,
    noPivot: false,
    preserveFds: 0,
  });
  const names = plan.ops.map((o) => o.op);
  const at = (n: string) => names.indexOf(n as never);
  assert.ok(at('clone') < at('sync_go'));
  assert.ok(at('sync_go') < at('rootfs_open'));
  assert.ok(at('rootfs_open') < at('pivot_root'));
  assert.ok(at('pivot_root') < at('mask_path'));
  assert.ok(at('mask_path') < at('caps_bounding'));
  assert.ok(at('caps_bounding') < at('set_user'));
  assert.ok(at('set_user') < at('capset'));
  assert.ok(at('chdir') > at('set_user'));
  assert.equal(names.at(-1), 'exec');
  assert.equal(names.at(-2), 'no_new_privs');
});

test('a hard rlimit above the host limit is refused at compile time with the field', () => {
  const s = defaultSpec(['true']);
  s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 30000 }];
  assert.throws(
    () => compilePlan(validateSpec(s), FACTS, { detach: false, noPivot: false, preserveFds: 0 }),
    {
      code: 'RLIMIT_TOO_HIGH',
      field: 'process.rlimits[0].hard',
    },
  );
});

test('lowering oomScoreAdj below the caller needs CAP_SYS_RESOURCE', () => {
  const s = defaultSpec(['true']);
  s.process!.oomScoreAdj = -100;
  assert.throws(
    () => compilePlan(validateSpec(s), FACTS, { detach: false, noPivot: false, preserveFds: 0 }),
    { code: 'RLIMIT_TOO_HIGH' },
  );
  assert.doesNotThrow(() =>
    compilePlan(
      validateSpec(s),
      { ...FACTS, hasCapSysResource: true },
      { detach: false, noPivot: false, preserveFds: 0 },
    ),
  );
});

test('preserved fds move the close-on-exec boundary', () => {
  const plan = compilePlan(validateSpec(defaultSpec(['true'])), FACTS, {
    detach: false,
    noPivot: false,
    preserveFds: 2,
  });
  const op = plan.ops.find((o) => o.op === 'cloexec_from');
  assert.equal(op && 'first' in op ? op.first : undefined, 5);
});
