/**
 * docker's container filters (src/engine/containers/filters.ts): matching rules, errors in
 * docker's words, the list walk (before, since, -a, the limit) and prune's choice. Expected
 * results were checked against dockerd (20.10 and moby's daemon/list.go as of 28.x).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FilterableContainer,
  Filters,
  goRegExp,
  imageFamily,
  parseUntil,
  planList,
  planPrune,
  prunable,
  selectContainers,
} from '../../../src/engine/containers/filters.js';

let clock = 0;
/** A container created after the ones made before it. */
function ctr(id: string, name: string, over: Partial<FilterableContainer> = {}): FilterableContainer {
  clock++;
  return {
    id: id.padEnd(64, '0'),
    name,
    created: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    state: 'running',
    running: true,
    exitCode: 0,
    startedAt: '2026-01-01T00:00:00Z',
    labels: {},
    imageId: 'sha256:bb',
    networks: [{ name: 'none', id: '' }],
    health: 'none',
    mounts: [],
    ports: [],
    ...over,
  };
}

const exited = (code: number) => ({ state: 'exited' as const, running: false, exitCode: code });
// Oldest first, as they were made: a, b (label app=web), c exited 3, d created, e paused.
const A = ctr('a4a3', 'web-a', { labels: { tier: '1' } });
const B = ctr('a8bc', 'web-b', { labels: { app: 'web', tier: '2' } });
const C = ctr('6b38', 'job-c', exited(3));
const D = ctr('f9a2', 'job-d', { state: 'created', running: false, startedAt: '' });
const E = ctr('e111', 'web-e', { state: 'paused', imageId: 'sha256:child' });
const ALL = [A, B, C, D, E];

function names(raw: Record<string, string[]>, opts: { all?: boolean; limit?: number; ancestorImages?: Set<string> } = {}): string[] {
  return selectContainers(ALL, planList(raw, ALL), opts).map((c) => c.name);
}

test('without filters: running (and paused) newest first; -a all; the limit lists stopped ones too', () => {
  assert.deepEqual(names({}), ['web-e', 'web-b', 'web-a']);
  assert.deepEqual(names({}, { all: true }), ['web-e', 'job-d', 'job-c', 'web-b', 'web-a']);
  assert.deepEqual(names({}, { limit: 2 }), ['web-e', 'job-d']);
  assert.deepEqual(names({}, { limit: 1 }), ['web-e']);
  assert.deepEqual(names({}, { limit: 0 }), ['web-e', 'web-b', 'web-a'], '-n 0 is no limit');
  // The limit counts what is listed: the status filter comes after it in docker's walk, yet
  // only listed containers count.
  assert.deepEqual(names({ status: ['exited', 'created'] }, { limit: 1 }), ['job-d']);
});

test('name and id: regular expressions matched anywhere, with and without the "/"; an id prefix two share picks neither', () => {
  assert.deepEqual(names({ name: ['web'] }, { all: true }), ['web-e', 'web-b', 'web-a']);
  assert.deepEqual(names({ name: ['^web-[ab]$'] }, { all: true }), ['web-b', 'web-a']);
  assert.deepEqual(names({ name: ['^/job-c$'] }, { all: true }), ['job-c']);
  assert.deepEqual(names({ name: ['web-a', 'job-d'] }, { all: true }), ['job-d', 'web-a'], 'values of one key: any');
  assert.deepEqual(names({ name: ['['] }, { all: true }), [], 'a value that does not compile matches nothing');
  assert.deepEqual(names({ name: ['(?i)WEB-A'] }, { all: true }), ['web-a'], "RE2's (?i)");
  assert.deepEqual(names({ name: ['web-[[:alpha:]]'] }, { all: true }), ['web-e', 'web-b', 'web-a'], 'POSIX classes');
  assert.deepEqual(names({ name: ['(web)-\\1'] }, { all: true }), [], 'back-references are not RE2');
  assert.deepEqual(names({ id: ['a4a3'] }), ['web-a']);
  assert.deepEqual(names({ id: ['a'] }), [], 'a4a3… and a8bc… share the prefix');
  assert.deepEqual(names({ id: ['a4a3', 'e111'] }), ['web-e', 'web-a']);
  assert.deepEqual(names({ id: ['a4a3'], name: ['web-b'] }), [], 'id and name: both must hold');
  assert.deepEqual(names({ id: [A.id] }), ['web-a'], 'a full id');
});

test('label: every value holds; a key alone asks for the key', () => {
  assert.deepEqual(names({ label: ['tier'] }), ['web-b', 'web-a']);
  assert.deepEqual(names({ label: ['app=web'] }), ['web-b']);
  assert.deepEqual(names({ label: ['app=web', 'tier=1'] }), []);
  assert.deepEqual(names({ label: ['app=web', 'tier=2'] }), ['web-b']);
  assert.deepEqual(names({ label: ['tier='] }), [], 'an empty value is a value');
});

