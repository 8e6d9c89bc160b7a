import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import {
  familiarReference,
  formatReference,
  normalizeReference,
  parseReference,
} from '../../../src/image/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

test('normalises as docker does', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/a', 'localhost/a:latest'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    ['quay.io/org/repo/sub:v1.2_3-rc', 'quay.io/org/repo/sub:v1.2_3-rc'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
    ['[::1]:5000/a', '[::1]:5000/a:latest'],
    ['a__b/c-d--e.f', 'docker.io/a__b/c-d--e.f:latest'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeReference(input), want, input);
});

test('parts and familiar form', () => {
  const r = parseReference('localhost:5000/a/b:tag');
  assert.deepEqual(r, { registry: 'localhost:5000', repository: 'a/b', tag: 'tag', digest: undefined });
  assert.equal(familiarReference(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarReference(parseReference('user/app:1')), 'user/app:1');
  assert.equal(familiarReference(parseReference('ghcr.io/x/y:1')), 'ghcr.io/x/y:1');
  assert.equal(
    formatReference(parseReference('busybox', { defaultTag: false })),
    'docker.io/library/busybox',
  );
});

test("refuses invalid references in docker's words, the hint naming them", () => {
  const bad = [
    '',
    'busybox:',
    ':tag',
    'busybox:-tag',
    `busybox:${'t'.repeat(129)}`,
    'a//b',
    'a/b/',
    '/a',
    'bad_host!/x',
    'busybox@sha256:abc',
    'busybox@md5:0123',
    'a..b',
    'a-/b',
  ];
  for (const input of bad) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) =>
        e instanceof BrigError && e.code === 'INVALID_REFERENCE' && /^invalid (reference format|repository name)/.test(e.message) && `${e.message} ${e.hint}`.includes(input),
      input,
    );
  }
  assert.throws(() => parseReference('Busybox'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  assert.throws(() => parseReference('Bad/Name'), { message: 'invalid reference format: repository name (Name) must be lowercase' });
  assert.throws(() => parseReference('docker.io/Foo'), { message: 'invalid reference format: repository name (library/Foo) must be lowercase' });
  assert.throws(() => parseReference(`x/${'a'.repeat(260)}`), { message: 'repository name must not be more than 255 characters' });
  assert.throws(() => parseReference('f'.repeat(64)), { message: `invalid repository name (${'f'.repeat(64)}), cannot specify 64-byte hexadecimal strings` });
});
