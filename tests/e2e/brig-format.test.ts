/**
 * --format through the real brig binary, as scripts written for docker use it: ps with a
 * template, a table and json; inspect -f of a running container (its State.Pid is the host pid
 * of the container's init, checked in /proc); images and image inspect; a bad template exits
 * 125 naming the place.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const BRIG = path.join(repoRoot, 'bin', 'brig');
const skip = requires('root', 'helper');
const root = mkdtempSync(path.join(tmpdir(), 'brig-fmt-'));
const env = { ...process.env, BRIG_ROOT: path.join(root, 'data') };

function brig(args: string[]) {
  const r = spawnSync(BRIG, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = brig(args);
  assert.equal(r.code, 0, `brig ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

let id = '';

before(() => {
  if (skip) return;
  id = ok(['run', '-d', '--name', 'fmt-web', '-l', 'tier=front', '-e', 'GREETING=hi', 'host', 'sleep', '300']).trim();
  ok(['create', '--name', 'fmt-idle', 'host', 'true']);
});

after(() => {
  if (!skip) for (const c of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', c]);
  rmSync(root, { recursive: true, force: true });
});

test("ps --format '{{.Names}} {{.Status}}': one line per container", { skip }, () => {
  assert.match(ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^fmt-web Up .+\n$/);
  const all = ok(['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Label "tier"}}|{{.Labels}}']).split('\n').filter(Boolean).sort();
  assert.deepEqual(all, ['fmt-idle created |', 'fmt-web running front|tier=front']);
  assert.equal(ok(['ps', '--no-trunc', '--format', '{{.ID}}']), `${id}\n`);
  assert.equal(ok(['ps', '--format', '{{.ID}}']), `${id.slice(0, 12)}\n`);
});

test("ps --format 'table {{.ID}}\\t{{.Names}}': docker's header names, columns padded by 3", { skip }, () => {
  assert.equal(ok(['ps', '--format', 'table {{.ID}}\\t{{.Names}}']), `CONTAINER ID   NAMES\n${id.slice(0, 12)}   fmt-web\n`);
  assert.match(ok(['ps', '--format', 'table']), /^CONTAINER ID {3}IMAGE {5}COMMAND {7}CREATED +STATUS +PORTS +NAMES\n/);
  // The default layout is the same table, and -q is {{.ID}}.
  const same = (s: string) => s.replace(/Less than a second|About a minute|\d+ \w+/g, 'T').replace(/ +/g, ' ');
  assert.equal(same(ok(['ps', '-a'])), same(ok(['ps', '-a', '--format', 'table'])));
  assert.equal(ok(['ps', '-q']), ok(['ps', '--format', '{{.ID}}']));
});

test('ps --format json: one JSON object per line, as docker 24+', { skip }, () => {
  const lines = ok(['ps', '--format', 'json']).split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]!) as Record<string, string>;
  assert.equal(o.ID, id.slice(0, 12));
  assert.equal(o.Names, 'fmt-web');
  assert.equal(o.Command, '"sleep 300"');
  assert.equal(o.Labels, 'tier=front');
  assert.deepEqual(Object.keys(o), [...Object.keys(o)].sort());
});

test("inspect -f '{{.State.Pid}}' is the host pid of the container's init", { skip }, () => {
  const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', 'fmt-web']).trim());
  assert.ok(pid > 1);
  assert.equal(readTextSync(`/proc/${pid}/cmdline`), 'sleep\x00300\x00');
  // pid 1 in its own pid namespace: init, not some other process.
  assert.match(readTextSync(`/proc/${pid}/status`), new RegExp(`^NSpid:\\s+${pid}\\s+1$`, 'm'));
  assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
  assert.equal(ok(['inspect', '--format', '{{.State.Pid}}', 'fmt-idle']), '0\n');
  // One line per object.
  assert.equal(ok(['inspect', '-f', '{{.Name}} {{.State.Status}}', 'fmt-web', 'fmt-idle']), '/fmt-web running\n/fmt-idle created\n');
});

test("inspect -f '{{json .Config.Env}}', index, range, and <no value> for a missing key", { skip }, () => {
  const env = JSON.parse(ok(['inspect', '-f', '{{json .Config.Env}}', 'fmt-web'])) as string[];
  assert.ok(env.includes('GREETING=hi'), env.join(' '));
  assert.equal(ok(['inspect', '-f', '{{index .Config.Labels "tier"}}', 'fmt-web']), 'front\n');
  assert.equal(ok(['inspect', '-f', '{{range .Config.Cmd}}[{{.}}]{{end}}', 'fmt-web']), '[sleep][300]\n');
  // On the default bridge network: its address, as docker shows it.
  assert.match(ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'fmt-web']), /^\d+\.\d+\.\d+\.\d+\n$/);
  assert.equal(ok(['inspect', '-f', '{{.Config.NoSuchKey}}', 'fmt-web']), '<no value>\n');
  assert.equal(ok(['inspect', '-f', 'json', 'fmt-web']), ok(['inspect', 'fmt-web']));
});

test("images --format '{{.Repository}}:{{.Tag}}', image inspect -f", { skip }, () => {
  assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^host:latest$/m);
  assert.match(ok(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}']), /^REPOSITORY {3}TAG\nhost {9}latest\n/);
  const json = ok(['images', '--format', 'json']).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
  assert.ok(json.some((i) => i.Repository === 'host' && i.Tag === 'latest'));
  assert.equal(ok(['image', 'inspect', '-f', '{{.Os}}', 'host']), 'linux\n');
  assert.equal(ok(['inspect', '--type', 'image', '-f', '{{index .RepoTags 0}}', 'host']), 'host:latest\n');
});

test('a bad template exits 125 naming the place', { skip }, () => {
  const r = brig(['ps', '--format', '{{.Names']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /template: :1:0: unclosed action/);
  const u = brig(['inspect', '-f', '{{.Name | nosuch}}', 'fmt-web']);
  assert.equal(u.code, 125);
  assert.match(u.stderr, /template: :1:10: function "nosuch" not defined/);
  assert.equal(u.stdout, '');
  const x = brig(['ps', '--format', '{{.Nope}}']);
  assert.equal(x.code, 125);
  assert.match(x.stderr, /template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type \*formatter.ContainerContext/);
  assert.equal(brig(['images', '--format', '{{if}}']).code, 125);
});