test('status lists stopped ones without -a; exited needs -a and a container that ran', () => {
  assert.deepEqual(names({ status: ['created'] }), ['job-d']);
  assert.deepEqual(names({ status: ['running', 'exited'] }), ['job-c', 'web-b', 'web-a']);
  assert.deepEqual(names({ status: ['paused'] }), ['web-e']);
  assert.deepEqual(names({ exited: ['3'] }), []);
  assert.deepEqual(names({ exited: ['3'] }, { all: true }), ['job-c']);
  assert.deepEqual(names({ exited: ['0'] }, { all: true }), [], 'a created container has no exit code');
  assert.deepEqual(names({ exited: ['0', '3'], status: ['exited'] }), ['job-c']);
});

test('before and since: by full id or name, never a prefix; -a still applies', () => {
  assert.deepEqual(names({ before: ['web-b'] }, { all: true }), ['web-a']);
  assert.deepEqual(names({ before: [B.id] }, { all: true }), ['web-a']);
  assert.deepEqual(names({ since: ['web-b'] }, { all: true }), ['web-e', 'job-d', 'job-c']);
  assert.deepEqual(names({ since: ['web-b'] }), ['web-e'], 'without -a only running ones');
  assert.deepEqual(names({ since: ['web-a'], before: ['web-e'] }, { all: true }), ['job-d', 'job-c', 'web-b']);
  assert.throws(() => planList({ before: ['a8bc'] }, ALL), /^BrigError: No such container: a8bc$/);
  assert.throws(() => planList({ since: ['nope'] }, ALL), /No such container: nope/);
});

test('ancestor: the images the engine resolved; none resolved lists nothing', () => {
  assert.deepEqual(names({ ancestor: ['x'] }, { all: true, ancestorImages: new Set(['sha256:child']) }), ['web-e']);
  assert.deepEqual(names({ ancestor: ['x'] }, { all: true, ancestorImages: new Set() }), []);
  assert.deepEqual(planList({ ancestor: ['busybox', 'bb:1'] }, ALL).ancestors, ['busybox', 'bb:1']);
  const base = { id: 'sha256:base', layers: ['l1', 'l2'] };
  const images = [base, { id: 'sha256:child', layers: ['l1', 'l2', 'l3'] }, { id: 'sha256:grand', layers: ['l1', 'l2', 'l3', 'l4'] }, { id: 'sha256:other', layers: ['l1', 'x'] }, { id: 'sha256:empty', layers: [] }];
  assert.deepEqual(imageFamily(base, images), ['sha256:base', 'sha256:child', 'sha256:grand']);
  assert.deepEqual(imageFamily(images[1]!, images), ['sha256:child', 'sha256:grand']);
  assert.deepEqual(imageFamily({ id: 'sha256:empty', layers: [] }, images), ['sha256:empty'], 'no layers: no descendants');
});

test("the other keys docker takes: health, network, volume, publish, expose, is-task, isolation", () => {
  assert.deepEqual(names({ health: ['none'] }), ['web-e', 'web-b', 'web-a']);
  assert.deepEqual(names({ health: ['healthy'] }), []);
  assert.deepEqual(names({ network: ['none'] }), ['web-e', 'web-b', 'web-a']);
  assert.deepEqual(names({ network: ['bridge'] }), []);
  assert.deepEqual(names({ volume: ['/data'] }), []);
  assert.deepEqual(names({ publish: ['80'] }), []);
  assert.deepEqual(names({ expose: ['8000-8001/udp'] }), []);
  assert.deepEqual(names({ 'is-task': ['false'] }), ['web-e', 'web-b', 'web-a']);
  assert.deepEqual(names({ 'is-task': ['true'] }), []);
  assert.deepEqual(names({ isolation: ['x'] }), ['web-e', 'web-b', 'web-a'], 'isolation is Windows-only: no-op');
  const withPort = ctr('9999', 'porty', { ports: [{ privatePort: 80, publicPort: 8080, type: 'tcp' }] });
  assert.deepEqual(selectContainers([withPort], planList({ publish: ['8080'] }, [withPort])).map((c) => c.name), ['porty']);
  assert.deepEqual(selectContainers([withPort], planList({ expose: ['79-81/tcp'] }, [withPort])).map((c) => c.name), ['porty']);
  assert.deepEqual(selectContainers([withPort], planList({ expose: ['80/udp'] }, [withPort])).map((c) => c.name), []);
});

