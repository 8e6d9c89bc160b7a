/**
 * dockerode (the npm client most Node tooling uses) against `brig serve` started by the test:
 * create with Env, Labels and a memory limit, start, logs followed and split into stdout and
 * stderr, wait, inspect, exec, remove; and the API's errors as docker gives them: 404 for a
 * missing container, 409 for a name in use, 400 naming the field of a bad body, 304 for a
 * start of a running container.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { type ApiServer, startApiServer, stopApiServer } from '../support/api-server.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
let s: ApiServer;
let docker: Docker;

before(async () => {
  if (skip) return;
  s = await startApiServer('brig-api-dockerode-');
  docker = new Docker({ socketPath: s.socket });
});
after(async () => {
  if (!skip) await stopApiServer(s);
});

/** dockerode's errors carry the HTTP status and docker's message. */
async function rejected(p: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { statusCode: number; json?: { message?: string }; message: string };
    return { statusCode: err.statusCode, message: err.json?.message ?? err.message };
  }
  assert.fail('expected the request to fail');
}

test('create with Env, Labels and Memory; start; follow logs split into stdout and stderr; wait; inspect; remove', { skip }, async () => {
  const c = await docker.createContainer({
    name: 'dockerode-1',
    Image: 'busybox',
    Cmd: ['sh', '-c', 'echo "out $GREETING"; sleep 0.5; echo "err line" >&2; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; exit 7'],
    Env: ['GREETING=hello'],
    Labels: { 'io.test': 'dockerode' },
    HostConfig: { Memory: 64 * 1024 * 1024, NetworkMode: 'none' },
  });
  const waited = c.wait({ condition: 'next-exit' });
  await c.start();
  const logs = (await c.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(logs, out, err);
  await new Promise((resolve) => logs.on('end', resolve));
  assert.equal((await waited).StatusCode, 7);
  assert.equal(stdout, `out hello\n${64 * 1024 * 1024}\n`, 'the limit is the cgroup\'s, seen from inside');
  assert.equal(stderr, 'err line\n');
  const info = await c.inspect();
  assert.equal(info.State.ExitCode, 7);
  assert.equal(info.State.Running, false);
  assert.equal(info.Config.Labels['io.test'], 'dockerode');
  assert.ok(info.Config.Env.includes('GREETING=hello'));
  assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(info.Name, '/dockerode-1');
  await c.remove();
  assert.equal((await rejected(c.inspect())).statusCode, 404);
});

test('exec through dockerode: the stream demultiplexed, the exit code from exec inspect', { skip }, async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'none' } });
  await c.start();
  const exec = await c.exec({ Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (d: Buffer) => (stdout += d.toString()));
  const err = new PassThrough().on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise((resolve) => stream.on('end', resolve));
  assert.equal(stdout, 'to-out\n');
  assert.equal(stderr, 'to-err\n');
  const info = await exec.inspect();
  assert.equal(info.ExitCode, 5);
  assert.equal(info.Running, false);
  await c.remove({ force: true });
});

test('errors: 404 missing container, 409 name in use, 400 naming the field of a bad body, 304 starting a running container', { skip }, async () => {
  const missing = await rejected(docker.getContainer('no-such-container').inspect());
  assert.equal(missing.statusCode, 404);
  assert.match(missing.message, /No such container: no-such-container/);

  const c = await docker.createContainer({ name: 'taken', Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'none' } });
  const clash = await rejected(docker.createContainer({ name: 'taken', Image: 'busybox' }));
  assert.equal(clash.statusCode, 409);
  assert.match(clash.message, /The container name "\/taken" is already in use/);

  const wrongType = await rejected(docker.createContainer({ Image: 'busybox', HostConfig: { Memory: '64m' as unknown as number } }));
  assert.equal(wrongType.statusCode, 400);
  assert.equal(wrongType.message, 'HostConfig.Memory: expected an integer, got a string');
  const envType = await rejected(docker.createContainer({ Image: 'busybox', Env: ['A=1', 2 as unknown as string] }));
  assert.equal(envType.statusCode, 400);
  assert.equal(envType.message, 'Env[1]: expected a string, got a number');
  const unsupported = await rejected(docker.createContainer({ Image: 'busybox', HostConfig: { CgroupParent: '/elsewhere' } }));
  assert.equal(unsupported.statusCode, 400);
  assert.match(unsupported.message, /^HostConfig\.CgroupParent: not supported by brig/);
  const noImage = await rejected(docker.createContainer({ Cmd: ['true'] } as Docker.ContainerCreateOptions));
  assert.equal(noImage.statusCode, 400);
  assert.match(noImage.message, /^Image: /);
  assert.equal((await docker.listContainers({ all: true })).length, 1, 'the refused requests left nothing');

  await c.start();
  assert.equal((await rejected(c.start())).statusCode, 304);
  await c.stop({ t: 1 });
  assert.equal((await rejected(c.stop())).statusCode, 304);
  const filterErr = await rejected(docker.listContainers({ filters: '{"nosuch":["x"]}' as unknown as Record<string, string[]> }));
  assert.equal(filterErr.statusCode, 400);
  assert.match(filterErr.message, /invalid filter 'nosuch'/);
  await c.remove();
});
