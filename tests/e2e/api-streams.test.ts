/**
 * The API's streams and the endpoints the CLI tests do not reach, over raw HTTP: a tty
 * container's logs raw and a plain one's framed, a container's terminal resized through
 * its monitor, exec start without an upgrade (200 and the stream, as dockerd), attach with
 * logs=1, stats streamed and one-shot, prune, and /auth through the docker CLI against a
 * registry with a password.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ApiServer, apiRequest, startApiServer, stopApiServer } from '../support/api-server.js';
import { htpasswdMissing, registryMissing, startRegistry, type TestRegistry } from '../support/image-registry.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
let s: ApiServer;

before(async () => {
  if (!skip) s = await startApiServer('brig-api-streams-');
});
after(async () => {
  if (!skip) await stopApiServer(s);
});

const call = (method: string, p: string, body?: unknown, opts?: { until?: (b: Buffer) => boolean }) => apiRequest(s.socket, method, p, body, opts);

async function json<T>(method: string, p: string, body?: unknown): Promise<T> {
  const r = await call(method, p, body);
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${r.body}`);
  return (r.body.length ? JSON.parse(r.body.toString()) : undefined) as T;
}

/** docker's frames: [stream, 0, 0, 0, len(be32)] data. */
function frames(b: Buffer): { stream: number; data: string }[] {
  const out = [];
  for (let i = 0; i + 8 <= b.length; ) {
    const len = b.readUInt32BE(i + 4);
    out.push({ stream: b[i]!, data: b.subarray(i + 8, i + 8 + len).toString() });
    i += 8 + len;
  }
  return out;
}

