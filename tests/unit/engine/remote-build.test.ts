/**
 * The client's half of a remote build, without a server: the context tar (.dockerignore
 * applied with docker's rules, the Dockerfile and ignore file always sent, owners 0:0), a
 * Dockerfile read by the client added under a name of its own (also to a tar context), and
 * the classic builder's JSON stream (brig serve's and dockerd's) read back into progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import type { BuildProgress } from '../../../src/engine/engine.js';
import { buildContext, followBuild } from '../../../src/engine/remote/build-client.js';
import { readTar } from '../../../src/image/layers/tar-reader.js';
import { writeTree } from '../../support/build-context.js';
import { makeTar } from '../../support/image-tar.js';

const dir = mkdtempSync(path.join(tmpdir(), 'brig-remote-build-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tree = (name: string, files: Record<string, string>): string => writeTree(path.join(dir, name), files);

async function entries(body: AsyncIterable<Uint8Array>): Promise<Map<string, { uid: number; gid: number; text: string }>> {
  const out = new Map<string, { uid: number; gid: number; text: string }>();
  for await (const e of readTar(body)) {
    let text = '';
    for await (const c of e.body()) text += c.toString('utf8');
    out.set(e.header.name, { uid: e.header.uid, gid: e.header.gid, text });
  }
  return out;
}

test("the context tar: docker's ignore rules, re-included paths below an ignored directory, the build files always sent, owners 0:0", async () => {
  const ctx = tree('ctx', {
    Dockerfile: 'FROM x\n',
    '.dockerignore': '**/*.key\nnode_modules\nbuild\n!build/keep.txt\n.dockerignore\nDockerfile\n*.md\n',
    'top.key': 'k',
    'src/deep/a.key': 'k',
    'src/app.js': 'app',
    'node_modules/x/index.js': 'x',
    'build/out.bin': 'b',
    'build/keep.txt': 'kept',
    'README.md': 'r',
    'docs/guide.md': 'nested markdown stays: * does not cross /',
  });
  const { body, dockerfile } = await buildContext({ dir: ctx }, {});
  assert.equal(dockerfile, 'Dockerfile');
  const got = await entries(body);
  assert.deepEqual([...got.keys()].sort(), ['.dockerignore', 'Dockerfile', 'build/keep.txt', 'docs/', 'docs/guide.md', 'src/', 'src/app.js', 'src/deep/']);
  assert.ok([...got.values()].every((e) => e.uid === 0 && e.gid === 0));
  assert.equal(got.get('build/keep.txt')!.text, 'kept');
});

test('NAME.dockerignore beside a named Dockerfile wins; a Dockerfile the client read goes in under its own name with its ignore text', async () => {
  const ctx = tree('named', { 'sub/app.Dockerfile': 'FROM x\n', 'sub/app.Dockerfile.dockerignore': 'a.txt\n', '.dockerignore': 'b.txt\n', 'a.txt': 'a', 'b.txt': 'b' });
  const named = await entries((await buildContext({ dir: ctx }, { dockerfile: 'sub/app.Dockerfile' })).body);
  assert.ok(!named.has('a.txt') && named.has('b.txt'));
  const read = await buildContext({ dir: ctx }, { dockerfileText: 'FROM y\n', ignoreText: 'b.txt\n' });
  assert.match(read.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
  const got = await entries(read.body);
  assert.equal(got.get(read.dockerfile)!.text, 'FROM y\n');
  assert.equal(got.get(`${read.dockerfile}.dockerignore`)!.text, 'b.txt\n');
  assert.ok(got.has('a.txt') && !got.has('b.txt'));
});

test('a tar context with a Dockerfile read by the client: its entries kept, the Dockerfile added before the end', async () => {
  const tar = makeTar([{ name: 'msg.txt', data: 'x'.repeat(700) }, { name: 'd/', type: 'dir', mode: 0o755 }]);
  const r = await buildContext({ tar: Readable.from([tar]) }, { dockerfileText: 'FROM z\n' });
  const got = await entries(r.body);
  assert.deepEqual([...got.keys()], ['msg.txt', 'd/', r.dockerfile]);
  assert.equal(got.get('msg.txt')!.text.length, 700);
  // The CLI's `build -` with a Dockerfile on stdin: an empty archive.
  const empty = await buildContext({ tar: Readable.from([Buffer.alloc(1024)]) }, { dockerfileText: 'FROM z\n' });
  assert.deepEqual([...(await entries(empty.body)).keys()], [empty.dockerfile]);
});

const lines = (...ms: object[]) => Readable.from([ms.map((m) => `${JSON.stringify(m)}\n`).join('')]);

test("the classic stream read back: brig serve's steps, cached ones, output split across messages, the image ID", async () => {
  const seen: BuildProgress[] = [];
  const r = await followBuild(
    lines(
      { stream: 'Step 1 : [1/3] FROM base\n' },
      { stream: 'Step 2 : [2/3] RUN echo hi\n' },
      { stream: 'h' },
      { stream: 'i\nsecond\n' },
      { stream: 'Step 3 : [3/3] COPY a /\n' },
      { stream: ' ---> Using cache\n' },
      { aux: { ID: 'sha256:abc' } },
      { stream: 'Successfully built abc\n' },
      { stream: 'Successfully tagged x:1\n' },
    ),
    (p) => seen.push(p),
  );
  assert.deepEqual(r, { id: 'sha256:abc', steps: 3, cached: 1 });
  const shape = seen.map((p) => (p.type === 'step' ? `step ${p.id} ${p.name}` : p.type === 'log' ? `log ${p.id} ${p.text}` : `${p.type} ${'id' in p ? p.id : ''}`));
  assert.deepEqual(shape, ['step 1 [1/3] FROM base', 'done 1', 'step 2 [2/3] RUN echo hi', 'log 2 hi', 'log 2 second', 'done 2', 'step 3 [3/3] COPY a /', 'cached 3']);
});

test("dockerd's classic stream: N/M steps named, its intermediate lines left out; an error line fails the build on its step", async () => {
  const seen: BuildProgress[] = [];
  await assert.rejects(
    followBuild(
      lines(
        { stream: 'Step 1/2 : FROM base\n' },
        { stream: ' ---> 0123456789ab\n' },
        { stream: 'Step 2/2 : RUN false\n' },
        { stream: ' ---> Running in 0123\n' },
        { errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" }, error: "The command '/bin/sh -c false' returned a non-zero code: 1" },
      ),
      (p) => seen.push(p),
    ),
    (e: Error & { code?: string }) => e.code === 'BUILD_STEP_FAILED' && /non-zero code: 1/.test(e.message),
  );
  assert.deepEqual(
    seen.map((p) => p.type + (p.type === 'step' ? ` ${p.name}` : '')),
    ['step [1/2] FROM base', 'done', 'step [2/2] RUN false', 'error'],
  );
  await assert.rejects(followBuild(lines({ stream: 'Step 1 : FROM x\n' })), /no aux ID/);
});
