import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileMonitorPlan, encodeMonitorPlan, STAGE0_FD } from '../../../src/engine/monitor/plan.js';

const starter = () => ({ argv: ['/usr/bin/brig-runtime', 'run', '-d', 'x'], env: [] });

test('the monitor plan: files chosen, start last, framing only without a tty', () => {
  const plan = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'json-file', maxSize: 1024, maxFiles: 2 }, tty: false, stdin: true, starter });
  assert.deepEqual(plan.files, { exit: '/d/exit.json', pid: '/d/init.pid', attach: '/s/attach.sock', log: '/d/json.log', run: '/d/run.json', health: '/d/health.json', stopped: '/d/stopped' });
  assert.deepEqual(plan.ops.map((o) => o.op), ['log_json', 'exit_file', 'pid_file', 'attach', 'run_state', 'start']);
  assert.deepEqual(plan.ops.at(-1), { op: 'start', argv: starter().argv, env: [], stdin: 1 });
  const tty = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: true, stdin: true, starter });
  assert.deepEqual(tty.ops.map((o) => o.op), ['exit_file', 'pid_file', 'attach', 'console', 'run_state', 'start']);
  assert.equal((tty.ops.find((o) => o.op === 'attach') as { framed: number }).framed, 0);
  assert.equal((tty.ops.at(-1) as { stdin: number }).stdin, 0, 'a tty carries input itself');
  const held = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: true, stdin: true, starter, hold: true });
  assert.deepEqual(held.ops.slice(-3).map((o) => o.op), ['hold', 'run_state', 'start'], 'a held start waits for its first attach client');
  const wire = encodeMonitorPlan(plan);
  assert.equal(Buffer.from(wire.subarray(0, 8)).toString('latin1'), 'BRIGMONP');
  assert.equal(wire[8], 2, 'version 2: log ops carry compress and attrs');
});

test("the log ops: json-file's attrs member and the local driver's file, attrs and compression", () => {
  const attrs = { b: '<2>', a: '1' };
  const json = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'json-file', maxSize: 2000, maxFiles: 3, compress: true, attrs }, tty: false, stdin: false, starter });
  assert.deepEqual(json.ops[0], { op: 'log_json', path: '/d/json.log', max_size: 2000, max_files: 3, compress: 1, attrs: '"attrs":{"a":"1","b":"\\u003c2\\u003e"},' });
  const loc = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'local', maxSize: 20 * 1024 * 1024, maxFiles: 5, compress: true, attrs }, tty: false, stdin: false, starter });
  assert.equal(loc.files.log, '/d/local-logs/container.log', "docker's name and directory");
  const op = loc.ops[0] as { op: string; attrs: Uint8Array; compress: number; max_files: number };
  assert.deepEqual([op.op, op.compress, op.max_files], ['log_local', 1, 5]);
  assert.deepEqual(Buffer.from(op.attrs).toString('hex'), '32060a01611201313208 0a0162120 33c323e'.replace(/ /g, ''));
  const old = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'json-file', maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter });
  assert.deepEqual(old.ops[0], { op: 'log_json', path: '/d/json.log', max_size: 0, max_files: 1, compress: 0, attrs: '' }, 'a record from before compress and attrs');
});

test('socket paths longer than a unix socket takes are refused, naming the path', () => {
  assert.throws(
    () => compileMonitorPlan({ dir: '/d', socketDir: `/${'x'.repeat(100)}`, log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter }),
    /socket path \/x+\/attach\.sock is longer than the 107 bytes/,
  );
  assert.throws(
    () => compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter: () => ({ argv: ['brig-runtime'], env: [] }) }),
    /absolute path/,
  );
});