async function run(body: Record<string, unknown>): Promise<string> {
  const { Id } = await json<{ Id: string }>('POST', '/v1.45/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'none' }, ...body });
  await json('POST', `/v1.45/containers/${Id}/start`);
  return Id;
}

test("logs: a plain container's framed by stream (multiplexed-stream), a tty container's raw; attach with logs=1 replays", { skip }, async () => {
  const plain = await run({ Cmd: ['sh', '-c', 'echo o; echo e >&2'] });
  await json('POST', `/v1.45/containers/${plain}/wait`);
  const logs = await call('GET', `/v1.45/containers/${plain}/logs?stdout=1&stderr=1`);
  assert.equal(logs.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  assert.deepEqual(frames(logs.body), [{ stream: 1, data: 'o\n' }, { stream: 2, data: 'e\n' }]);
  const old = await call('GET', `/v1.41/containers/${plain}/logs?stdout=1`);
  assert.equal(old.headers['content-type'], 'application/vnd.docker.raw-stream', 'before 1.42 the type says raw, the body is framed still');
  assert.deepEqual(frames(old.body), [{ stream: 1, data: 'o\n' }]);
  const replay = await call('POST', `/v1.45/containers/${plain}/attach?logs=1&stdout=1&stderr=1`);
  assert.equal(replay.status, 200);
  assert.deepEqual(frames(replay.body), [{ stream: 1, data: 'o\n' }, { stream: 2, data: 'e\n' }]);
  const tty = await run({ Cmd: ['sh', '-c', 'echo t'], Tty: true });
  await json('POST', `/v1.45/containers/${tty}/wait`);
  const raw = await call('GET', `/v1.45/containers/${tty}/logs?stdout=1`);
  assert.equal(raw.headers['content-type'], 'application/vnd.docker.raw-stream');
  assert.equal(raw.body.toString(), 't\r\n');
  await json('DELETE', `/v1.45/containers/${plain}`);
  await json('DELETE', `/v1.45/containers/${tty}`);
});

test("resize: a tty container's terminal takes the size, through its monitor", { skip }, async () => {
  const id = await run({ Cmd: ['sh', '-c', 'while true; do stty size; sleep 0.2; done'], Tty: true });
  assert.equal((await call('POST', `/v1.45/containers/${id}/resize?h=31&w=101`)).status, 200);
  let seen = '';
  for (let i = 0; i < 50 && !seen.includes('31 101'); i++) {
    await new Promise((r) => setTimeout(r, 200));
    seen = (await call('GET', `/v1.45/containers/${id}/logs?stdout=1&tail=2`)).body.toString();
  }
  assert.match(seen, /31 101/);
  assert.equal((await call('POST', `/v1.45/containers/${id}/resize?h=-1&w=5`)).status, 400);
  await json('DELETE', `/v1.45/containers/${id}?force=1`);
});

/**
 * POST /exec/{id}/resize over the exec's pty (the helper relays it; the sizes go on a pipe
 * to it). Statuses as dockerd 20.10 answers, but for an exec not started, ended, or in a
 * stopped container: dockerd waits 10 s and answers 500, or 404 "no such exec" though its
 * inspect finds it; brig 409 "is not running" (src/api/exec.ts resizeExec says why). The
 * API docs list 200, 400, 404 and 500; none of them for an exec in the wrong state.
 */
test('exec resize: ConsoleSize first, then each resize reaches the pty; docker\'s errors', { skip, timeout: 120_000 }, async () => {
  const id = await run({ Cmd: ['sleep', '300'] });
  const { Id: exec } = await json<{ Id: string }>('POST', `/v1.45/containers/${id}/exec`, {
    Cmd: ['sh', '-c', 'while true; do stty size; sleep 0.2; done'],
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    ConsoleSize: [20, 50],
  });
  const notStarted = await call('POST', `/v1.45/exec/${exec}/resize?h=1&w=1`);
  assert.deepEqual([notStarted.status, JSON.parse(notStarted.body.toString()).message], [409, `Exec ${exec} is not running`]);
  const sock = connect(s.socket);
  let out = '';
  sock.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const body = '{"Detach":false,"Tty":true}';
  sock.write(`POST /v1.45/exec/${exec}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const seen = async (text: string) => {
    for (let i = 0; i < 100 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(out.includes(text), `${JSON.stringify(text)} in ${JSON.stringify(out.slice(-300))}`);
  };
  await seen('20 50');
  assert.equal((await call('POST', `/v1.45/exec/${exec}/resize?h=33&w=77`)).status, 200);
  await seen('33 77');
  const bad = await call('POST', `/v1.45/exec/${exec}/resize?w=77`);
  assert.deepEqual([bad.status, JSON.parse(bad.body.toString()).message], [400, "h: required, the terminal's height"]);
  assert.equal((await call('POST', `/v1.45/exec/${exec}/resize?h=70000&w=1`)).status, 400);
  const unknown = await call('POST', '/v1.45/exec/nosuch/resize?h=1&w=1');
  assert.deepEqual([unknown.status, JSON.parse(unknown.body.toString()).message], [404, 'No such exec instance: nosuch']);
  sock.destroy();
  let ended = { Running: true };
  for (let i = 0; i < 100 && ended.Running; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ended = await json<{ Running: boolean }>('GET', `/v1.45/exec/${exec}/json`);
  }
  assert.equal((await call('POST', `/v1.45/exec/${exec}/resize?h=1&w=1`)).status, 409, 'an ended exec');
  // Without a tty, as dockerd: 200 and nothing to do.
  const { Id: plain } = await json<{ Id: string }>('POST', `/v1.45/containers/${id}/exec`, { Cmd: ['sleep', '30'] });
  await json('POST', `/v1.45/exec/${plain}/start`, { Detach: true });
  // A detached exec runs until it ends, as dockerd says: no exit code yet.
  const detached = await json<{ Running: boolean; ExitCode: number | null; Pid: number }>('GET', `/v1.45/exec/${plain}/json`);
  assert.deepEqual([detached.Running, detached.ExitCode], [true, null]);
  assert.ok(detached.Pid > 0);
  assert.equal((await call('POST', `/v1.45/exec/${plain}/resize?h=10&w=10`)).status, 200);
  // ...and then ended, its exit code unknown (it runs on its own: the server is not its parent).
  const { Id: short } = await json<{ Id: string }>('POST', `/v1.45/containers/${id}/exec`, { Cmd: ['sh', '-c', 'sleep 0.3; exit 7'] });
  await json('POST', `/v1.45/exec/${short}/start`, { Detach: true });
  let end = { Running: true, ExitCode: null as number | null };
  for (let i = 0; i < 100 && end.Running; i++) {
    await new Promise((r) => setTimeout(r, 50));
    end = await json('GET', `/v1.45/exec/${short}/json`);
  }
  assert.deepEqual([end.Running, end.ExitCode], [false, null]);
  await json('DELETE', `/v1.45/containers/${id}?force=1`);
});

test('exec start upgraded, its body apart from its headers (as a loaded client sends them): stdin reaches the process, its end closes it', { skip, timeout: 30_000 }, async () => {
  const id = await run({ Cmd: ['sleep', '300'] });
  const { Id: exec } = await json<{ Id: string }>('POST', `/v1.45/containers/${id}/exec`, { Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const sock = connect({ path: s.socket, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise((resolve) => sock.once('end', resolve));
  const body = '{"Detach":false,"Tty":false}';
  const pause = () => new Promise((r) => setTimeout(r, 200));
  sock.write(`POST /v1.45/exec/${exec}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  await pause();
  sock.write(body.slice(0, 5));
  await pause();
  sock.write(body.slice(5));
  await pause();
  sock.end('piped\n');
  await ended;
  const all = Buffer.concat(chunks);
  const head = all.indexOf('\r\n\r\n');
  assert.match(all.subarray(0, head).toString(), /^HTTP\/1.1 101 /);
  assert.deepEqual(frames(all.subarray(head + 4)).filter((f) => f.data.length), [{ stream: 1, data: 'piped\n' }]);
  assert.equal((await json<{ ExitCode: number }>('GET', `/v1.45/exec/${exec}/json`)).ExitCode, 0);
  await json('DELETE', `/v1.45/containers/${id}?force=1`);
});

test('exec start without an upgrade: 200 and the framed stream on the connection, as dockerd; stats streamed and one-shot', { skip }, async () => {
  const id = await run({ Cmd: ['sleep', '300'] });
  const { Id: exec } = await json<{ Id: string }>('POST', `/v1.45/containers/${id}/exec`, { Cmd: ['sh', '-c', 'echo a; echo b >&2'], AttachStdout: true, AttachStderr: true });
  const r = await call('POST', `/v1.45/exec/${exec}/start`, { Detach: false, Tty: false });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  assert.deepEqual(frames(r.body).sort((a, b) => a.stream - b.stream), [{ stream: 1, data: 'a\n' }, { stream: 2, data: 'b\n' }]);
  assert.equal((await json<{ ExitCode: number }>('GET', `/v1.45/exec/${exec}/json`)).ExitCode, 0);
  assert.equal((await call('POST', `/v1.45/exec/${exec}/start`, { Detach: true })).status, 409, 'an exec starts once');

  const once = await json<{ id: string; precpu_stats: { cpu_usage: { total_usage: number } } }>('GET', `/v1.45/containers/${id}/stats?stream=0&one-shot=1`);
  assert.equal(once.id, id);
  const streamed = await call('GET', `/v1.45/containers/${id}/stats`, undefined, { until: (b) => b.toString().split('\n').filter(Boolean).length >= 2 });
  const samples = streamed.body.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { read: string; precpu_stats: { system_cpu_usage?: number } });
  assert.ok(samples.length >= 2);
  assert.ok(Date.parse(samples[1]!.read) > Date.parse(samples[0]!.read));
  await json('DELETE', `/v1.45/containers/${id}?force=1`);
});

test('prune removes stopped containers only, and says what it removed', { skip }, async () => {
  const running = await run({ Cmd: ['sleep', '300'] });
  const done = await run({ Cmd: ['true'] });
  await json('POST', `/v1.45/containers/${done}/wait`);
  const report = await json<{ ContainersDeleted: string[]; SpaceReclaimed: number }>('POST', '/v1.45/containers/prune');
  assert.deepEqual(report.ContainersDeleted, [done]);
  assert.equal((await call('GET', `/v1.45/containers/${done}/json`)).status, 404);
  assert.equal((await call('GET', `/v1.45/containers/${running}/json`)).status, 200);
  await json('DELETE', `/v1.45/containers/${running}?force=1`);
});

describe('/auth through the docker CLI', { skip: skip || registryMissing() || htpasswdMissing() }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ user: 'alice', password: 's3cret' });
  });
  after(async () => reg?.stop());

  test('docker login checks the password with the registry through brig serve', () => {
    const good = s.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n' });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /Login Succeeded/);
    const bad = s.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wrong\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error response from daemon: .*401 Unauthorized/);
  });
});
