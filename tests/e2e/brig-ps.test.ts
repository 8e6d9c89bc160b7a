/**
 * brig ps through the real bin/brig, as docker's CLI and dockerd 20.10 answer the same
 * commands: -a, -q, -n, -l, --no-trunc, -s (SIZE from the container's upper dir and its image),
 * every --filter key (status, name, label, ancestor with descendants, id, exited, before, since),
 * docker's errors and exit codes, and the template fields .Size, .Mounts, .Networks,
 * .LocalVolumes, .RunningFor.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-ps-'));
const { brig, ok } = brigCli(path.join(root, 'data'));
const ids: Record<string, string> = {};
let bbId = '';

/** ps with a names-only format, one name a line. */
const names = (...args: string[]) => ok(['ps', '--format', '{{.Names}}', ...args]).split('\n').filter(Boolean);

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'printf']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  bbId = ok(['import', path.join(root, 'bb.tar'), 'localhost/bb:1']).trim();
  // Oldest first: pa, pb (wrote 3 bytes), pc (exited 3), pd (created), ph (host image), pe (an image committed from pb).
  ids.pa = ok(['run', '-d', '--name', 'pa', '--label', 'app=web', '--label', 'tier=1', 'localhost/bb:1', 'sleep', '300']).trim();
  ids.pb = ok(['run', '-d', '--name', 'pb', 'localhost/bb:1', 'sh', '-c', 'printf hi. > /f; sleep 300']).trim();
  ids.pc = ok(['run', '-d', '--name', 'pc', 'localhost/bb:1', 'sh', '-c', 'exit 3']).trim();
  assert.equal(ok(['wait', 'pc']), '3\n');
  ids.pd = ok(['create', '--name', 'pd', 'localhost/bb:1', 'true']).trim();
  ids.ph = ok(['run', '-d', '--name', 'ph', 'host', 'sleep', '300']).trim();
  await new Promise((r) => setTimeout(r, 200)); // pb has written its file
  ok(['commit', 'pb', 'localhost/child:1']);
  ids.pe = ok(['run', '-d', '--name', 'pe', 'localhost/child:1', 'sleep', '300']).trim();
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test('ps -a, -q, --no-trunc, -n and -l: newest first; the limit lists stopped containers too', { skip }, () => {
  assert.deepEqual(names(), ['pe', 'ph', 'pb', 'pa']);
  assert.deepEqual(names('-a'), ['pe', 'ph', 'pd', 'pc', 'pb', 'pa']);
  assert.deepEqual(names('-n', '3'), ['pe', 'ph', 'pd']);
  assert.deepEqual(names('--last=1'), ['pe']);
  assert.deepEqual(names('-l'), ['pe']);
  assert.deepEqual(names('-n', '0'), ['pe', 'ph', 'pb', 'pa'], '-n 0 is no limit');
  assert.deepEqual(names('-n', '2', '-f', 'status=exited'), ['pc']);
  assert.equal(ok(['ps', '-q']), ['pe', 'ph', 'pb', 'pa'].map((n) => `${ids[n]!.slice(0, 12)}\n`).join(''));
  assert.equal(ok(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean).length, 6);
  assert.equal(ok(['ps', '-lq', '--no-trunc']), `${ids.pe}\n`);
  // docker: -q wins over a format, with a warning.
  const q = brig(['ps', '-q', '--format', '{{.Names}}']);
  assert.equal(q.stdout, ok(['ps', '-q']));
  assert.equal(q.stderr, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  const extra = brig(['ps', 'pa']);
  assert.equal(extra.code, 125);
  assert.match(extra.stderr, /"brig ps" accepts no arguments\./);
});

test('filters: status, name, label, id, exited', { skip }, () => {
  assert.deepEqual(names('-f', 'status=created'), ['pd'], 'a status filter lists stopped containers without -a');
  assert.deepEqual(names('--filter', 'status=exited', '--filter', 'status=created'), ['pd', 'pc']);
  ok(['pause', 'pa']);
  try {
    assert.deepEqual(names('-f', 'status=paused'), ['pa']);
    assert.deepEqual(names('-f', 'status=running'), ['pe', 'ph', 'pb']);
  } finally {
    ok(['unpause', 'pa']);
  }
  assert.deepEqual(names('-a', '-f', 'name=^p[ab]$'), ['pb', 'pa'], 'a regular expression');
  assert.deepEqual(names('-a', '-f', 'name=c'), ['pc'], 'matched anywhere');
  assert.deepEqual(names('-a', '-f', 'name=^/pd$'), ['pd'], 'with the "/"');
  assert.deepEqual(names('-a', '-f', 'name=pa', '-f', 'name=pd'), ['pd', 'pa']);
  assert.deepEqual(names('-a', '-f', 'name=['), [], 'a bad expression matches nothing');
  assert.deepEqual(names('-f', 'label=app'), ['pa']);
  assert.deepEqual(names('-f', 'label=app=web', '-f', 'label=tier=1'), ['pa']);
  assert.deepEqual(names('-f', 'label=app=web', '-f', 'label=tier=2'), []);
  assert.deepEqual(names('-a', '-f', `id=${ids.pc!.slice(0, 12)}`), ['pc']);
  assert.deepEqual(names('-a', '-f', `id=${ids.pc}`), ['pc']);
  assert.deepEqual(names('-f', 'exited=3'), [], 'exited needs -a');
  assert.deepEqual(names('-a', '-f', 'exited=3'), ['pc']);
  assert.deepEqual(names('-a', '-f', 'exited=0'), [], 'a created container never exited');
  // On the default bridge: by its name, not "none".
  assert.deepEqual(names('-f', 'network=bridge', '-f', 'name=^pa$'), ['pa']);
  assert.deepEqual(names('-f', 'network=none', '-f', 'name=^pa$'), []);
  assert.deepEqual(names('-f', 'health=none', '-f', 'name=^pa$'), ['pa']);
  assert.deepEqual(names('-f', 'publish=80'), []);
});

test('filters: ancestor (name, tag, id, descendants), before and since', { skip }, () => {
  assert.deepEqual(names('-a', '-f', 'ancestor=localhost/bb:1'), ['pe', 'pd', 'pc', 'pb', 'pa'], 'pe runs an image committed from it');
  assert.deepEqual(names('-a', '-f', `ancestor=${bbId.replace('sha256:', '').slice(0, 12)}`), ['pe', 'pd', 'pc', 'pb', 'pa']);
  assert.deepEqual(names('-a', '-f', 'ancestor=localhost/child:1'), ['pe']);
  assert.deepEqual(names('-a', '-f', 'ancestor=host'), ['ph']);
  assert.deepEqual(names('-a', '-f', 'ancestor=localhost/bb'), [], 'bb:latest is no image');
  assert.deepEqual(names('-a', '-f', 'ancestor=nope'), []);
  assert.deepEqual(names('-a', '-f', 'before=pb'), ['pa']);
  assert.deepEqual(names('-a', '-f', `before=${ids.pc}`), ['pb', 'pa']);
  assert.deepEqual(names('-a', '-f', 'since=pb'), ['pe', 'ph', 'pd', 'pc']);
  assert.deepEqual(names('-f', 'since=pb'), ['pe', 'ph'], 'without -a only running ones');
  assert.deepEqual(names('-a', '-f', 'since=pa', '-f', 'before=ph'), ['pd', 'pc', 'pb']);
  // docker takes a full id or a name here, not an id prefix.
  const short = brig(['ps', '-a', '-f', `before=${ids.pb!.slice(0, 12)}`]);
  assert.deepEqual([short.code, short.stderr], [1, `Error response from daemon: No such container: ${ids.pb!.slice(0, 12)}\n`]);
});

test("docker's errors: the daemon's (exit 1) and the flag parser's (exit 125)", { skip }, () => {
  const cases: [string[], number, string][] = [
    [['-f', 'foo=bar'], 1, "Error response from daemon: invalid filter 'foo'\n"],
    [['-f', 'status=bogus'], 1, "Error response from daemon: invalid filter 'status=bogus': invalid value for state (bogus): must be one of created, running, paused, restarting, removing, exited, dead\n"],
    [['-f', 'exited=x'], 1, `Error response from daemon: invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax\n`],
    [['-f', 'since=nope'], 1, 'Error response from daemon: No such container: nope\n'],
    [['-f', 'foo'], 125, `brig: invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)\nhint: See 'brig ps --help'.\n`],
    [['-n', 'x'], 125, `brig: invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax\nhint: See 'brig ps --help'.\n`],
  ];
  for (const [args, code, stderr] of cases) {
    const r = brig(['ps', ...args]);
    assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, ''], args.join(' '));
  }
});

