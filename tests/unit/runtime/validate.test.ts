import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../../src/runtime/spec/default-spec.js';
import { parseSpecJson, validateSpec } from '../../../src/runtime/spec/validate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests poke arbitrary, deliberately wrong values into configs
type Loose = any;
const clone = () => JSON.parse(JSON.stringify(defaultSpec())) as Loose;

test('the default spec is valid and round-trips', () => {
  const s = validateSpec(clone());
  assert.deepEqual(s.process!.args, ['sh']);
  assert.equal(s.linux!.namespaces!.length, 6);
});

test('unknown properties are ignored, as the spec requires', () => {
  const c = clone();
  c.futureField = { x: 1 };
  c.process.futureToo = true;
  assert.doesNotThrow(() => validateSpec(c));
});

test('errors name the JSON path and have stable codes', () => {
  const c = clone();
  c.mounts[3].options[1] = 5;
  assert.throws(() => validateSpec(c), {
    code: 'INVALID_CONFIG',
    field: 'mounts[3].options[1]',
    message: 'mounts[3].options[1]: expected a string, got number',
  });
});

test('RLIM_INFINITY as JSON writes it (2^64 after rounding) is accepted', () => {
  const c = clone();
  c.process.rlimits = [
    { type: 'RLIMIT_CORE', soft: Number('18446744073709551615'), hard: Number('18446744073709551615') },
  ];
  assert.equal(validateSpec(c).process!.rlimits![0]!.hard, 2 ** 64);
});

test('id mapping ranges must not overlap', () => {
  const c = clone();
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [
    { containerID: 0, hostID: 1000, size: 10 },
    { containerID: 5, hostID: 5000, size: 10 },
  ];
  c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
  assert.throws(() => validateSpec(c), /linux\.uidMappings: containerID ranges overlap/);
});

test('the process user must be mapped in a new user namespace', () => {
  const c = clone();
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
  c.process.user.uid = 50;
  assert.throws(() => validateSpec(c), /process\.user\.uid: 50 is not mapped/);
});

test('fields brig cannot honour are errors, not silence', () => {
  for (const [path, set] of [
    ['process.apparmorProfile', (c: Loose) => (c.process.apparmorProfile = 'x')],
  ] as const) {
    const c = clone();
    set(c);
    assert.throws(() => validateSpec(c), { code: 'UNSUPPORTED_FIELD', field: path });
  }
});

test('invalid JSON names the file', () => {
  assert.throws(() => parseSpecJson('{', '/b/config.json'), /\/b\/config\.json: invalid JSON/);
});
