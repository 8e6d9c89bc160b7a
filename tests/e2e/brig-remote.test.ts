/**
 * The brig CLI driving a `brig serve` (-H / BRIG_HOST) through its RemoteEngine: the same
 * verbs, the same output, over the Docker Engine API — foreground runs with their exit code
 * and both streams, attached runs and `attach`, stdin, exec, logs, stats, cp both ways,
 * volumes and networks, errors in docker's words; and one store: what the remote side made,
 * the local CLI sees.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brigCli, serveFor } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper');
const root = mkdtempSync(path.join(tmpdir(), 'brig-remote-'));
const data = path.join(root, 'data');
const local = brigCli(data, { BRIG_HOST: '' });
let remote: ReturnType<typeof brigCli>;

before(() => {
  if (skip) return;
  remote = brigCli(data, { BRIG_HOST: serveFor(data) });
});

after(() => {
  if (!skip) for (const id of local.brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) local.brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test('foreground runs through brig serve: exit code, stdout and stderr apart, stdin, attached and --rm', { skip }, () => {
  const r = remote.brig(['run', '--rm', '--network', 'none', 'host', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  assert.equal(remote.ok(['run', '--rm', '-i', '--network', 'none', 'host', 'cat'], 'piped in\n'), 'piped in\n');
  assert.equal(remote.ok(['run', '--network', 'none', '--name', 'att', 'host', 'echo', 'attached']), 'attached\n');
  assert.match(local.ok(['ps', '-a', '--filter', 'name=att', '--format', '{{.Status}}']), /^Exited \(0\)/, 'the local CLI sees what the remote one made');
  const missing = remote.brig(['run', '--rm', '--network', 'none', 'host', 'no-such-program']);
  assert.equal(missing.code, 127, missing.stderr);
  remote.ok(['rm', 'att']);
});

test('a kept container through brig serve: ps, exec, logs, attach, stats, cp both ways, inspect, stop, rm', { skip }, () => {
  const id = remote.ok(['run', '-d', '--network', 'none', '--name', 'kept', 'host', 'sh', '-c', 'echo started; sleep 30']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(remote.ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^kept Up/m);
  assert.equal(remote.ok(['exec', 'kept', 'sh', '-c', 'echo $0-exec']), 'sh-exec\n');
  for (let i = 0; i < 50 && remote.ok(['logs', 'kept']) === ''; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  assert.equal(remote.ok(['logs', 'kept']), 'started\n');
  assert.match(remote.ok(['logs', '-t', 'kept']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n$/);
  assert.match(remote.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'kept']), /^kept [12]\n$/);
  const f = path.join(root, 'in.txt');
  writeFileSync(f, 'copied in\n');
  remote.ok(['cp', f, 'kept:/tmp/in.txt']);
  assert.equal(remote.ok(['exec', 'kept', 'cat', '/tmp/in.txt']), 'copied in\n');
  remote.ok(['cp', 'kept:/tmp/in.txt', path.join(root, 'out.txt')]);
  assert.equal(readTextSync(path.join(root, 'out.txt')), 'copied in\n');
  assert.equal(remote.ok(['inspect', '-f', '{{.State.Running}} {{.Id}}', 'kept']), `true ${id}\n`);
  remote.ok(['stop', '-t', '1', 'kept']);
  assert.equal(remote.ok(['inspect', '-f', '{{.State.Running}}', 'kept']), 'false\n');
  remote.ok(['rm', 'kept']);
  assert.equal(local.ok(['ps', '-aq', '--filter', 'name=kept']), '');
});

test('volumes, networks, images and errors through brig serve; what only the local engine does says so', { skip }, () => {
  assert.equal(remote.ok(['volume', 'create', 'rv']), 'rv\n');
  assert.match(local.ok(['volume', 'ls', '--format', '{{.Name}}']), /^rv$/m);
  remote.ok(['volume', 'rm', 'rv']);
  remote.ok(['network', 'create', 'rnet']);
  assert.match(remote.ok(['network', 'ls', '--format', '{{.Name}}']), /^rnet$/m);
  remote.ok(['network', 'rm', 'rnet']);
  assert.match(remote.ok(['images', '--format', '{{.Repository}}']), /^host$/m);
  const nf = remote.brig(['stop', 'nosuch']);
  assert.deepEqual([nf.code, nf.stderr], [1, 'Error response from daemon: No such container: nosuch\n']);
  const boot = remote.brig(['system', 'boot']);
  assert.equal(boot.code, 125);
  assert.match(boot.stderr, /local engine only/);
  // The client's own failures: its words, not the daemon's, exit 1 as docker's CLI.
  const bad = remote.brig(['-H', 'ssh://somewhere', 'ps']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^invalid host "ssh:\/\/somewhere"/);
  const down = brigCli(data, { BRIG_HOST: `unix://${root}/no.sock` }).brig(['ps']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^Cannot connect to the brig engine at unix:\/\/.*no\.sock\. Is brig serve running\?/);
});
