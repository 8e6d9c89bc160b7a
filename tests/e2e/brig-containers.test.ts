/**
 * Kept containers through the real brig binary, as a docker user drives them: run -d, ps,
 * logs (-f, --tail, -t, rotation), wait, stop (escalating to SIGKILL), kill, rm (-f),
 * inspect, create + start, foreground runs with and without -i, --rm -d, name conflicts —
 * each container held by its monitor after the brig that started it has exited. Checked
 * from the host: no cgroup, mount, monitor or state left once a container is removed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-ctr-'));
const data = path.join(root, 'data');
const { env, brig, ok, traces } = brigCli(data);

const monitorsOf = (id: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`).endsWith('brig-monitor') && readTextSync(`/proc/${p}/cmdline`) === '' ? false : readlinkSync(`/proc/${p}/exe`).endsWith('brig-monitor') && existsSync(path.join(data, 'containers', id));
      } catch {
        return false;
      }
    });

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  if (skip) return;
  // A busybox image, so one container runs on a snapshot the engine mounts and removes.
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'echo', 'sh', 'cat', 'true']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  ok(['import', path.join(root, 'bb.tar'), 'localhost/bb:1']);
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test('run -d: the container outlives brig; ps, logs, wait, inspect; rm leaves nothing on the host', { skip }, async () => {
  const id = ok(['run', '-d', '--name', 'web', 'host', 'sh', '-c', 'echo hello; echo oops >&2; sleep 1; echo bye']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(ok(['ps']), new RegExp(`^${id.slice(0, 12)}\\s+host\\s+"sh -c 'echo hello; …"\\s+.+ ago\\s+Up .+\\s+web$`, 'm'));
  assert.equal(monitorsOf(id).length >= 1, true, 'a monitor holds it');
  assert.equal(ok(['wait', 'web']), '0\n');
  assert.match(ok(['ps', '-a']), /Exited \(0\) .* ago\s+web$/m);
  assert.doesNotMatch(ok(['ps']), /web/);
  const out = brig(['logs', 'web']);
  assert.equal(out.stdout, 'hello\nbye\n');
  assert.equal(out.stderr, 'oops\n');
  assert.match(ok(['logs', '-t', '--tail', '1', 'web']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z bye\n$/);
  const [info] = JSON.parse(ok(['inspect', 'web'])) as { Id: string; Name: string; State: { Status: string; ExitCode: number; Running: boolean }; Path: string; Args: string[] }[];
  assert.equal(info!.Id, id);
  assert.equal(info!.Name, '/web');
  assert.deepEqual([info!.State.Status, info!.State.ExitCode, info!.State.Running], ['exited', 0, false]);
  assert.deepEqual([info!.Path, ...info!.Args], ['sh', '-c', 'echo hello; echo oops >&2; sleep 1; echo bye']);
  assert.equal(ok(['rm', 'web']), 'web\n');
  assert.deepEqual(traces(id), []);
  assert.equal(brig(['inspect', 'web']).code, 1);
});

test('logs -f follows a running container to its end; rotation keeps max-file files and logs reads them all', { skip }, async () => {
  const id = ok(['run', '-d', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'host', 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do echo "line $i ........................"; i=$((i+1)); sleep 0.01; done']).trim();
  const follow = brig(['logs', '-f', id]);
  assert.equal(follow.code, 0, follow.stderr);
  const lines = follow.stdout.trim().split('\n');
  // Three files of ~2 KiB hold the last ~45 of 100 records: in order, ending with the last.
  assert.equal(lines.at(-1), 'line 99 ........................');
  const nums = lines.map((l) => Number(/^line (\d+)/.exec(l)![1]));
  nums.forEach((n, i) => i > 0 && assert.equal(n, nums[i - 1]! + 1));
  const files = readdirSync(path.join(data, 'containers', id)).filter((f) => f.startsWith('json.log')).sort();
  assert.deepEqual(files, ['json.log', 'json.log.1', 'json.log.2']);
  ok(['rm', id]);
});

test('stop sends the stop signal, then SIGKILL after -t; exit code 137; kill -s', { skip }, async () => {
  // sleep as pid 1 of its namespace ignores SIGTERM: stop must escalate.
  ok(['run', '-d', '--name', 'stubborn', 'host', 'sleep', '60']);
  const t0 = Date.now();
  assert.equal(ok(['stop', '-t', '1', 'stubborn']), 'stubborn\n');
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 8000, `stop took ${took} ms`);
  const [info] = JSON.parse(ok(['inspect', 'stubborn'])) as { State: { ExitCode: number; Status: string } }[];
  assert.deepEqual([info!.State.Status, info!.State.ExitCode], ['exited', 137]);
  // A container that traps TERM ends at once; kill -s delivers the signal named.
  ok(['run', '-d', '--name', 'polite', 'host', 'sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.1; done']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ok(['kill', '-s', 'USR1', 'polite']), 'polite\n');
  assert.equal(ok(['wait', 'polite']), '7\n');
  assert.equal(brig(['kill', 'polite']).code, 1, 'kill of a stopped container fails');
  ok(['rm', 'stubborn', 'polite']);
});

test('rm of a running container needs -f; -f kills it and leaves nothing', { skip }, () => {
  const id = ok(['run', '-d', '--name', 'busy', 'localhost/bb:1', 'sleep', '60']).trim();
  const r = brig(['rm', 'busy']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot remove container "busy": container is running: stop the container before removing or force remove/);
  assert.equal(ok(['rm', '-f', 'busy']), 'busy\n');
  assert.deepEqual(traces(id), [], 'the image rootfs is unmounted and its snapshot removed too');
});

test('create then start; foreground run keeps the container and returns its exit code; -i feeds stdin', { skip }, () => {
  const id = ok(['create', '--name', 'later', 'host', 'sh', '-c', 'echo started']).trim();
  assert.match(ok(['ps', '-a']), /Created\s+later$/m);
  assert.equal(ok(['start', 'later']), 'later\n');
  assert.equal(ok(['wait', 'later']), '0\n');
  assert.equal(ok(['logs', 'later']), 'started\n');
  const fg = brig(['run', '--name', 'fg', 'host', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(fg.code, 3);
  assert.equal(fg.stdout, 'out\n');
  assert.equal(fg.stderr, 'err\n');
  assert.match(ok(['ps', '-a']), /Exited \(3\).*fg$/m);
  // No output and an exit at once: the monitor may close the attach socket before brig listens.
  for (let i = 0; i < 5; i++) assert.equal(brig(['run', '--label', 'quick=1', 'host', 'sh', '-c', 'exit 3']).code, 3, `run ${i}`);
  for (const q of ok(['ps', '-aq', '-f', 'label=quick=1']).split('\n').filter(Boolean)) ok(['rm', q]);
  const i = brig(['run', '-i', '--name', 'reader', 'host', 'sh', '-c', 'read a; read b; echo "$b $a"; cat; echo end'], 'first\nsecond\nrest\n');
  assert.equal(i.code, 0, i.stderr);
  assert.equal(i.stdout, 'second first\nrest\nend\n');
  ok(['rm', 'later', 'fg', 'reader']);
  assert.deepEqual(traces(id), []);
});

test('run -d --rm: the container removes itself when it exits', { skip }, async () => {
  const id = ok(['run', '-d', '--rm', 'host', 'sh', '-c', 'sleep 0.2']).trim();
  await until('the container to remove itself', () => brig(['inspect', id]).code === 1);
  await until('every trace to go', () => traces(id).length === 0);
});

test('two run --name x at once give one container and one conflict', { skip }, async () => {
  const run = () =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(BRIG, ['run', '-d', '--name', 'dup', 'host', 'sleep', '30'], { env });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, err }));
    });
  const [a, b] = await Promise.all([run(), run()]);
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 125]);
  assert.match(a.err + b.err, /Conflict\. The container name "\/dup" is already in use by container "[0-9a-f]{64}"/);
  assert.equal(ok(['ps', '-q']).trim().split('\n').length, 1);
  ok(['rm', '-f', 'dup']);
});

test("bad input gets docker's kind of message and exit 125, with nothing left", { skip }, () => {
  const before = readdirSync(path.join(data, 'containers')).length;
  for (const [args, msg] of [
    [['run', '-ix', 'host', 'true'], /unknown shorthand flag: 'x' in -ix/],
    [['run', '--nope', 'host'], /unknown flag: --nope/],
    [['run', '-d', 'nosuchimage', 'true'], /nosuchimage/],
    [['run', '-d', '--log-opt', 'max-file=0', 'host', 'true'], /--log-opt max-file: max-file cannot be less than 1/],
    [['run', '-d', '--name', '-bad', 'host', 'true'], /Invalid container name \(-bad\)/],
    [['logs'], /"brig logs" requires exactly 1 argument/],
  ] as [string[], RegExp][]) {
    const r = brig(args);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.equal(readdirSync(path.join(data, 'containers')).length, before);
  // A program that is not there: docker's 127, the runtime's words, the container kept as created.
  const missing = brig(['run', '-d', '--name', 'nf', 'host', 'no-such-program']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /failed to start container nf: process\.args\[0\]: exec: "no-such-program": executable file not found in \$PATH/);
  assert.match(ok(['ps', '-a']), /Created\s+nf$/m);
  ok(['rm', 'nf']);
  // With --rm it is removed at once, as dockerd removes a --rm container whose start failed.
  const gone = brig(['run', '-d', '--rm', '--name', 'nfrm', 'host', 'no-such-program']);
  assert.equal(gone.code, 127);
  assert.match(gone.stderr, /failed to start container nfrm: .*"no-such-program": executable file not found/);
  assert.equal(ok(['ps', '-aq', '--filter', 'name=nfrm']), '');
  assert.equal(readdirSync(path.join(data, 'containers')).length, before);
  const stopped = brig(['stop', 'no-such-container']);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /No such container: no-such-container/);
  writeFileSync(path.join(root, 'noop'), '');
});

test('exec: exit codes, -u/-w/-e, -i stdin, 127 for a missing program; pause refuses exec, unpause, rename, restart', { skip }, () => {
  const id = ok(['run', '-d', '--name', 'ex1', 'host', 'sleep', '60']).trim();
  const e = brig(['exec', 'ex1', 'sh', '-c', 'echo in; exit 5']);
  assert.equal(e.code, 5);
  assert.equal(e.stdout, 'in\n');
  assert.equal(ok(['exec', '-u', '1000', '-w', '/tmp', '-e', 'FOO=bar', 'ex1', 'sh', '-c', 'id -u; pwd; echo $FOO; grep CapEff /proc/self/status']), '1000\n/tmp\nbar\nCapEff:\t0000000000000000\n');
  assert.equal(ok(['exec', '-i', 'ex1', 'cat'], 'through stdin\n'), 'through stdin\n');
  assert.equal(ok(['exec', 'ex1', 'cat'], 'not given without -i\n'), '');
  const missing = brig(['exec', 'ex1', 'no-such-program']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /exec: "no-such-program": executable file not found/);
  assert.equal(ok(['pause', 'ex1']), 'ex1\n');
  assert.match(ok(['ps']), /Up .* \(Paused\)\s+ex1$/m);
  const paused = brig(['exec', 'ex1', 'true']);
  assert.equal(paused.code, 125);
  assert.match(paused.stderr, /container ex1 is paused, unpause the container before exec/);
  assert.equal(ok(['unpause', 'ex1']), 'ex1\n');
  ok(['rename', 'ex1', 'ex2']);
  assert.equal(brig(['inspect', 'ex1']).code, 1);
  const before = (JSON.parse(ok(['inspect', 'ex2'])) as { State: { Pid: number } }[])[0]!.State.Pid;
  assert.equal(ok(['restart', '-t', '1', 'ex2']), 'ex2\n');
  const after = (JSON.parse(ok(['inspect', 'ex2'])) as { State: { Pid: number; Status: string } }[])[0]!.State;
  assert.equal(after.Status, 'running');
  assert.notEqual(after.Pid, before);
  // A paused container is thawed by rm -f, so the kill lands.
  ok(['pause', 'ex2']);
  assert.equal(ok(['rm', '-f', 'ex2']), 'ex2\n');
  assert.deepEqual(traces(id), []);
});