test('-s: SIZE is the bytes the container wrote, virtual with its image; templates reading .Size ask for it', { skip }, () => {
  const table = ok(['ps', '-s']);
  const [header, ...rows] = table.trim().split('\n');
  assert.match(header!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE$/);
  const row = (name: string) => rows.find((r) => new RegExp(`\\s${name}\\s`).test(r)) ?? '';
  // printf hi. > /f: three bytes in the upper dir; the image is busybox, ~1-3 MB unpacked.
  assert.match(row('pb'), /\s3B \(virtual \d(\.\d+)?MB\)$/);
  assert.match(row('pa'), /\s0B \(virtual \d(\.\d+)?MB\)$/);
  assert.match(row('ph'), /\s0B$/, 'the built-in host image is read-only and has no size');
  // Sizes only when asked: the default table has no SIZE; a template reading .Size asks; --size=false does not.
  assert.doesNotMatch(ok(['ps']), /SIZE/);
  assert.equal(ok(['ps', '-f', 'name=^pb$', '--format', '{{.Size}}']), row('pb').match(/3B \(virtual .*\)$/)![0] + '\n');
  assert.equal(ok(['ps', '-f', 'name=^pb$', '--format', '{{.Size}}', '--size=false']), '0B\n');
  assert.match(ok(['ps', '-f', 'name=^pb$', '--format', 'table {{.Names}}\\t{{.Size}}']), /^NAMES +SIZE\npb +3B \(virtual /);
  assert.equal(JSON.parse(ok(['ps', '-f', 'name=^pb$', '--format', '{{json .}}'])).Size, row('pb').match(/3B \(virtual .*\)$/)![0]);
  assert.equal(JSON.parse(ok(['ps', '-f', 'name=^pb$', '--format', 'json'])).Size, '0B', "the word json is no template: docker asks no sizes");
});

test('template fields: .Networks, .Mounts, .LocalVolumes, .RunningFor, .Size', { skip }, () => {
  assert.match(ok(['ps', '-f', 'name=^pa$', '--format', '{{.Names}}|{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}|{{.RunningFor}}']), /^pa\|bridge\|\|0\|(\d+ seconds|About a minute|\d+ minutes) ago\n$/);
  assert.match(ok(['ps', '-a', '-f', 'name=^pd$', '--format', '{{.State}} {{.Size}}']), /^created 0B \(virtual .+\)\n$/);
  const [s] = JSON.parse(ok(['inspect', 'pa'])) as { NetworkSettings: { Networks: Record<string, unknown> } }[];
  assert.deepEqual(Object.keys(s!.NetworkSettings.Networks), ['bridge'], 'ps and inspect agree: the default network');
});
