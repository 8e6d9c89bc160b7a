/**
 * Log options as docker takes them (moby's jsonfilelog, local, loggerutils and go-units),
 * docker's extra attributes and the record encodings the monitor copies into every record.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extraAttributes, goRegExp } from '../../../src/engine/logs/attrs.js';
import { fromHumanSize, resolveLogConfig } from '../../../src/engine/logs/config.js';
import { encodeJsonAttrs, jsonFile } from '../../../src/engine/logs/json-file.js';
import { fixedTime, formatNs, renderLogLine, timeNs } from '../../../src/engine/logs/line.js';
import { encodeLocalAttrs, encodeLocalRecord, local } from '../../../src/engine/logs/local.js';

const ctx = { labels: {}, env: [] };
const resolve = (Type: string | undefined, Config: Record<string, string>, defaults = {}) => resolveLogConfig({ ...(Type ? { Type } : {}), Config }, defaults, ctx);

test("sizes as docker's go-units FromHumanSize: decimal multiples, docker's suffix rules", () => {
  assert.equal(fromHumanSize('10m', 'f'), 10_000_000);
  assert.equal(fromHumanSize('10MB', 'f'), 10_000_000);
  assert.equal(fromHumanSize('10mib', 'f'), 10_000_000, 'FromHumanSize stays decimal even with i');
  assert.equal(fromHumanSize('1.5k', 'f'), 1500);
  assert.equal(fromHumanSize('2 g', 'f'), 2e9);
  assert.equal(fromHumanSize('100', 'f'), 100);
  assert.equal(fromHumanSize('100b', 'f'), 100);
  for (const bad of ['', 'k', '10q', '10mi', '10ib', '-1', '10  m', '10bb']) assert.throws(() => fromHumanSize(bad, 'f'), /f: invalid size/, bad);
});

test('json-file: max-size, max-file, compress with docker limits and messages, naming the option', () => {
  assert.deepEqual(resolve(undefined, {}).log, { driver: 'json-file', maxSize: 0, maxFiles: 1, compress: false });
  assert.deepEqual(resolve('json-file', { 'max-size': '10m', 'max-file': '3', compress: 'true' }).log, { driver: 'json-file', maxSize: 10_000_000, maxFiles: 3, compress: true });
  assert.deepEqual(resolve('json-file', { 'max-file': '3' }).log.maxFiles, 3, 'docker takes max-file alone (nothing rotates)');
  assert.throws(() => resolve('json-file', { 'max-size': '0' }), /--log-opt max-size: max-size must be a positive number/);
  assert.throws(() => resolve('json-file', { 'max-size': '1m', 'max-file': '0' }), /--log-opt max-file: max-file cannot be less than 1/);
  assert.throws(() => resolve('json-file', { 'max-size': '1m', 'max-file': 'x' }), /--log-opt max-file: invalid number/);
  assert.throws(() => resolve('json-file', { compress: 'true' }), /--log-opt compress: compress cannot be true when max-file is less than 2 or max-size is not set/);
  assert.throws(() => resolve('json-file', { 'max-size': '1m', 'max-file': '1', compress: 'true' }), /--log-opt compress/);
  assert.throws(() => resolve('json-file', { 'max-size': '1m', 'max-file': '2', compress: 'yes' }), /--log-opt compress: invalid boolean "yes"/);
  assert.deepEqual(resolve('json-file', { 'max-size': '1m', 'max-file': '2', compress: 'T' }).log.compress, true, 'strconv.ParseBool');
  assert.throws(() => resolve('json-file', { foo: 'x' }), /--log-opt foo: unknown log opt 'foo' for json-file log driver/);
  assert.throws(() => resolve('syslog', {}), /--log-driver: "syslog" is not supported/);
});

test("local: docker's defaults (20 MiB, 5 files, compressed) and its rule for compression", () => {
  assert.deepEqual(resolve('local', {}).log, { driver: 'local', maxSize: 20 * 1024 * 1024, maxFiles: 5, compress: true });
  assert.deepEqual(resolve('local', { 'max-size': '1k', 'max-file': '2' }).log, { driver: 'local', maxSize: 1000, maxFiles: 2, compress: true });
  assert.throws(() => resolve('local', { 'max-file': '1' }), /--log-opt max-file: compression cannot be enabled when max file count is 1/);
  assert.deepEqual(resolve('local', { 'max-file': '1', compress: 'false' }).log, { driver: 'local', maxSize: 20 * 1024 * 1024, maxFiles: 1, compress: false });
  assert.throws(() => resolve('local', { 'max-file': '-1' }), /max-file must not be negative/);
  assert.equal(resolve('local', { 'max-size': '0' }).log.maxSize, 1, 'docker rotates before every write');
});

test('none takes no options; mode, max-buffer-size and the cache options as docker checks them', () => {
  assert.deepEqual(resolve('none', {}).log, { driver: 'none', maxSize: 0, maxFiles: 1 });
  assert.throws(() => resolve('none', { 'max-size': '1m' }), /--log-opt max-size: invalid logging opts for driver none/);
  assert.equal(resolve('json-file', { mode: 'blocking' }).log.driver, 'json-file');
  assert.throws(() => resolve('json-file', { mode: 'non-blocking' }), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_FIELD' && /--log-opt mode: non-blocking is not supported/.test(e.message));
  assert.throws(() => resolve('json-file', { mode: 'sometimes' }), /--log-opt mode: logging mode not supported: sometimes/);
  assert.throws(() => resolve('json-file', { 'max-buffer-size': '4m' }), /--log-opt max-buffer-size: max-buffer-size option is only supported with 'mode=non-blocking'/);
  assert.equal(resolve('local', { 'cache-disabled': 'true' }).log.driver, 'local');
  assert.throws(() => resolve('local', { 'cache-disabled': 'maybe' }), /--log-opt cache-disabled: invalid boolean/);
});

test("defaults: the engine's driver for a container that names none, its options only for its driver; inspect shows the request merged", () => {
  const defaults = { Type: 'local', Config: { 'max-size': '1m', 'max-file': '3' } };
  const a = resolveLogConfig({}, defaults, ctx);
  assert.deepEqual(a.hostConfig, { Type: 'local', Config: { 'max-size': '1m', 'max-file': '3' } });
  assert.deepEqual(a.log, { driver: 'local', maxSize: 1_000_000, maxFiles: 3, compress: true });
  const b = resolveLogConfig({ Type: 'local', Config: { 'max-file': '4' } }, defaults, ctx);
  assert.deepEqual(b.hostConfig, { Type: 'local', Config: { 'max-file': '4', 'max-size': '1m' } }, 'asked for the default driver: the defaults fill in');
  const c = resolveLogConfig({ Type: 'json-file', Config: {} }, defaults, ctx);
  assert.deepEqual(c.hostConfig, { Type: 'json-file', Config: {} }, 'another driver: none of the defaults');
  assert.deepEqual(c.log, { driver: 'json-file', maxSize: 0, maxFiles: 1, compress: false });
  assert.deepEqual(resolveLogConfig({}, { Config: { 'max-size': '5k' } }, ctx).hostConfig, { Type: 'json-file', Config: { 'max-size': '5k' } }, 'options alone apply to json-file');
  assert.throws(() => resolveLogConfig({ Type: 'none' }, { Type: 'none', Config: { 'max-size': '1m' } }, ctx), /invalid logging opts for driver none/);
});

test("attrs: labels, labels-regex, env, env-regex and tag in docker's order, later ones winning", () => {
  const c = {
    labels: { a: '1', b: 'x y', 'com.example.z': 'z', FOO: 'from-label' },
    env: ['FOO=bar', 'PATH=/bin', 'EMPTY=', 'NOEQ', 'HOME=/root'],
    container: { id: 'f92ab5303f83aaaa', name: 'web', imageId: 'sha256:0123456789abcdef', imageName: 'busybox:1', command: ['sh', '-c', 'echo hi'] },
  };
  const field = (k: string) => `--log-opt ${k}`;
  assert.deepEqual(extraAttributes({ labels: 'a,b,missing' }, c, field), { a: '1', b: 'x y' });
  assert.deepEqual(extraAttributes({ 'labels-regex': '^com\\.' }, c, field), { 'com.example.z': 'z' });
  assert.deepEqual(extraAttributes({ labels: 'FOO', env: 'FOO,EMPTY,NOEQ' }, c, field), { FOO: 'bar', EMPTY: '' }, 'env wins over labels; no = is no variable');
  assert.deepEqual(extraAttributes({ 'env-regex': '(?i)^h' }, c, field), { HOME: '/root' });
  assert.deepEqual(extraAttributes({ 'env-regex': '^[[:upper:]]{4}$' }, c, field), { PATH: '/bin', HOME: '/root' });
  assert.deepEqual(extraAttributes({ tag: '{{.Name}}/{{.ID}}' }, c, field), { tag: 'web/f92ab5303f83' });
  assert.deepEqual(extraAttributes({ tag: 'img={{ .ImageID }} {{.ImageName}} {{.Command}} {{.DaemonName}}' }, c, field), { tag: 'img=0123456789ab busybox:1 sh -c echo hi docker' });
  assert.deepEqual(extraAttributes({ tag: 'fixed' }, c, field), { tag: 'fixed' });
  assert.throws(() => extraAttributes({ tag: '{{.Nope}}' }, c, field), /--log-opt tag: template: can't evaluate field Nope/);
  assert.throws(() => extraAttributes({ tag: '{{.Name | printf "%s"}}' }, c, field), /--log-opt tag: only \{\{\.Field\}\} placeholders are supported/);
  assert.throws(() => goRegExp('(', '--log-opt labels-regex'), /--log-opt labels-regex: invalid regular expression "\("/);
  assert.throws(() => resolveLogConfig({ Config: { 'env-regex': '[' } }, {}, ctx), /--log-opt env-regex: invalid regular expression/);
  const r = resolveLogConfig({ Type: 'local', Config: { labels: 'a' } }, {}, c);
  assert.deepEqual(r.log.attrs, { a: '1' });
  assert.equal(resolveLogConfig({ Config: { labels: 'nothere' } }, {}, c).log.attrs, undefined, 'no attrs at all when none match');
});

test("the attrs member as Go's json.Marshal writes it, and each record as docker's json-file decodes it", () => {
  assert.equal(encodeJsonAttrs({}), '');
  assert.equal(encodeJsonAttrs({ b: 'x y', Z: '<&>', a: '"q"\n\u2028\u0001' }), '"attrs":{"Z":"\\u003c\\u0026\\u003e","a":"\\"q\\"\\n\\u2028\\u0001","b":"x y"},');
  // A record as dockerd 20.10 wrote it for the same container.
  const rec = Buffer.from('{"log":"line 96\\n","stream":"stdout","attrs":{"FOO":"bar","Z":"\\u003c\\u0026\\u003e","tag":"logsref-c1/13c2e51f4988"},"time":"2026-12-06T23:20:08.699476453Z"}');
  const e = jsonFile.decode(rec)!;
  assert.deepEqual(e.line, { stream: 'stdout', log: 'line 96\n', time: '2026-12-06T23:20:08.699476453Z', attrs: { FOO: 'bar', Z: '<&>', tag: 'logsref-c1/13c2e51f4988' } });
  assert.equal(e.ns, 1796599208699476453n);
  assert.equal(jsonFile.decode(Buffer.from('{"log":"x"')), undefined);
  const { records, used } = jsonFile.split(Buffer.from('{"a":1}\n{"b":2}\n{"c"'));
  assert.deepEqual([records.map(String), used], [['{"a":1}', '{"b":2}'], 16]);
});

test("local records: docker's own bytes decode, brig's encoding matches them, pieces of long lines as docker returns them", () => {
  // The first record of a local-driver file dockerd 20.10 wrote ("line 85 ....").
  const docker = Buffer.from('000000340a067374646f757410b59facebfcaeb3f7181a206c696e65203835202e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e00000034', 'hex');
  const { records, used } = local.split(docker);
  assert.equal(used, docker.length);
  const e = local.decode(records[0]!)!;
  assert.deepEqual(e.line, { stream: 'stdout', log: `line 85 ${'.'.repeat(24)}\n`, time: formatNs(e.ns) });
  assert.deepEqual(encodeLocalRecord({ source: 'stdout', timeNano: e.ns, line: Buffer.from(`line 85 ${'.'.repeat(24)}`) }), docker);
  const id = 'a'.repeat(64);
  const first = local.decode(local.split(encodeLocalRecord({ source: 'stderr', timeNano: 5n, line: Buffer.from('abc'), partial: { last: false, id, ordinal: 1 } })).records[0]!)!;
  const last = local.decode(local.split(encodeLocalRecord({ source: 'stderr', timeNano: 5n, line: Buffer.from('d'), partial: { last: true, id, ordinal: 2 }, attrs: { k: 'v', a: '' } })).records[0]!)!;
  assert.deepEqual([first.line.log, last.line.log, last.line.attrs], ['abc', 'd\n', { a: '', k: 'v' }]);
  assert.deepEqual([...encodeLocalAttrs({ k: 'v', a: '' })], [0x32, 0x03, 0x0a, 0x01, 0x61, 0x32, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76]);
  // A length past docker's 1 MB, or lengths that disagree: a damaged file.
  assert.equal(local.split(Buffer.from('7fffffff00', 'hex')).corrupt, true);
  assert.equal(local.split(Buffer.concat([docker.subarray(0, -1), Buffer.from([0x35])])).corrupt, true);
});

test('times: exact nanoseconds both ways, -t in RFC3339NanoFixed, --details as docker renders attrs', () => {
  assert.equal(timeNs('2026-12-06T23:20:08.699476453Z'), 1796599208699476453n);
  assert.equal(timeNs('2026-12-06T23:20:08Z'), 1796599208000000000n);
  assert.equal(timeNs('2026-12-07T01:20:08.5+02:00'), 1796599208500000000n);
  assert.equal(formatNs(1796599208699476450n), '2026-12-06T23:20:08.69947645Z');
  assert.equal(formatNs(1796599208000000000n), '2026-12-06T23:20:08Z');
  assert.equal(fixedTime('2026-12-06T23:20:08.5Z'), '2026-12-06T23:20:08.500000000Z');
  assert.equal(fixedTime('2026-12-06T23:20:08Z'), '2026-12-06T23:20:08.000000000Z');
  const l = { stream: 'stdout' as const, log: 'hi\n', time: '2026-12-06T23:20:08.69947645Z', attrs: { b: 'x y', Z: '<&>', tag: 'web/1' } };
  assert.equal(renderLogLine(l, {}), 'hi\n');
  assert.equal(renderLogLine(l, { details: true }), 'Z=%3C%26%3E,b=x+y,tag=web%2F1 hi\n');
  assert.equal(renderLogLine(l, { details: true, timestamps: true }), '2026-12-06T23:20:08.699476450Z Z=%3C%26%3E,b=x+y,tag=web%2F1 hi\n');
  assert.equal(renderLogLine({ ...l, attrs: undefined }, { details: true }), ' hi\n', 'no attrs: a lone space, as docker');
  assert.equal(renderLogLine({ ...l, attrs: { k: "!'()*~" } }, { details: true }), 'k=%21%27%28%29%2A~ hi\n', "Go's QueryEscape");
});
