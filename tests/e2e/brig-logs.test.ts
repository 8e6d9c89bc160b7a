/**
 * Logs through the real brig binary, as a docker user drives them: --log-driver local,
 * --log-opt compress=true, logs --details with labels/env/tag, logs -f across rotations
 * while the container writes, the engine's default driver and options from a daemon.json
 * named by BRIG_CONFIG (and its mistakes named), and none refusing to be read.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BRIG, brigCli, REMOTE } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-logs-'));
const data = path.join(root, 'data');
const config = path.join(root, 'daemon.json');
const { brig, ok } = brigCli(data);
const withConfig = brigCli(data, { BRIG_CONFIG: config });
const hasGzip = spawnSync('gzip', ['--version']).status === 0;

const loop = (n: number, pad = 40) => `i=0; while [ $i -lt ${n} ]; do echo "line $i ${'.'.repeat(pad)}"; i=$((i+1)); done`;
const nums = (out: string) => out.trim().split('\n').map((l) => Number(/line (\d+)/.exec(l)?.[1] ?? -1));
const dirOf = (id: string) => path.join(data, 'containers', id);

function consecutive(ns: number[], last: number): void {
  assert.equal(ns.at(-1), last);
  ns.forEach((n, i) => i > 0 && assert.equal(n, ns[i - 1]! + 1));
}

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test('--log-driver local: the records in local-logs, rotated and compressed by default, read back with --tail and -t', { skip }, () => {
  // stderr once stdout has drained (sleep): a record the monitor read early would rotate away.
  const id = ok(['run', '-d', '--log-driver', 'local', '--log-opt', 'max-size=3k', 'host', 'sh', '-c', `${loop(300)}; sleep 0.3; echo bye >&2`]).trim();
  assert.equal(ok(['wait', id]), '0\n');
  const files = readdirSync(path.join(dirOf(id), 'local-logs')).sort();
  assert.deepEqual(files, ['container.log', 'container.log.1.gz', 'container.log.2.gz', 'container.log.3.gz', 'container.log.4.gz'], "docker's 5 files, the rotated ones gzipped");
  if (hasGzip) for (const f of files.slice(1)) assert.equal(spawnSync('gzip', ['-t', path.join(dirOf(id), 'local-logs', f)]).status, 0);
  const all = brig(['logs', id]);
  consecutive(nums(all.stdout), 299);
  assert.equal(all.stderr, 'bye\n');
  assert.match(ok(['logs', '-t', '--tail', '2', id]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 29[89] \.+\n(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 299 \.+\n)?$/);
  ok(['rm', id]);
});

test('--log-opt compress=true: json-file rotated files gzipped, every kept line in order; bad options named', { skip }, () => {
  const id = ok(['run', '-d', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true', 'host', 'sh', '-c', loop(400)]).trim();
  ok(['wait', id]);
  assert.deepEqual(readdirSync(dirOf(id)).filter((f) => f.startsWith('json.log')).sort(), ['json.log', 'json.log.1.gz', 'json.log.2.gz']);
  consecutive(nums(ok(['logs', id])), 399);
  assert.deepEqual(nums(ok(['logs', '--tail', '3', id])), [397, 398, 399]);
  ok(['rm', id]);
  for (const [opt, re] of [
    ['compress=true', /--log-opt compress: compress cannot be true when max-file is less than 2 or max-size is not set/],
    ['max-size=10q', /--log-opt max-size: invalid size: '10q'/],
    ['colour=red', /--log-opt colour: unknown log opt 'colour' for json-file log driver/],
  ] as const) {
    const r = brig(['run', '-d', '--log-opt', opt, 'host', 'true']);
    assert.equal(r.code, 125, opt);
    assert.match(r.stderr, re);
  }
  assert.equal(brig(['ps', '-aq']).stdout, '', 'a refused container leaves no record');
});

test("logs --details: labels, env and tag as docker prints them (sorted, query-escaped), local's and none", { skip }, () => {
  const id = ok([
    'run', '-d', '--name', 'detailed', '--label', 'a=1', '--label', 'b=x y', '-e', 'FOO=bar', '-e', 'Z=<&>',
    '--log-opt', 'labels=a,b', '--log-opt', 'env=FOO,Z', '--log-opt', 'tag={{.Name}}/{{.ID}}',
    'host', 'sh', '-c', 'echo hi; echo err >&2',
  ]).trim();
  ok(['wait', id]);
  const r = brig(['logs', '--details', id]);
  const attrs = `FOO=bar,Z=%3C%26%3E,a=1,b=x+y,tag=detailed%2F${id.slice(0, 12)}`;
  assert.equal(r.stdout, `${attrs} hi\n`);
  assert.equal(r.stderr, `${attrs} err\n`);
  assert.equal(ok(['logs', id]), 'hi\n');
  const plain = ok(['run', '-d', '--log-driver', 'local', 'host', 'echo', 'plain']).trim();
  ok(['wait', plain]);
  assert.equal(ok(['logs', '--details', plain]), ' plain\n', 'no attrs: a lone space, as docker');
  const none = ok(['run', '-d', '--log-driver', 'none', 'host', 'true']).trim();
  const n = brig(['logs', none]);
  assert.equal(n.code, 125);
  assert.match(n.stderr, /configured logging driver does not support reading/);
  assert.match(brig(['run', '-d', '--log-driver', 'none', '--log-opt', 'max-size=1m', 'host', 'true']).stderr, /--log-opt max-size: invalid logging opts for driver none/);
  ok(['rm', id, plain, none]);
});

test('logs -f follows across rotations (compressed) while the container writes, to its end', { skip }, async () => {
  const id = ok([
    'run', '-d', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true',
    'host', 'sh', '-c', `sleep 1; i=0; while [ $i -lt 300 ]; do echo "line $i ........................"; i=$((i+1)); [ $((i % 10)) = 0 ] && sleep 0.05; done`,
  ]).trim();
  const out = await new Promise<string>((resolve, reject) => {
    const f = spawn(BRIG, ['logs', '-f', id], { env: { ...process.env, BRIG_ROOT: data } });
    let text = '';
    f.stdout.on('data', (d: Buffer) => (text += d.toString()));
    f.once('error', reject);
    f.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`logs -f exited ${code}`))));
  });
  consecutive(nums(out), 299);
  // More lines than the files keep at the end: the follower read on across rotations.
  const kept = nums(ok(['logs', id])).length;
  assert.ok(nums(out).length > kept, `followed ${nums(out).length} lines, ${kept} kept`);
  assert.ok(readdirSync(dirOf(id)).includes('json.log.2.gz'), 'it did rotate and compress meanwhile');
  ok(['rm', id]);
});

// The engine's configuration is the server's (dockerd's daemon.json is too): in remote mode
// the client's BRIG_CONFIG does not reach a brig serve started before the test wrote it.
const remoteSkip = REMOTE ? "remote mode: daemon.json is the server's, read when brig serve starts; the test sets it for the client" : false;

test("the engine's defaults from a daemon.json (BRIG_CONFIG): driver and options for containers that use the default driver only", { skip: skip || remoteSkip }, () => {
  writeFileSync(config, JSON.stringify({ 'log-driver': 'local', 'log-opts': { 'max-size': '2k', 'max-file': '2' } }));
  const def = withConfig.ok(['run', '-d', 'host', 'sh', '-c', loop(100)]).trim();
  const other = withConfig.ok(['run', '-d', '--log-driver', 'json-file', 'host', 'sh', '-c', loop(100)]).trim();
  withConfig.ok(['wait', def]);
  withConfig.ok(['wait', other]);
  assert.deepEqual(readdirSync(path.join(dirOf(def), 'local-logs')).sort(), ['container.log', 'container.log.1.gz'], 'local, 2k, 2 files');
  assert.deepEqual(readdirSync(dirOf(other)).filter((f) => f.startsWith('json.log')), ['json.log'], "json-file without the defaults' max-size");
  consecutive(nums(withConfig.ok(['logs', other])), 99);
  assert.equal(nums(withConfig.ok(['logs', def])).at(-1), 99);
  // Mistakes name the key and the file; they stop create, not the rest.
  writeFileSync(config, JSON.stringify({ 'log-driver': 'local', 'log-opts': { 'max-size': 'lots' } }));
  const bad = withConfig.brig(['run', '-d', 'host', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, new RegExp(`log-opts\\.max-size in ${config.replace(/[.]/g, '\\.')}: invalid size: 'lots'`));
  writeFileSync(config, JSON.stringify({ 'log-level': 'debug' }));
  assert.match(withConfig.brig(['run', '-d', 'host', 'true']).stderr, /unknown key "log-level" in .*daemon\.json/);
  assert.equal(withConfig.ok(['logs', other]).split('\n').length, 101, 'logs still works');
  withConfig.ok(['rm', def, other]);
  rmSync(config);
  assert.match(withConfig.brig(['run', '-d', 'host', 'true']).stderr, /cannot read the engine configuration .*daemon\.json/);
  assert.ok(!existsSync(config));
});
