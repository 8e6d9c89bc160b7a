/**
 * `brig -H unix://... build` through a `brig serve` started by the test: the context sent as
 * a tar (its .dockerignore applied by the client), the classic builder's stream shown as
 * brig's own progress, the image run afterwards; a Dockerfile on stdin, build args and
 * labels, the cache on a rebuild, --iidfile and -o type=docker|local done by the client, and
 * what the API cannot carry (--secret, -o type=oci) refused by its flag before anything is
 * built. RUN steps use --network none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { plainSteps, writeTree } from '../support/build-context.js';
import { brigCli } from '../support/brig-cli.js';
import { startServe, type Served } from '../support/brig-serve.js';
import { BUSYBOX } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const dir = mkdtempSync(path.join(tmpdir(), 'brig-remote-build-'));
const data = path.join(dir, 'data');
const local = brigCli(data, { BRIG_HOST: '' });
let served: Served | undefined;
let remote: ReturnType<typeof brigCli>;
const NET = ['--network', 'none'];

/** A context directory with these files. */
const context = (name: string, files: Record<string, string>): string => writeTree(path.join(dir, name), files);
const steps = plainSteps;

before(async () => {
  if (skip) return;
  // A busybox base with every applet linked, imported by the local CLI (one store).
  const root = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(path.join(root, d), { recursive: true });
  chmodSync(path.join(root, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, path.join(root, 'bin/busybox'));
  chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const a of spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n')) if (a && a !== 'busybox' && !a.includes('/')) symlinkSync('busybox', path.join(root, 'bin', a));
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
  const tar = path.join(dir, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', root, '-cf', tar, '.']).status, 0);
  local.ok(['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', tar, 'rbb:1']);
  served = await startServe(data, dir);
  remote = brigCli(data, { BRIG_HOST: `unix://${served.sock}` });
});

after(async () => {
  await served?.stop();
  if (!skip) for (const id of local.brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) local.brig(['rm', '-f', id]);
  rmSync(dir, { recursive: true, force: true });
});

const MULTI = `FROM rbb:1 AS builder
WORKDIR /src
COPY . .
RUN find . | sort > /listing && echo "built for $GREETING" > /out.txt
ARG GREETING
RUN echo "arg $GREETING" >> /out.txt

FROM rbb:1
COPY --from=builder /listing /out.txt /
LABEL stage=final
CMD ["cat", "/out.txt", "/listing"]
`;

test('a multi-stage build through brig serve: the context with .dockerignore applied, progress, labels and args, the image run', { skip }, () => {
  const ctx = context('multi', {
    Dockerfile: MULTI,
    // The ignore file leaves itself out: docker's CLI sends it (and the Dockerfile) anyway.
    '.dockerignore': '**/*.key\nbig\n!big/keep.txt\n.dockerignore\nDockerfile\n',
    'app/a.txt': 'a\n',
    'app/secret.key': 'secret\n',
    'big/blob.bin': 'x'.repeat(100_000),
    'big/keep.txt': 'kept\n',
  });
  const r = remote.brig(['build', '--progress', 'plain', ...NET, '-t', 'remote/multi:1', '--build-arg', 'GREETING=hello', '--label', 'made=remotely', ctx]);
  assert.equal(r.code, 0, r.stderr);
  const names = steps(r.stderr).map((s) => s.name);
  assert.ok(names.some((n) => /^\[builder \d+\/\d+\] RUN find/.test(n)), r.stderr);
  assert.ok(names.some((n) => /COPY --from=builder/.test(n)), r.stderr);
  assert.match(r.stderr, /^#\d+ DONE \d+\.\ds$/m);
  const out = remote.ok(['run', '--rm', ...NET, 'remote/multi:1']);
  assert.equal(out, 'built for \narg hello\n.\n./app\n./app/a.txt\n./big\n./big/keep.txt\n');
  assert.equal(local.ok(['image', 'inspect', '-f', '{{index .Config.Labels "made"}} {{index .Config.Labels "stage"}}', 'remote/multi:1']), 'remotely final\n');
  // The unchanged rebuild: every step from the cache, the same image.
  const id = local.ok(['image', 'inspect', '-f', '{{.Id}}', 'remote/multi:1']).trim();
  const iid = path.join(dir, 'iid');
  const again = remote.brig(['build', '--progress', 'plain', ...NET, '-t', 'remote/multi:1', '--build-arg', 'GREETING=hello', '--label', 'made=remotely', '--iidfile', iid, ctx]);
  assert.equal(again.code, 0, again.stderr);
  const layered = steps(again.stderr).filter((s) => /\] (RUN|COPY|WORKDIR) /.test(s.name));
  assert.ok(layered.length >= 5 && layered.every((s) => s.cached), again.stderr);
  assert.equal(readTextSync(iid), id);
});

test('Dockerfiles from stdin through brig serve: -f - with a context, and no context at all; -q prints the ID', { skip }, () => {
  const ctx = context('stdin', { 'msg.txt': 'from the context\n' });
  const r = remote.brig(['build', '-q', ...NET, '-t', 'remote/stdin:1', '-f', '-', ctx], 'FROM rbb:1\nCOPY msg.txt /\nCMD ["cat", "/msg.txt"]\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(remote.ok(['run', '--rm', ...NET, 'remote/stdin:1']), 'from the context\n');
  const bare = remote.brig(['build', '-q', ...NET, '-t', 'remote/bare:1', '-'], 'FROM rbb:1\nRUN echo no context > /m\nCMD ["cat", "/m"]\n');
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(remote.ok(['run', '--rm', ...NET, 'remote/bare:1']), 'no context\n');
});

test('-o type=docker and type=local through brig serve; --secret and -o type=oci refused by their flags, nothing built', { skip }, () => {
  const ctx = context('outputs', { Dockerfile: 'FROM rbb:1\nRUN echo exported > /e.txt\n' });
  const archive = path.join(dir, 'out-docker.tar');
  const fsDir = path.join(dir, 'out-local');
  const r = remote.brig(['build', '-q', ...NET, '-o', `type=docker,dest=${archive}`, '-o', `type=local,dest=${fsDir}`, ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readTextSync(path.join(fsDir, 'e.txt')), 'exported\n');
  assert.match(spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout, /^manifest\.json$/m);
  const secretFile = path.join(dir, 'secret.txt');
  writeFileSync(secretFile, 's3cret\n');
  const before = local.ok(['images', '-q', '-a']);
  const sec = remote.brig(['build', ...NET, '--secret', `id=tok,src=${secretFile}`, ctx]);
  assert.equal(sec.code, 1);
  assert.match(sec.stderr, /--secret: .*not through a remote API/);
  const oci = remote.brig(['build', ...NET, '-o', `type=oci,dest=${path.join(dir, 'out-oci.tar')}`, ctx]);
  assert.equal(oci.code, 1);
  assert.match(oci.stderr, /--output type=oci: .*not through a remote API/);
  assert.equal(existsSync(path.join(dir, 'out-oci.tar')), false);
  assert.equal(local.ok(['images', '-q', '-a']), before);
});

test('a failing RUN through brig serve: the step, its exit code and output; a missing COPY source named', { skip }, () => {
  const ctx = context('fails', { Dockerfile: 'FROM rbb:1\nRUN echo about to fail && exit 3\n' });
  const r = remote.brig(['build', '--progress', 'plain', ...NET, ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^#\d+ \d+\.\d+ about to fail$/m);
  assert.match(r.stderr, /ERROR: failed to solve: .*RUN echo about to fail && exit 3.*exit code: 3/);
  const missing = context('missing', { Dockerfile: 'FROM rbb:1\nCOPY nothere.txt /\n' });
  const m = remote.brig(['build', ...NET, missing]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /nothere\.txt/);
});
