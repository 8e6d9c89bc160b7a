/**
 * POST /build through `brig serve` with the unmodified docker CLI's classic builder
 * (DOCKER_BUILDKIT=0, as docker-compose 1.29 builds): the context sent as a tar, build args,
 * labels, a target stage, tags; the steps streamed as docker's CLI prints them, the image in
 * the brig CLI's store and runnable; a cached rebuild; a failing RUN as the stream's error
 * (exit 1, its output shown); refused parameters named; /build/prune.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brigCli } from '../support/brig-cli.js';
import { dockerMissing, type Served, startServe } from '../support/brig-serve.js';
import { busyboxTar } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox') || dockerMissing();
const root = mkdtempSync(path.join(tmpdir(), 'brig-api-build-'));
const data = path.join(root, 'data');
const ctx = path.join(root, 'ctx');
const { brig, ok } = brigCli(data, { BRIG_HOST: '' });
let api: Served;

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['sleep', 'true', 'sh', 'cat', 'echo', 'ls', 'false']), 'localhost/bb:1']);
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'hello.txt'), 'hello from the context\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM localhost/bb:1 AS base
ARG GREETING=hi
RUN echo "$GREETING" > /greeting
COPY hello.txt /hello.txt
LABEL stage=base
CMD ["cat", "/greeting", "/hello.txt"]

FROM base AS broken
RUN echo failing-step-output && false
`,
  );
  api = await startServe(data, root);
});

after(async () => {
  if (!skip) {
    await api?.stop();
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  }
  rmSync(root, { recursive: true, force: true });
});

const build = (args: string[]) => api.docker(['build', ...args], { env: { DOCKER_BUILDKIT: '0' } });

test('docker build (classic) through brig serve: args, labels, target, tags; the image is the store\'s and runs; a rebuild is cached', { skip }, () => {
  const r = build(['--build-arg', 'GREETING=hello', '--label', 'via=api', '--target', 'base', '-t', 'built:1', '-t', 'built:2', ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Step \d+ : .*RUN echo "\$GREETING" > \/greeting/);
  assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged built:1\nSuccessfully tagged built:2\n/);
  assert.equal(ok(['run', '--rm', '--network', 'none', 'built:1']), 'hello\nhello from the context\n');
  assert.equal(ok(['image', 'inspect', '-f', '{{.Config.Labels.via}} {{.Config.Labels.stage}}', 'built:2']), 'api base\n');
  const again = build(['--build-arg', 'GREETING=hello', '--label', 'via=api', '--target', 'base', '-q', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), ok(['image', 'inspect', '-f', '{{.Id}}', 'built:1']).trim(), '-q prints the id; all cache hits give the same image');
  ok(['rmi', 'built:1', 'built:2']);
});

test('a failing RUN is the stream\'s error with its output; refused parameters are named; /build/prune', { skip }, async () => {
  const r = build(['--target', 'broken', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /failing-step-output/);
  assert.match(r.stderr, /exit code:? 1|returned a non-zero code: 1/);
  assert.equal(ok(['ps', '-aq']), '', 'no step container left');
  const limited = build(['--memory', '64m', ctx]);
  assert.equal(limited.code, 1);
  assert.match(limited.stderr, /memory: limits on build steps are not supported by brig/);
  const pruned = await api.http('POST', '/v1.45/build/prune');
  assert.equal(pruned.status, 200);
  assert.ok(Array.isArray((pruned.json() as { CachesDeleted: unknown }).CachesDeleted));
});
