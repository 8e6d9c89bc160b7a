/**
 * The API's pure parts, table-driven (as podman's test/apiv2): version prefixes, routes,
 * query parsing, body checking, the create translation and the error table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, type Schema } from '../../../src/api/body.js';
import { ApiError, errorResponse } from '../../../src/api/errors.js';
import { Query } from '../../../src/api/query.js';
import { Router, splitVersion } from '../../../src/api/router.js';
import { checkCreate } from '../../../src/api/wire/container-create.js';
import { BrigError } from '../../../src/errors/index.js';

test('version prefixes: 1.24..1.45 taken off, none is the newest, beyond either end is 400 in docker\'s words', () => {
  assert.deepEqual(splitVersion('/v1.24/containers/json'), { version: '1.24', path: '/containers/json' });
  assert.deepEqual(splitVersion('/v1.45/_ping'), { version: '1.45', path: '/_ping' });
  assert.deepEqual(splitVersion('/containers/json'), { version: '1.45', path: '/containers/json' });
  assert.deepEqual(splitVersion('/volumes/v1.2'), { version: '1.45', path: '/volumes/v1.2' });
  const err = (p: string) => {
    try {
      splitVersion(p);
    } catch (e) {
      return e as ApiError;
    }
    assert.fail(p);
  };
  assert.equal(err('/v1.46/info').status, 400);
  assert.equal(err('/v1.46/info').message, 'client version 1.46 is too new. Maximum supported API version is 1.45');
  assert.equal(err('/v1.23/info').message, 'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  assert.equal(err('/v2.0/info').status, 400);
});

test('routes: parameters decoded, {name*} takes slashes, HEAD follows GET, a known path with another method is 405', async () => {
  const r = new Router();
  const seen: string[] = [];
  r.add('GET', '/containers/{id}/json', async (c) => void seen.push(c.params.id!));
  r.add('POST', '/images/{name*}/push', async (c) => void seen.push(c.params.name!));
  const m = r.match('GET', '/containers/a%20b/json');
  assert.ok('handler' in m);
  assert.deepEqual(m.params, { id: 'a b' });
  assert.ok('handler' in r.match('HEAD', '/containers/x/json'));
  const img = r.match('POST', '/images/reg:5000/ns/app/push');
  assert.ok('handler' in img && img.params.name === 'reg:5000/ns/app');
  assert.deepEqual(r.match('DELETE', '/containers/x/json'), { status: 405 });
  assert.deepEqual(r.match('GET', '/nothing'), { status: 404 });
});

test("query: docker's BoolValue, integers named when bad, filters as JSON of string lists (or the old {value: true})", () => {
  const q = new Query(new URLSearchParams('a=1&b=false&c=no&d=yes&e=&n=12&bad=1x&filters={"status":["running"],"label":{"x=1":true}}'));
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'zz'].map((k) => q.bool(k)), [true, false, false, true, false, false]);
  assert.equal(q.bool('zz', true), true);
  assert.equal(q.int('n'), 12);
  assert.equal(q.int('missing'), undefined);
  assert.throws(() => q.int('bad'), /invalid value for bad: strconv\.Atoi: parsing "1x": invalid syntax/);
  assert.deepEqual(q.filters(), { status: ['running'], label: { 'x=1': true } });
  assert.throws(() => new Query(new URLSearchParams('filters={')).filters(), /invalid filter: filters is not JSON/);
  assert.throws(() => new Query(new URLSearchParams('filters={"a":[1]}')).filters(), /filters\.a must be a list of strings/);
  assert.throws(() => new Query(new URLSearchParams('filters=[]')).filters(), /must be a JSON object/);
});

test('body schema: every wrong type named by its path; unknown fields dropped; zero-only fields refused unless zero', () => {
  const schema: Schema = { object: { A: 'integer', B: { array: 'string', nullable: true }, C: { object: { D: 'boolean' } }, M: { map: 'string' }, Z: 'zero' } };
  assert.deepEqual(check({ A: 1, B: null, C: { D: true }, M: { k: 'v' }, Z: [], Other: 'dropped' }, schema, ''), { A: 1, B: null, C: { D: true }, M: { k: 'v' } });
  const cases: [unknown, string][] = [
    [{ A: 1.5 }, 'A: expected an integer, got a number'],
    [{ A: '1' }, 'A: expected an integer, got a string'],
    [{ B: ['x', 2] }, 'B[1]: expected a string, got a number'],
    [{ C: { D: 'yes' } }, 'C.D: expected a boolean, got a string'],
    [{ C: [] }, 'C: expected an object, got an array'],
    [{ M: { k: 1 } }, 'M["k"]: expected a string, got a number'],
    [{ Z: { x: 1 } }, 'Z: not supported by brig (only its zero value is accepted)'],
    [[], 'body: expected an object, got an array'],
  ];
  for (const [body, message] of cases) assert.throws(() => check(body, schema, ''), (e: ApiError) => e.status === 400 && e.message === message, message);
});

test("create: docker CLI's zero-valued fields accepted and dropped, 'default' is the bridge, strslice Cmd, empty entrypoint", () => {
  const req = checkCreate({
    Hostname: '',
    Image: 'busybox',
    Cmd: 'echo hi',
    Entrypoint: [''],
    Env: null,
    OnBuild: null,
    HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: '', MaximumRetryCount: 0 }, ConsoleSize: [24, 80], CgroupParent: '', BlkioWeightDevice: [], KernelMemory: 0, Memory: 1048576, Binds: null },
    NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: null, Aliases: null, MacAddress: '', NetworkID: '' } } },
  });
  assert.deepEqual(req, { Hostname: '', Image: 'busybox', Cmd: ['echo hi'], Entrypoint: [], HostConfig: { Memory: 1048576 } });
  const aliased = checkCreate({ Image: 'b', HostConfig: { NetworkMode: 'front' }, NetworkingConfig: { EndpointsConfig: { front: { Aliases: ['web'] } } } });
  assert.deepEqual(aliased.NetworkingConfig, { EndpointsConfig: { front: { Aliases: ['web'] } } });
  const none = checkCreate({ Image: 'b', HostConfig: { NetworkMode: 'none' }, NetworkingConfig: { EndpointsConfig: { none: {} } } });
  assert.equal(none.NetworkingConfig, undefined);
  assert.throws(() => checkCreate({ Image: 'b', HostConfig: { Runtime: 'runsc' } }), /HostConfig\.Runtime: not supported by brig/);
  // docker-compose 1.29 sends the healthcheck's unset durations as null: Go's decoder leaves them at zero.
  const health = checkCreate({ Image: 'b', Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Timeout: null, StartPeriod: null, Retries: 3 } });
  assert.deepEqual(health.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, Retries: 3 });
  // --mac-address (API 1.44+) and --link reach the engine, which checks them.
  const mac = checkCreate({ Image: 'b', HostConfig: { Links: ['web:alias'] }, NetworkingConfig: { EndpointsConfig: { n: { MacAddress: '02:00:00:00:00:01' } } } });
  assert.deepEqual([mac.HostConfig?.Links, mac.NetworkingConfig], [['web:alias'], { EndpointsConfig: { n: { MacAddress: '02:00:00:00:00:01' } } }]);
  assert.throws(() => checkCreate({ Image: 'b', NetworkingConfig: { EndpointsConfig: { n: { Links: ['x'] } } } }), /NetworkingConfig\.EndpointsConfig\["n"\]\.Links: not supported/);
  assert.throws(() => checkCreate({ Cmd: ['x'] }), /^ApiError: Image: no image given/);
  assert.throws(() => checkCreate({ Image: 'b', Cmd: [1] }), /Cmd: expected a string or an array of strings/);
});

test('the error table: not found 404, conflict 409, bad parameter 400, the rest 500; hints stay out of the message', () => {
  const cases: [string, number][] = [
    ['CONTAINER_NOT_FOUND', 404],
    ['IMAGE_NOT_FOUND', 404],
    ['NAME_IN_USE', 409],
    ['CONTAINER_STATE', 409],
    ['CONTAINER_NOT_RUNNING', 409],
    ['INVALID_ARGUMENT', 400],
    ['AMBIGUOUS_ID', 400],
    ['EXEC_NOT_FOUND', 400],
    ['SYSTEM', 500],
    ['INTERNAL', 500],
  ];
  for (const [code, status] of cases) assert.deepEqual(errorResponse(new BrigError(code as never, 'm', { hint: 'brig rm -f' })), { status, message: 'm' }, code);
  assert.deepEqual(errorResponse(new ApiError(413, 'too big')), { status: 413, message: 'too big' });
  assert.deepEqual(errorResponse(new Error('boom')), { status: 500, message: 'boom' });
});