test('restart and health ops: the policy by its wire number, the stop marker, the probe plan and timings in ms', () => {
  const base = { dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter } as const;
  assert.equal(compileMonitorPlan({ ...base, restart: { policy: 'no', max: 0 } }).ops.find((o) => o.op === 'restart'), undefined, 'no policy, no op');
  const plan = compileMonitorPlan({
    ...base,
    restart: { policy: 'on-failure', max: 2 },
    health: { helper: '/h', plan: new Uint8Array([1, 2]), intervalMs: 30_000, timeoutMs: 5_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 },
  });
  assert.deepEqual(plan.ops.find((o) => o.op === 'restart'), { op: 'restart', policy: 1, max: 2, stop_marker: '/d/stopped' });
  assert.deepEqual(plan.ops.find((o) => o.op === 'health'), {
    op: 'health',
    helper: '/h',
    plan: new Uint8Array([1, 2]),
    interval: 30_000,
    timeout: 5_000,
    start_period: 0,
    start_interval: 5_000,
    retries: 3,
    file: '/d/health.json',
  });
  for (const [policy, n] of [['always', 2], ['unless-stopped', 3]] as const) {
    assert.equal((compileMonitorPlan({ ...base, restart: { policy, max: 0 } }).ops.find((o) => o.op === 'restart') as { policy: number }).policy, n);
  }
  assert.equal(plan.ops.at(-1)!.op, 'start');
  assert.ok(encodeMonitorPlan(plan).length > 0);
});

test('event ops: one per event the monitor appends, before on_exit and start, their lines on the wire as compiled', () => {
  const events = [
    { path: '/r/events/events.jsonl', on: 'start' as const, line: '{"Action":"start","time":\u0001t}\n' },
    { path: '/r/events/events.jsonl', on: 'die' as const, line: '{"Action":"die","exitCode":"\u0001x"}\n' },
  ];
  const plan = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter, events, onExit: { argv: ['/x'], env: [] } });
  assert.deepEqual(plan.ops.map((o) => o.op), ['exit_file', 'pid_file', 'attach', 'event', 'event', 'on_exit', 'run_state', 'start']);
  assert.deepEqual(plan.ops[4], { op: 'event', ...events[1] });
  const wire = Buffer.from(encodeMonitorPlan(plan));
  assert.ok(wire.includes(Buffer.from('"exitCode":"\u0001x"')), 'the place byte reaches the monitor as it is');
});

test('exit grace: the record path and milliseconds, after on_exit and final_exit, only when asked for', () => {
  const base = { dir: '/d', socketDir: '/s', log: { driver: 'none' as const, maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter, onExit: { argv: ['/x'], env: [] }, finalExit: { argv: ['/y'], env: [] } };
  assert.ok(!compileMonitorPlan(base).ops.some((o) => o.op === 'exit_grace'));
  const plan = compileMonitorPlan({ ...base, exitGrace: { path: '/r/containers/c/container.json', ms: 2000 } });
  assert.deepEqual(plan.ops.map((o) => o.op).slice(-5), ['on_exit', 'final_exit', 'exit_grace', 'run_state', 'start']);
  assert.deepEqual(plan.ops.find((o) => o.op === 'exit_grace'), { op: 'exit_grace', path: '/r/containers/c/container.json', ms: 2000 });
  assert.ok(Buffer.from(encodeMonitorPlan(plan)).includes(Buffer.from('/r/containers/c/container.json')));
});

test('stage0: the helper and the fd of its channel (4, after the report channel) just before start, only when asked for', () => {
  const base = { dir: '/d', socketDir: '/s', log: { driver: 'none' as const, maxSize: 0, maxFiles: 1 }, tty: false, stdin: false, starter };
  assert.ok(!compileMonitorPlan(base).ops.some((o) => o.op === 'stage0'), 'without it the starter runs the first run too');
  const plan = compileMonitorPlan({ ...base, stage0: { helper: '/opt/brig/native/build/brig-helper' } });
  assert.deepEqual(plan.ops.slice(-2), [
    { op: 'stage0', helper: '/opt/brig/native/build/brig-helper', fd: STAGE0_FD },
    { op: 'start', argv: starter().argv, env: [], stdin: 0 },
  ]);
  assert.equal(STAGE0_FD, 4);
  assert.ok(Buffer.from(encodeMonitorPlan(plan)).includes(Buffer.from('/opt/brig/native/build/brig-helper')));
});