test("errors in docker's words", () => {
  const err = (raw: Record<string, string[]>) => {
    try {
      planList(raw, ALL);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.equal(err({ foo: ['bar'] }), "invalid filter 'foo'");
  assert.equal(err({ status: ['bogus'] }), "invalid filter 'status=bogus': invalid value for state (bogus): must be one of created, running, paused, restarting, removing, exited, dead");
  assert.equal(err({ exited: ['x'] }), `invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax`);
  assert.equal(err({ health: ['x'] }), "invalid filter 'health=x': invalid value for health (x): must be one of none, starting, healthy, unhealthy");
  assert.equal(err({ 'is-task': ['x'] }), "invalid filter 'is-task=[x]'");
  assert.equal(err({ publish: ['a:b'] }), "filter for 'publish' should not contain ':': a:b");
  assert.equal(err({ expose: ['x'] }), "error while looking up for expose x: invalid start port 'x': invalid port number");
  assert.equal(err({ expose: ['90-80'] }), 'error while looking up for expose 90-80: invalid port range: 90-80');
  // The first problem in docker's order is the one reported.
  assert.equal(err({ exited: ['x'], status: ['bogus'] }), `invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax`);
});

test("Filters: docker's wire forms and matching rules", () => {
  const f = new Filters({ label: { 'a=1': true, b: true, off: false }, name: ['x', 'x'] });
  assert.deepEqual(f.get('label'), ['a=1', 'b']);
  assert.deepEqual(f.get('name'), ['x']);
  assert.equal(f.matchKVList('label', { a: '1', b: '' }), true);
  assert.equal(f.matchKVList('label', {}), false);
  assert.equal(f.matchKVList('nothing', {}), true);
  assert.equal(f.match('name', 'xyz'), true);
  assert.equal(f.match('nothing', 'xyz'), true);
  assert.equal(f.exactMatch('name', 'xyz'), false);
  assert.equal(goRegExp('(?P<n>a)b')?.test('ab'), true, "RE2's named group");
  assert.equal(goRegExp('a(?=b)'), undefined, 'look-ahead is not RE2');
});

test('prune: stopped containers only, until and labels (label!=)', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const plan = (raw: Record<string, string[]>) => planPrune(raw, now);
  const stopped = (over: Partial<FilterableContainer>) => ({ running: false, state: 'exited' as const, created: '2026-01-01T00:00:00.000Z', labels: {}, ...over });
  assert.equal(prunable(stopped({}), plan({})), true);
  assert.equal(prunable(stopped({ state: 'created' }), plan({})), true);
  assert.equal(prunable(stopped({ state: 'dead' }), plan({})), true);
  assert.equal(prunable(stopped({ running: true, state: 'paused' }), plan({})), false);
  assert.equal(prunable(stopped({ state: 'removing' }), plan({})), false);
  assert.equal(prunable(stopped({}), plan({ until: ['30m'] })), true, 'created an hour ago');
  assert.equal(prunable(stopped({}), plan({ until: ['90m'] })), false);
  assert.equal(prunable(stopped({}), plan({ until: ['2026-01-01T00:00:00Z'] })), true, 'created at until: kept only when after it');
  assert.equal(prunable(stopped({ labels: { keep: '1' } }), plan({ 'label!': ['keep'] })), false);
  assert.equal(prunable(stopped({ labels: { keep: '0' } }), plan({ 'label!': ['keep=1'] })), true);
  assert.equal(prunable(stopped({}), plan({ 'label!': ['keep'] })), true);
  assert.equal(prunable(stopped({ labels: { a: '1' } }), plan({ label: ['a=1'] })), true);
  assert.equal(prunable(stopped({}), plan({ label: ['a'] })), false);
  assert.throws(() => plan({ foo: ['1'] }), /^BrigError: invalid filter 'foo'$/);
  assert.throws(() => plan({ status: ['exited'] }), /invalid filter 'status'/);
  assert.throws(() => plan({ until: ['1h', '2h'] }), /^BrigError: more than one until filter specified$/);
  assert.throws(() => plan({ until: ['abc'] }), /^BrigError: failed to parse value as time or duration: invalid seconds "abc": invalid syntax$/);
  assert.throws(() => plan({ until: [''] }), /value is empty/);
});

test("until as docker's timestamp.Parse reads it", () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  assert.equal(parseUntil('10m', now), now - 600_000);
  assert.equal(parseUntil('1h30m', now), now - 5_400_000);
  assert.equal(parseUntil('1.5h', now), now - 5_400_000);
  assert.equal(parseUntil('1500ms', now), now - 1500);
  assert.equal(parseUntil('1700000000', now), 1_700_000_000_000);
  assert.equal(parseUntil('1700000000.25', now), 1_700_000_000_250);
  assert.equal(parseUntil('0', now), 0, '"0" is a timestamp, not a duration');
  assert.equal(parseUntil('2026-01-02T03:04:05Z', now), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(parseUntil('2026-01-02T03:04:05.5+01:00', now), Date.UTC(2026, 0, 2, 2, 4, 5, 500));
  assert.equal(parseUntil('2026-01-02T03:04Z', now), Date.UTC(2026, 0, 2, 3, 4));
  assert.equal(parseUntil('2026-01-02', now), new Date(2026, 0, 2).getTime(), 'a date alone is local midnight');
  assert.equal(parseUntil('2026-01-02T03', now), new Date(2026, 0, 2, 3).getTime());
  assert.throws(() => parseUntil('2026-13', now), /parsing time "2026-13"/);
  assert.throws(() => parseUntil('-5', now), /parsing time "-5"/);
});
