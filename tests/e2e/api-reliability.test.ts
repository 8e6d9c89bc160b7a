/**
 * brig serve under clients that misbehave or crowd it: a client that goes away in the
 * middle of logs -f, an attach or an exec leaves no fd in the server and no process in the
 * container; a half-closed connection gets its answer; 100 clients at once each run a
 * container to its end (create, start, wait, remove) and all succeed, leaving nothing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { type ApiServer, apiRequest, startApiServer, stopApiServer } from '../support/api-server.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
let s: ApiServer;

before(async () => {
  if (!skip) s = await startApiServer('brig-api-rel-');
});
after(async () => {
  if (!skip) await stopApiServer(s);
});

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
  const r = await apiRequest(s.socket, method, p, body);
  return { status: r.status, body: r.body.toString() };
}

async function ok(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await api(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
  try {
    return JSON.parse(r.body);
  } catch {
    return r.body; // _ping's OK, a log's frames
  }
}

/** A raw request on its own connection, read until `until` holds for what came back. */
function rawRequest(head: string, until: (got: string) => boolean): Promise<{ sock: Socket; got: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(s.socket);
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until(got)) resolve({ sock, got });
    });
    sock.on('error', reject);
    sock.write(head);
  });
}

async function settle(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

test('a client that disconnects from logs -f, attach or exec leaks no fd and no process', { skip }, async () => {
  const { Id: id } = (await ok('POST', '/v1.45/containers/create?name=chatty', {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'],
    OpenStdin: true,
    HostConfig: { NetworkMode: 'none' },
  })) as { Id: string };
  try {
    await disconnects(id);
  } finally {
    await api('DELETE', `/containers/${id}?force=1`);
  }
});

async function disconnects(id: string): Promise<void> {
  await ok('POST', `/v1.45/containers/${id}/start`);
  await ok('GET', '/_ping'); // the server's own lazily opened fds (inotify, store) before the count
  await ok('GET', `/containers/${id}/logs?stdout=1&tail=1`);
  const base = s.fds();
  for (let round = 0; round < 3; round++) {
    const logs = await rawRequest(`GET /v1.45/containers/${id}/logs?follow=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\n\r\n`, (g) => g.includes('tick'));
    logs.sock.destroy();
    const attach = await rawRequest(
      `POST /v1.45/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
      (g) => g.startsWith('HTTP/1.1 101') && g.includes('tick'),
    );
    attach.sock.destroy();
    const { Id: exec } = (await ok('POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'echo ready; exec sleep 300'], AttachStdout: true, AttachStderr: true, AttachStdin: true })) as { Id: string };
    const body = '{"Detach":false,"Tty":false}';
    const started = await rawRequest(
      `POST /v1.45/exec/${exec}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      (g) => g.includes('ready'),
    );
    const pid = ((await ok('GET', `/exec/${exec}/json`)) as { Pid: number; Running: boolean }).Pid;
    assert.ok(pid > 0 && existsSync(`/proc/${pid}`), 'the exec runs');
    started.sock.destroy();
    assert.ok(await settle(() => !existsSync(`/proc/${pid}`)), `exec process ${pid} is gone once its client went`);
    // The helper reports the exit a moment after the process is gone from /proc.
    let after = { Running: true, ExitCode: -1 };
    for (let i = 0; i < 100 && after.Running; i++) {
      after = (await ok('GET', `/exec/${exec}/json`)) as typeof after;
      if (after.Running) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(after.Running, false);
    assert.equal(after.ExitCode, 137);
  }
  assert.ok(await settle(() => s.fds() <= base), `the server's fds come back to ${base} (now ${s.fds()})`);
  assert.equal(((await ok('GET', `/containers/${id}/json`)) as { State: { Running: boolean } }).State.Running, true, 'the container runs on');
}

test('a half-closed request still gets its answer, and the connection is then closed', { skip }, async () => {
  const sock = connect(s.socket);
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  const closed = new Promise((resolve) => sock.on('close', resolve));
  sock.end('GET /v1.45/version HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed;
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n[\s\S]*"ApiVersion":"1\.45"/);
});

test('100 clients at once, each create + start + wait + remove of `true`: all succeed, nothing left', { skip, timeout: 300_000 }, async () => {
  const CLIENTS = 100;
  const before = s.fds();
  const started = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const { Id: id } = (await ok('POST', `/v1.45/containers/create?name=load-${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } })) as { Id: string };
      const wait = api('POST', `/v1.45/containers/${id}/wait?condition=next-exit`);
      await ok('POST', `/v1.45/containers/${id}/start`);
      const w = await wait;
      assert.equal(w.status, 200, w.body);
      assert.equal(JSON.parse(w.body).StatusCode, 0);
      await ok('DELETE', `/v1.45/containers/${id}`);
    }),
  );
  const secs = (Date.now() - started) / 1000;
  const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  assert.deepEqual(failed, [], `${failed.length} of ${CLIENTS} failed`);
  console.log(`# ${CLIENTS} concurrent create+start+wait+remove through brig serve: ${secs.toFixed(1)} s`);
  assert.equal(((await ok('GET', '/containers/json?all=1')) as unknown[]).length, 0);
  assert.equal(s.brig.ok(['ps', '-aq']), '');
  assert.ok(await settle(() => s.fds() <= before + 2), `fds ${before} before, ${s.fds()} after`);
});
