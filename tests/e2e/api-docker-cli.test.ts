/**
 * The unmodified docker CLI (28.x here) against `brig serve` started by the test on its own
 * socket and data root: the container verbs, exec, logs, cp, stats, events and the system
 * verbs, each checked from the CLI's output and, where it matters, from the host or the brig
 * CLI on the same store. Where brig answers differently from dockerd the test says which one
 * the Engine API documentation backs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ApiServer, apiRequest, startApiServer, stopApiServer } from '../support/api-server.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox', 'docker-cli');
let s: ApiServer;

before(async () => {
  if (!skip) s = await startApiServer('brig-api-cli-');
});
after(async () => {
  if (!skip) await stopApiServer(s);
});

test('the socket is 0660 root-owned, docker version and info speak to brig, /_ping carries docker\'s headers', { skip }, async () => {
  const st = statSync(s.socket);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, 0);
  assert.match(s.log(), /API listening on .*docker\.sock \(unix socket, mode 0660, owner root, group /);
  const v = JSON.parse(s.dockerOk(['version', '--format', '{{json .Server}}']));
  assert.equal(v.Platform.Name, 'brig');
  assert.equal(v.ApiVersion, '1.45');
  assert.equal(v.MinAPIVersion, '1.24');
  assert.match(s.dockerOk(['version', '--format', '{{.Client.APIVersion}}']), /^1\.45\n/, 'the CLI negotiates down to 1.45 from its /_ping');
  assert.match(s.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}} {{.DockerRootDir}}']), new RegExp(`^inactive linux ${s.data}\n`));
  const ping = await fetchUnix(s.socket, 'HEAD', '/_ping');
  assert.equal(ping.status, 200);
  for (const [k, v2] of Object.entries({ 'api-version': '1.45', 'docker-experimental': 'false', ostype: 'linux', 'builder-version': '1', pragma: 'no-cache' })) assert.equal(ping.headers[k], v2, k);
  assert.equal(ping.headers['cache-control'], 'no-cache, no-store, must-revalidate');
  const tooNew = await fetchUnix(s.socket, 'GET', '/v1.99/version');
  assert.equal(tooNew.status, 400);
  assert.equal(JSON.parse(tooNew.body).message, 'client version 1.99 is too new. Maximum supported API version is 1.45');
  assert.equal((await fetchUnix(s.socket, 'GET', '/v1.24/containers/json')).status, 200);
  assert.equal((await fetchUnix(s.socket, 'GET', '/v1.23/containers/json')).status, 400);
});

test('run --rm, run attached (stdout and stderr apart, the exit code), run -d; ps, inspect, logs', { skip }, () => {
  assert.equal(s.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hello']), 'hello\n');
  assert.equal(s.brig.brig(['ps', '-aq']).stdout, '', '--rm removed it');
  const r = s.docker(['run', '--network', 'none', '--name', 'att', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const id = s.dockerOk(['run', '-d', '--network', 'none', '--name', 'bg', '-e', 'A=1', '--label', 'l=v', 'busybox', 'sh', '-c', 'echo started; sleep 300']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(s.dockerOk(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']), new RegExp(`^${id.slice(0, 12)} bg Up `));
  assert.equal(s.dockerOk(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}']), 'att\n');
  assert.equal(s.dockerOk(['ps', '-aq', '--filter', 'label=l=v', '--no-trunc']), `${id}\n`);
  assert.equal(s.dockerOk(['inspect', '-f', '{{.State.Running}} {{index .Config.Labels "l"}} {{.Config.Env}}', 'bg']).trim().split(' ').slice(0, 2).join(' '), 'true v');
  assert.equal(s.brig.ok(['ps', '-q', '--no-trunc']), `${id}\n`, 'the brig CLI sees the same store');
  assert.equal(s.dockerOk(['logs', 'att']), 'out\n');
  assert.equal(s.docker(['logs', 'att']).stderr, 'err\n');
  assert.equal(s.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'att']), '3\n');
});

test('logs -f follows until the container exits; --tail and -t', { skip }, async () => {
  s.dockerOk(['run', '-d', '--network', 'none', '--name', 'follow', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done']);
  const r = s.docker(['logs', '-f', 'follow'], { timeout: 30_000 });
  assert.equal(r.stdout, 'line 1\nline 2\nline 3\n');
  assert.equal(s.dockerOk(['logs', '--tail', '1', 'follow']), 'line 3\n');
  assert.match(s.dockerOk(['logs', '-t', '--tail', '1', 'follow']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/);
});

test('exec: output, exit code, stdin with -i, a tty with -t, a missing command is 127', { skip }, () => {
  const r = s.docker(['exec', 'bg', 'sh', '-c', 'echo in; echo e >&2; echo $A; exit 4']);
  assert.equal(r.code, 4);
  assert.equal(r.stdout, 'in\n1\n');
  assert.equal(r.stderr, 'e\n');
  assert.equal(s.dockerOk(['exec', '-i', 'bg', 'cat'], { input: 'piped\n' }), 'piped\n');
  assert.equal(s.dockerOk(['exec', '-t', 'bg', 'sh', '-c', 'test -t 1 && echo tty']).replace(/\r/g, ''), 'tty\n');
  const missing = s.docker(['exec', 'bg', 'nonexist']);
  assert.equal(missing.code, 127);
  assert.match(missing.stdout + missing.stderr, /nonexist/);
  assert.equal(s.dockerOk(['exec', '-d', 'bg', 'sh', '-c', 'echo detached > /marker']), '');
});

test('top, diff, cp both ways, export, stats --no-stream, update, pause/unpause, rename', { skip }, () => {
  assert.match(s.dockerOk(['top', 'bg']), /PID[\s\S]*sleep 300/);
  const diff = s.dockerOk(['diff', 'bg']);
  assert.match(diff, /^A \/marker$/m);
  const file = path.join(s.root, 'in.txt');
  writeFileSync(file, 'copied in\n');
  s.dockerOk(['cp', file, 'bg:/in.txt']);
  assert.equal(s.dockerOk(['exec', 'bg', 'cat', '/in.txt']), 'copied in\n');
  s.dockerOk(['cp', 'bg:/marker', path.join(s.root, 'out.txt')]);
  assert.equal(s.brig.ok(['exec', 'bg', 'cat', '/marker']), 'detached\n');
  const tar = path.join(s.root, 'export.tar');
  s.dockerOk(['export', '-o', tar, 'bg'], { timeout: 30_000 });
  const names = spawnSync('tar', ['tf', tar], { encoding: 'utf8' }).stdout.split('\n');
  for (const n of ['bin/busybox', 'marker', 'in.txt']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
  const stats = s.dockerOk(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'bg']);
  assert.match(stats, /^bg [12] \d/);
  s.dockerOk(['update', '--memory', '64m', '--memory-swap', '128m', 'bg']);
  assert.equal(s.dockerOk(['inspect', '-f', '{{.HostConfig.Memory}}', 'bg']), `${64 * 1024 * 1024}\n`);
  s.dockerOk(['pause', 'bg']);
  assert.match(s.dockerOk(['ps', '--format', '{{.Status}}', '--filter', 'name=bg']), /\(Paused\)/);
  assert.match(s.docker(['exec', 'bg', 'true']).stderr, /paused/);
  s.dockerOk(['unpause', 'bg']);
  s.dockerOk(['rename', 'bg', 'bg2']);
  assert.equal(s.dockerOk(['inspect', '-f', '{{.Name}}', 'bg2']), '/bg2\n');
});

test('stop, kill, wait, rm; a published port with port; errors as docker prints them', { skip }, () => {
  s.dockerOk(['run', '-d', '--name', 'web', '-p', '127.0.0.1::80', 'busybox', 'sleep', '300']);
  assert.match(s.dockerOk(['port', 'web']), /^80\/tcp -> 127\.0\.0\.1:\d+\n$/);
  s.dockerOk(['stop', '-t', '1', 'web']);
  assert.equal(s.dockerOk(['inspect', '-f', '{{.State.Status}}', 'web']), 'exited\n');
  // stop of a stopped container: 304 from the API (its docs: "container already stopped"), success for the CLI.
  assert.equal(s.dockerOk(['stop', 'web']), 'web\n');
  s.dockerOk(['kill', 'bg2']);
  assert.equal(s.dockerOk(['wait', 'bg2']), '137\n');
  const kill = s.docker(['kill', 'bg2']);
  assert.equal(kill.code, 1);
  assert.match(kill.stderr, /Error response from daemon: .*is not running/);
  const missing = s.docker(['inspect', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such (container|object): nosuch/);
  const clash = s.docker(['run', '--name', 'web', '--network', 'none', 'busybox', 'true']);
  assert.equal(clash.code, 125);
  assert.match(clash.stderr, /Conflict\. The container name "\/web" is already in use/);
  s.dockerOk(['rm', 'web', 'bg2', 'att', 'follow']);
  assert.equal(s.dockerOk(['ps', '-aq']), '');
});

test('docker ps follows changes at once (stop, rename, a new container) and a container whose monitor and init were killed from outside within about a second', { skip }, async () => {
  const names = () => s.dockerOk(['ps', '-a', '--format', '{{.Names}} {{.State}}']).split('\n').filter((l) => /^psc/.test(l)).sort();
  s.dockerOk(['run', '-d', '--name', 'psc1', '--network', 'none', 'busybox', 'sleep', '300']);
  s.dockerOk(['run', '-d', '--name', 'psc2', '--network', 'none', 'busybox', 'sleep', '300']);
  assert.deepEqual(names(), ['psc1 running', 'psc2 running']);
  assert.deepEqual(names(), ['psc1 running', 'psc2 running'], 'listed again from what the server kept');
  // A kept summary is encoded once, but its Status still moves with the clock.
  const status = () => s.dockerOk(['ps', '--filter', 'name=psc2', '--format', '{{.Status}}']).trim();
  const before = status();
  await new Promise((r) => setTimeout(r, 2100));
  const after = status();
  assert.match(after, /^Up \d+ seconds$/);
  assert.notEqual(after, before);
  s.dockerOk(['stop', '-t', '0', 'psc1']);
  s.dockerOk(['rename', 'psc2', 'psc3']);
  assert.deepEqual(names(), ['psc1 exited', 'psc3 running']);
  // Nothing tells anyone when both are SIGKILLed: the listing looks at /proc again within a second.
  const pid = Number(s.dockerOk(['inspect', '-f', '{{.State.Pid}}', 'psc3']).trim());
  const monitor = Number(readTextSync(`/proc/${pid}/stat`).split(') ')[1]!.split(' ')[1]);
  process.kill(monitor, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  const t0 = Date.now();
  while (!names().includes('psc3 exited') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(names(), ['psc1 exited', 'psc3 exited']);
  assert.ok(Date.now() - t0 < 3000, `seen after ${Date.now() - t0} ms`);
  s.dockerOk(['rm', '-f', 'psc1', 'psc3']);
  assert.deepEqual(names(), []);
});

test('events: streamed as they happen, and replayed with --since/--until and a filter', { skip }, async () => {
  // From a time just before the run: a client slow to connect (a loaded machine) still gets
  // every event, replayed from the log and then followed as they happen.
  const since = (Date.now() / 1000 - 1).toFixed(3);
  const ev = spawn('docker', ['events', '--since', since, '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { env: s.env });
  let out = '';
  ev.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 500));
  s.dockerOk(['run', '--rm', '--network', 'none', '--name', 'evt', 'busybox', 'true']);
  const deadline = Date.now() + 15_000;
  while (!out.includes('destroy evt') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  ev.kill();
  const actions = out.split('\n').filter((l) => l.endsWith(' evt')).map((l) => l.split(' ')[0]);
  assert.deepEqual(actions.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a!)), ['create', 'start', 'die', 'destroy']);
  // The docker CLI turns `--until 0s` into whole unix seconds (its timestamp.GetTimestamp): an
  // event of this second is after that, for dockerd as for brig. Replay from the next second.
  await new Promise((r) => setTimeout(r, 1050 - (Date.now() % 1000)));
  const replay = s.dockerOk(['events', '--since', '5m', '--until', '0s', '--filter', 'event=die', '--filter', 'container=evt', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  assert.equal(replay, 'die 0\n');
});

test('system df counts images, containers and volumes', { skip }, () => {
  s.dockerOk(['create', '--name', 'dfc', '--network', 'none', 'busybox', 'true']);
  const rows = s.dockerOk(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}']).trim().split('\n');
  assert.ok(rows.includes('Containers 1 0'), rows.join('|'));
  assert.ok(rows.some((r) => /^Images [12] 1$/.test(r)), rows.join('|'));
  s.dockerOk(['rm', 'dfc']);
});

test('SIGTERM closes the API and leaves a running container to its monitor; a restart policy brings one back at start', { skip }, async () => {
  const keep = s.dockerOk(['run', '-d', '--network', 'none', '--name', 'keep', 'busybox', 'sleep', '300']).trim();
  // Stopped as a reboot leaves it: its monitor killed, no user stop recorded.
  const back = s.dockerOk(['run', '-d', '--network', 'none', '--restart', 'always', '--name', 'back', 'busybox', 'sleep', '300']).trim();
  const monitor = Number(s.brig.ok(['inspect', '-f', '{{.State.Pid}}', back]));
  assert.equal(await s.stop(), 0);
  assert.match(s.log(), /SIGTERM: closing the API \(containers keep running\)/);
  assert.equal(s.brig.ok(['inspect', '-f', '{{.State.Running}}', keep]), 'true\n');
  assert.throws(() => statSync(s.socket), /ENOENT/, 'the socket is removed');
  s.brig.ok(['stop', '-t', '1', back]);
  assert.equal(s.brig.ok(['inspect', '-f', '{{.State.Running}}', back]), 'false\n');
  await s.restart();
  assert.match(s.log(), /restarted container back \(restart policy\)/);
  assert.equal(s.dockerOk(['inspect', '-f', '{{.State.Running}}', 'back']), 'true\n');
  assert.notEqual(Number(s.dockerOk(['inspect', '-f', '{{.State.Pid}}', 'back'])), monitor);
  s.dockerOk(['rm', '-f', keep, back]);
});

test('--rm: brig serve removes the container at its exit (docker run --rm waits for that); with the server killed, the container\'s monitor removes it', { skip, timeout: 60_000 }, async () => {
  const r = s.docker(['run', '--rm', '--network', 'none', '--name', 'gone', 'busybox', 'sh', '-c', 'echo bye; exit 3']);
  assert.deepEqual([r.code, r.stdout], [3, 'bye\n']);
  assert.equal(s.brig.ok(['ps', '-aq', '--filter', 'name=gone']), '');
  // Removed by the server, not after the monitor's grace for it (2 s): die to destroy is short.
  const ev = readTextSync(path.join(s.data, 'events', 'events.jsonl')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; timeNano: number; Actor: { Attributes: { name?: string } } });
  const at = (a: string) => ev.find((e) => e.Action === a && e.Actor.Attributes.name === 'gone')?.timeNano ?? NaN;
  assert.ok(at('destroy') - at('die') < 1.5e9, `die ${at('die')}, destroy ${at('destroy')}`);
  // A --rm container whose start fails is removed at once (dockerd's rule): the run does not wait for ever.
  const bad = s.docker(['run', '--rm', '--network', 'none', '--name', 'badrm', 'busybox', 'no-such-program']);
  assert.equal(bad.code, 127, bad.stderr);
  assert.match(bad.stderr, /no-such-program/);
  assert.equal(s.brig.ok(['ps', '-aq', '--filter', 'name=badrm']), '');
  // The server killed while a --rm container runs: its monitor waits out the grace, then removes it.
  const id = s.dockerOk(['run', '-d', '--rm', '--network', 'none', 'busybox', 'sleep', '1']).trim();
  const dead = new Promise((resolve) => s.proc.once('exit', resolve));
  s.proc.kill('SIGKILL');
  await dead;
  let left = id;
  for (let i = 0; i < 100 && left; i++) {
    await new Promise((res) => setTimeout(res, 100));
    left = s.brig.ok(['ps', '-aq', '--no-trunc']).trim();
  }
  assert.equal(left, '', 'removed by its monitor');
  assert.ok(!readTextSync('/proc/mounts').includes(id), 'its rootfs unmounted');
  await s.restart();
});

async function fetchUnix(socket: string, method: string, p: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const r = await apiRequest(socket, method, p);
  return { status: r.status, headers: r.headers as Record<string, string>, body: r.body.toString() };
}

test('docker exec -it on a pty: the terminal\'s size first (ConsoleSize), a resize of it (POST /exec/{id}/resize) seen inside, the exit code', { skip, timeout: 120_000 }, () => {
  s.dockerOk(['run', '-d', '--name', 'ptyx', '--network', 'none', 'busybox', 'sleep', '300']);
  const driver = path.join(repoRoot, 'tests', 'support', 'pty-driver.py');
  // busybox's prompt asks the terminal where its cursor is (ESC [6n) and takes what is typed
  // at once as the answer: each line is typed a moment after the prompt.
  const steps = [{ size: [33, 99] }, { expect: '# ' }, { sleep: 1.5 }, { send: 'stty size\n' }, { expect: '33 99' }, { size: [41, 123] }, { sleep: 1.5 }, { send: 'stty size; exit 3\n' }];
  const r = spawnSync('python3', [driver, JSON.stringify(steps), 'docker', 'exec', '-it', 'ptyx', 'sh'], { env: s.env, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, `pty driver: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { out: string; status: number; failed: string | null };
  const out = res.out.replace(/\r/g, '');
  assert.equal(res.failed, null, out);
  assert.match(out, /^33 99$/m, 'the first size');
  assert.match(out, /^41 123$/m, 'the resize');
  assert.equal(res.status, 3, out);
  s.dockerOk(['rm', '-f', 'ptyx']);
});
