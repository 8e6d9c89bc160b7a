/** Health checks and restart policies as dockerd merges, checks and resolves them (no root). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRestartPolicy } from '../../../src/cli/brig/commands/container/create-options.js';
import { HEALTH_DEFAULTS, mergeHealthcheck, resolveProbe, validateHealthcheck } from '../../../src/engine/policy/health.js';
import { checkRestartPolicy } from '../../../src/engine/policy/restart.js';
import { parseHealthcheck } from '../../../src/image/changes.js';

const MS = 1e6;

test("merge: the request's fields over the image's, zeros inherit, zeros left out as docker's JSON", () => {
  const image = { Test: ['CMD', 'check'], Interval: 10_000 * MS, Retries: 5 };
  assert.deepEqual(mergeHealthcheck(undefined, image), image);
  assert.deepEqual(mergeHealthcheck({ Test: ['CMD-SHELL', 'x'], Interval: 0, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 0 }, image), { Test: ['CMD-SHELL', 'x'], Interval: 10_000 * MS, Retries: 5 });
  assert.deepEqual(mergeHealthcheck({ Timeout: 2_000 * MS }, image), { Test: ['CMD', 'check'], Interval: 10_000 * MS, Timeout: 2_000 * MS, Retries: 5 });
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image), { Test: ['NONE'], Interval: 10_000 * MS, Retries: 5 });
  assert.equal(mergeHealthcheck(undefined, undefined), undefined);
});

test("validate: dockerd's limits and messages, naming the field", () => {
  validateHealthcheck({ Test: ['CMD', 'x'], Interval: 1 * MS, Retries: 0 });
  assert.throws(() => validateHealthcheck({ Interval: 999_999 }), { message: 'Interval in Healthcheck cannot be less than 1ms', field: 'Config.Healthcheck.Interval' } as never);
  assert.throws(() => validateHealthcheck({ StartInterval: 5 }), /StartInterval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => validateHealthcheck({ Test: ['RUN', 'x'] }), /unknown Healthcheck Test type 'RUN'/);
  assert.throws(() => validateHealthcheck({ Test: ['CMD'] }), /needs a command/);
  assert.throws(() => validateHealthcheck({ Test: ['CMD-SHELL', 'a', 'b'] }), /exactly one command string/);
  assert.throws(() => validateHealthcheck({ Interval: '5s' as never }), /must be a number of nanoseconds/);
});

test("resolve: CMD as is, CMD-SHELL through /bin/sh -c, NONE and no test are no probe, docker's defaults", () => {
  assert.equal(resolveProbe(undefined), undefined);
  assert.equal(resolveProbe({ Test: ['NONE'] }), undefined);
  assert.equal(resolveProbe({ Interval: 5 * MS }), undefined);
  assert.deepEqual(resolveProbe({ Test: ['CMD', 'curl', '-f', 'x'] }), { args: ['curl', '-f', 'x'], ...HEALTH_DEFAULTS });
  assert.deepEqual(HEALTH_DEFAULTS, { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 });
  const p = resolveProbe({ Test: ['CMD-SHELL', 'a && b'], Interval: 1500 * MS, Timeout: 1 * MS, StartPeriod: 60_000 * MS, StartInterval: 200 * MS, Retries: 7 });
  assert.deepEqual(p, { args: ['/bin/sh', '-c', 'a && b'], intervalMs: 1500, timeoutMs: 1, startPeriodMs: 60_000, startIntervalMs: 200, retries: 7 });
  assert.deepEqual(resolveProbe({ Test: ['CMD-SHELL', 'x'] }, ['/bin/bash', '-o', 'pipefail', '-c'])!.args, ['/bin/bash', '-o', 'pipefail', '-c', 'x']);
});

test("restart policies: dockerd's names and counts, 'no' when none, AutoRemove refused with one", () => {
  assert.deepEqual(checkRestartPolicy(undefined, false), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(checkRestartPolicy({ Name: '' }, true), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }, false), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(checkRestartPolicy({ Name: 'unless-stopped' }, false), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => checkRestartPolicy({ Name: 'sometimes' as never }, false), /unknown policy 'sometimes'/);
  assert.throws(() => checkRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }, false), /can only be used with 'on-failure'/);
  assert.throws(() => checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }, false), /cannot be negative/);
  assert.throws(() => checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 1.5 }, false), /must be an integer/);
  assert.throws(() => checkRestartPolicy({ Name: 'always' }, true), /can't create 'AutoRemove' container with restart policy/);
});

test("--restart NAME[:MAX] as docker's CLI reads it", () => {
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('on-failure:-1'), { Name: 'on-failure', MaximumRetryCount: -1 }, 'the engine refuses it');
  assert.throws(() => parseRestartPolicy('on-failure:x'), /maximum retry count must be an integer/);
  assert.throws(() => parseRestartPolicy('a:1:2'), /invalid restart policy format/);
});

test('HEALTHCHECK instructions: flags, exec and shell forms, NONE, errors', () => {
  assert.deepEqual(parseHealthcheck('NONE'), { Test: ['NONE'] });
  assert.deepEqual(parseHealthcheck('--interval=5s --timeout=3s --start-period=1m --start-interval=500ms --retries=2 CMD curl -f http://x/ || exit 1'), {
    Test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'],
    Interval: 5000 * MS,
    Timeout: 3000 * MS,
    StartPeriod: 60_000 * MS,
    StartInterval: 500 * MS,
    Retries: 2,
  });
  assert.deepEqual(parseHealthcheck('CMD ["/bin/check", "--quick"]'), { Test: ['CMD', '/bin/check', '--quick'] });
  assert.throws(() => parseHealthcheck('--every=5s CMD x'), /unknown flag: --every/);
  assert.throws(() => parseHealthcheck('--retries=0 CMD x'), /--retries must be at least 1/);
  assert.throws(() => parseHealthcheck('--interval=soon CMD x'), /invalid duration "soon"/);
  assert.throws(() => parseHealthcheck('RUN x'), /must be CMD or NONE/);
  assert.throws(() => parseHealthcheck('CMD'), /needs a command/);
});
