/** The engine's daemon.json: docker's keys, and every mistake named with its key and file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadEngineConfig, parseEngineConfig } from '../../../src/engine/engine-config.js';

const F = '/etc/brig/daemon.json';
const parse = (o: unknown) => parseEngineConfig(typeof o === 'string' ? o : JSON.stringify(o), F);

test("log-driver and log-opts as docker's daemon.json has them", () => {
  assert.deepEqual(parse({}).log, {});
  assert.deepEqual(parse({ 'log-driver': 'local', 'log-opts': { 'max-size': '10m', 'max-file': '3' } }).log, { Type: 'local', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(parse({ 'log-opts': { 'max-size': '10m' } }).log, { Config: { 'max-size': '10m' } });
});

test('an unknown key, a wrong type or a bad option is an error naming the key and the file', () => {
  const cases: [unknown, RegExp][] = [
    [{ 'log-level': 'debug' }, /unknown key "log-level" in \/etc\/brig\/daemon\.json/],
    [{ 'log-driver': 3 }, /log-driver in \/etc\/brig\/daemon\.json: must be a string/],
    [{ 'log-driver': 'syslog' }, /log-driver in \/etc\/brig\/daemon\.json: "syslog" is not supported/],
    [{ 'log-opts': ['max-size=1m'] }, /log-opts in \/etc\/brig\/daemon\.json: must be an object of strings/],
    [{ 'log-opts': { 'max-file': 3 } }, /log-opts\.max-file in \/etc\/brig\/daemon\.json: must be a string/],
    [{ 'log-opts': { 'max-size': '10q' } }, /log-opts\.max-size in \/etc\/brig\/daemon\.json: invalid size: '10q'/],
    [{ 'log-opts': { colour: 'red' } }, /log-opts\.colour in \/etc\/brig\/daemon\.json: unknown log opt 'colour' for json-file log driver/],
    [{ 'log-driver': 'local', 'log-opts': { 'max-file': '1' } }, /log-opts\.max-file in .*: compression cannot be enabled/],
    [{ 'log-driver': 'none', 'log-opts': { 'max-size': '1m' } }, /log-opts\.max-size in .*: invalid logging opts for driver none/],
    ['{"log-driver": "local",}', /\/etc\/brig\/daemon\.json: .*JSON/],
    ['[]', /\/etc\/brig\/daemon\.json: must hold a JSON object/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parse(input),
      (e: Error & { code?: string }) => re.test(e.message) && ['INVALID_CONFIG', 'INVALID_JSON', 'UNSUPPORTED_FIELD'].includes(e.code ?? ''),
      JSON.stringify(input),
    );
  }
});

test('a missing file is the defaults, unless it was named (BRIG_CONFIG)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-cfg-'));
  try {
    const f = path.join(dir, 'daemon.json');
    assert.deepEqual(loadEngineConfig(f), { log: {} });
    assert.throws(() => loadEngineConfig(f, { required: true }), /cannot read the engine configuration .*daemon\.json/);
    writeFileSync(f, JSON.stringify({ 'log-driver': 'local' }));
    assert.deepEqual(loadEngineConfig(f, { required: true }), { file: f, log: { Type: 'local' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
