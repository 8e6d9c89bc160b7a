/**
 * A service's build section as the builder's request, without root or an engine: the
 * image's name (compose v2's PROJECT-SERVICE), the Dockerfile inside or outside the
 * context or inline, args with --build-arg over them and names from the environment,
 * compose's labels on the image, the flags, what is refused by its path, and services
 * sharing a build built once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildRequest, planBuilds } from '../../../src/compose/build.js';
import { preflight } from '../../../src/compose/orchestrate.js';
import { loadProject } from '../../../src/compose/project.js';
import type { BrigError } from '../../../src/errors/index.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-compose-build-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function project(name: string, yaml: string, env: Record<string, string> = {}) {
  const d = path.join(tmp, name);
  mkdirSync(path.join(d, 'app'), { recursive: true });
  writeFileSync(path.join(d, 'compose.yaml'), yaml);
  writeFileSync(path.join(d, 'app', 'Dockerfile'), 'FROM scratch\n');
  return { dir: d, p: loadProject({ env, cwd: d, projectName: name, home: '/home/u', warn: () => undefined }) };
}

test('build as a string: the context beside the file, the image PROJECT-SERVICE, compose\'s labels', () => {
  const { dir, p } = project('short', 'services:\n  web:\n    build: ./app\n');
  const b = buildRequest(p, 'web');
  assert.equal(b.image, 'short-web');
  assert.deepEqual(b.context, { dir: path.join(dir, 'app') });
  assert.deepEqual(b.options.tags, ['short-web']);
  assert.deepEqual(b.options.labels, { 'com.docker.compose.version': '2.24.0', 'com.docker.compose.project': 'short', 'com.docker.compose.service': 'web' });
  assert.equal(b.options.dockerfile, undefined);
  assert.equal(b.options.noCache, undefined);
});

test('the long form: dockerfile, args (map or list, names from the environment, --build-arg over them), target, labels, network, flags, tags', () => {
  const { p } = project(
    'long',
    `services:
  web:
    image: localhost/web:2
    build:
      context: app
      dockerfile: sub/Dockerfile.web
      args: [A=1, FROM_ENV, UNSET, B=2]
      target: runtime
      labels: { org.example.team: web }
      network: none
      no_cache: true
      pull: "true"
      tags: [localhost/web:latest]
      platforms: [linux/amd64]
`,
    { FROM_ENV: 'env-value' },
  );
  const b = buildRequest(p, 'web', { args: { B: 'flag', C: '3' } });
  assert.equal(b.image, 'localhost/web:2');
  assert.deepEqual(b.options.tags, ['localhost/web:2', 'localhost/web:latest']);
  assert.equal(b.options.dockerfile, 'sub/Dockerfile.web');
  assert.deepEqual(b.options.buildArgs, { A: '1', FROM_ENV: 'env-value', B: 'flag', C: '3' });
  assert.equal(b.options.target, 'runtime');
  assert.equal(b.options.labels!['org.example.team'], 'web');
  assert.equal(b.options.network, 'none');
  assert.equal(b.options.noCache, true);
  assert.equal(b.options.pull, true);
  assert.equal(b.options.platform, 'linux/amd64');
});

test('a Dockerfile outside the context is sent as text with its ignore file; dockerfile_inline is the text', () => {
  const { dir, p } = project(
    'outside',
    `services:
  a:
    build: { context: app, dockerfile: ../Other.Dockerfile }
  b:
    build:
      context: app
      dockerfile_inline: |
        FROM scratch
        LABEL inline=1
`,
  );
  writeFileSync(path.join(dir, 'Other.Dockerfile'), 'FROM scratch\nLABEL other=1\n');
  writeFileSync(path.join(dir, 'Other.Dockerfile.dockerignore'), 'secret\n');
  const a = buildRequest(p, 'a');
  assert.equal(a.options.dockerfileText, 'FROM scratch\nLABEL other=1\n');
  assert.equal(a.options.ignoreText, 'secret\n');
  assert.equal(a.options.dockerfile, undefined);
  assert.equal(buildRequest(p, 'b').options.dockerfileText, 'FROM scratch\nLABEL inline=1\n');
});

test('what the builder does not carry out is refused by its path, before anything is made', () => {
  const cases: [string, string, RegExp][] = [
    ['ssh', 'ssh: [default]', /services\.web\.build\.ssh: not supported by brig compose/],
    ['hosts', 'extra_hosts: ["db=10.0.0.1"]', /services\.web\.build\.extra_hosts: not supported/],
    ['cache', 'cache_from: [x]', /services\.web\.build\.cache_from: not supported/],
    ['shm', 'shm_size: 1g', /services\.web\.build\.shm_size: not supported/],
    ['net', 'network: front', /services\.web\.build\.network: "front": brig's builder runs RUN steps on default, none or host only/],
    ['plats', 'platforms: [linux/amd64, linux/arm64]', /services\.web\.build\.platforms: one platform at a time/],
  ];
  for (const [name, line, re] of cases) {
    const { p } = project(`refuse-${name}`, `services:\n  web:\n    build:\n      context: app\n      ${line}\n`);
    assert.throws(() => preflight(p, ['web'], () => undefined), (e: BrigError) => e.code === 'UNSUPPORTED_FIELD' && re.test(e.message) && e.field!.startsWith('services.web.build.'));
  }
  const remote = project('remote', 'services:\n  web:\n    build: https://example.invalid/repo.git\n');
  assert.throws(() => buildRequest(remote.p, 'web'), /services\.web\.build\.context: a remote context/);
  const missing = project('missing', 'services:\n  web:\n    build: ./nope\n');
  assert.throws(() => buildRequest(missing.p, 'web'), (e: BrigError) => e.code === 'INVALID_CONFIG' && /build context .* not found/.test(e.message));
});

test('services sharing a build are built once, every name tagged; one image name built two ways is an error', () => {
  const { p } = project(
    'shared',
    `services:
  web:
    build: ./app
  worker:
    build: ./app
  named1:
    image: localhost/shared:1
    build: ./app
    command: ["a"]
  named2:
    image: localhost/shared:1
    build: ./app
    command: ["b"]
  plain:
    image: localhost/other:1
`,
  );
  const builds = planBuilds(p, ['web', 'worker', 'named1', 'named2', 'plain']);
  assert.equal(builds.length, 1);
  assert.deepEqual(builds[0]!.services, ['web', 'worker', 'named1', 'named2']);
  assert.deepEqual(builds[0]!.options.tags, ['shared-web', 'shared-worker', 'localhost/shared:1']);
  const clash = project('clash', 'services:\n  a:\n    image: localhost/x:1\n    build: ./app\n  b:\n    image: localhost/x:1\n    build: { context: ./app, target: other }\n');
  assert.throws(() => planBuilds(clash.p, ['a', 'b']), /services\.b\.build: image localhost\/x:1 is also built by service a, with a different build/);
});
