import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogConfig, parseSize } from '../../../src/engine/monitor/log-options.js';
import { compileMonitorPlan, encodeMonitorPlan } from '../../../src/engine/monitor/plan.js';

test("log options take docker's names, units and rules", () => {
  assert.deepEqual(parseLogConfig(undefined, {}), { driver: 'json-file', maxSize: 0, maxFiles: 1 });
  assert.deepEqual(parseLogConfig('json-file', { 'max-size': '10m', 'max-file': '3' }), { driver: 'json-file', maxSize: 10 * 1024 * 1024, maxFiles: 3 });
  assert.equal(parseSize('512k', 'f'), 512 * 1024);
  assert.equal(parseSize('1.5g', 'f'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('100', 'f'), 100);
  assert.deepEqual(parseLogConfig('none', {}), { driver: 'none', maxSize: 0, maxFiles: 1 });
  assert.throws(() => parseLogConfig('json-file', { 'max-file': '3' }), /--log-opt max-file: needs max-size/);
  assert.throws(() => parseLogConfig('json-file', { 'max-size': '10q' }), /--log-opt max-size: invalid size "10q"/);
  assert.throws(() => parseLogConfig('json-file', { 'max-size': '1m', 'max-file': '0' }), /at least 1/);
  assert.throws(() => parseLogConfig('json-file', { labels: 'a' }), /--log-opt labels: unknown option/);
  assert.throws(() => parseLogConfig('json-file', { compress: 'true' }), /not supported yet/);
  assert.throws(() => parseLogConfig('syslog', {}), /--log-driver: "syslog" is not supported/);
  assert.throws(() => parseLogConfig('none', { 'max-size': '1m' }), /the none driver takes no options/);
});

const starter = () => ({ argv: ['/usr/bin/brig-runtime', 'run', '-d', 'x'], env: [] });

test('the monitor plan: files chosen, start last, framing only without a tty', () => {
  const plan = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'json-file', maxSize: 1024, maxFiles: 2 }, tty: false, stdin: true, starter });
  assert.deepEqual(plan.files, { exit: '/d/exit.json', pid: '/d/init.pid', attach: '/s/attach.sock', log: '/d/json.log' });
  assert.deepEqual(plan.ops.map((o) => o.op), ['log_json', 'exit_file', 'pid_file', 'attach', 'start']);
  assert.deepEqual(plan.ops.at(-1), { op: 'start', argv: starter().argv, env: [], stdin: 1 });
  const tty = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: true, stdin: true, starter });
  assert.deepEqual(tty.ops.map((o) => o.op), ['exit_file', 'pid_file', 'attach', 'console', 'start']);
  assert.equal((tty.ops.find((o) => o.op === 'attach') as { framed: number }).framed, 0);
  assert.equal((tty.ops.at(-1) as { stdin: number }).stdin, 0, 'a tty carries input itself');
  const held = compileMonitorPlan({ dir: '/d', socketDir: '/s', log: { driver: 'none', maxSize: 0, maxFiles: 1 }, tty: true, stdin: true, starter, hold: true });
  assert.deepEqual(held.ops.slice(-2).map((o) => o.op), ['hold', 'start'], 'a held start waits for its first attach client');
  const wire = encodeMonitorPlan(plan);
  assert.equal(Buffer.from(wire.subarray(0, 8)).toString('latin1'), 'BRIGMONP');
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
