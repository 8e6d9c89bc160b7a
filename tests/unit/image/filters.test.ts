/** docker's filters for images and image prune: Go's path.Match, label lists, bool filters, the list rules. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FilterName, imageListFilter, pathMatch } from '../../../src/image/filters.js';
import { Filters } from '../../../src/util/docker-filters.js';

test("pathMatch is Go's path.Match", () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a?b', 'a/b', false],
    ['[\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[\\-x]', 'x', true],
    ['a[^a]b', 'a/b', false],
    ['*x', 'xxx', true],
    ['busybox:*', 'busybox:1.36', true],
    ['docker.io/library/*', 'docker.io/library/busybox', true],
    ['*/bb', 'docker.io/library/bb', false],
  ];
  for (const [p, s, want] of cases) assert.equal(pathMatch(p, s), want, `${p} ~ ${s}`);
  // Go's match_test.go: the ErrBadPattern cases.
  for (const bad of ['[', '[^', '[^bc', 'a[', 'a\\', '[a-', '*x\\', '[]a]', '[-]', '[x-]', '[a-b-c]', '[\\]', '[\\', '[]']) {
    assert.throws(() => pathMatch(bad, 'x'), { message: 'syntax error in pattern' }, bad);
  }
});

test('label lists, bool filters and unknown keys, in docker\'s words (the filters every list shares)', () => {
  const labels = (values: string[] | undefined, have: Record<string, string>) => new Filters(values ? { label: values } : {}).matchKVList('label', have);
  assert.equal(labels(undefined, {}), true);
  assert.equal(labels(['a'], { a: '' }), true);
  assert.equal(labels(['a=1', 'b'], { a: '1', b: 'x' }), true);
  assert.equal(labels(['a=1', 'c'], { a: '1', b: 'x' }), false);
  assert.equal(labels(['a=2'], { a: '1' }), false);
  assert.equal(labels(['a=b=c'], { a: 'b=c' }), true);
  assert.equal(new Filters({}).bool('dangling', true), true);
  assert.equal(new Filters({ dangling: ['false'] }).bool('dangling', true), false);
  assert.equal(new Filters({ dangling: ['1'] }).bool('dangling', false), true);
  assert.throws(() => new Filters({ dangling: ['maybe', 'so'] }).bool('dangling', true), { message: "invalid filter 'dangling=[maybe so]'" });
  assert.doesNotThrow(() => new Filters({ label: ['x'] }).validate(['label', 'until']));
  assert.throws(() => new Filters({ foo: ['1'] }).validate(['label']), { message: "invalid filter 'foo'" });
});

test('the images list: dangling, reference (only matching names kept), label, before/since', () => {
  const familiar = (full: string) => {
    const short = full.replace(/^docker\.io\/(library\/)?/, '');
    return { familiar: short, familiarName: short.replace(/[:@].*$/, '') };
  };
  const tag = (full: string): FilterName => ({ full, repo: full.replace(/:[^/]*$/, ''), digest: false });
  const dig = (full: string): FilterName => ({ full, repo: full.replace(/@.*$/, ''), digest: true });
  const tagged = { created: 2000, labels: { tier: 'web' }, names: [tag('docker.io/library/app:1'), tag('docker.io/team/app:2'), dig(`docker.io/library/app@sha256:${'a'.repeat(64)}`)] };
  const digestOnly = { created: 3000, labels: {}, names: [dig(`docker.io/library/old@sha256:${'b'.repeat(64)}`)] };
  const none = { created: 1000, labels: {}, names: [] };
  const unknown = { created: Number.NaN, labels: {}, names: [tag('docker.io/library/host:latest')] };
  const run = (f: Record<string, string[]>, times = {}) =>
    [tagged, digestOnly, none, unknown].map((img) => imageListFilter(new Filters(f), times, familiar)(img)?.map((n) => n.full) ?? null);
  assert.deepEqual(run({}).map((x) => x?.length ?? null), [3, 1, 0, 1]);
  assert.deepEqual(run({ dangling: ['true'] }).map((x) => x !== null), [false, true, true, false]);
  assert.deepEqual(run({ dangling: ['false'] }).map((x) => x !== null), [true, true, false, true]);
  assert.deepEqual(run({ reference: ['app'] })[0], ['docker.io/library/app:1', `docker.io/library/app@sha256:${'a'.repeat(64)}`]);
  assert.deepEqual(run({ reference: ['team/*'] })[0], ['docker.io/team/app:2']);
  assert.deepEqual(run({ reference: ['app:1'] })[0], ['docker.io/library/app:1']);
  assert.deepEqual(run({ reference: ['docker.io/library/app'] })[0]?.length, 2);
  assert.equal(run({ reference: ['app'] })[2], null, 'no names: left out under a reference filter');
  assert.deepEqual(run({ label: ['tier=web'] }).map((x) => x !== null), [true, false, false, false]);
  assert.deepEqual(run({}, { before: 2000 }).map((x) => x !== null), [false, false, true, false]);
  assert.deepEqual(run({}, { since: 1000 }).map((x) => x !== null), [true, true, false, false]);
});
