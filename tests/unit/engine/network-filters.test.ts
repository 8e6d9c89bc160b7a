/** docker's network filters (moby's FilterNetworks and network prune's). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterNetworks, networkPruneFilters } from '../../../src/engine/network/filters.js';
import type { NetworkInspect } from '../../../src/engine/network/service.js';

const net = (Name: string, extra: Partial<NetworkInspect> = {}) => ({ Name, Id: `${Name.padEnd(12, '0')}${'f'.repeat(52)}`, Driver: 'bridge', Scope: 'local', Labels: {}, Containers: {}, ...extra }) as unknown as NetworkInspect;

test('network ls filters: moby\'s keys and matching; dangling and type by use and by the predefined names', () => {
  const all = [net('bridge'), net('apinet', { Labels: { team: 'a' } }), net('busy', { Containers: { x: {} } as never })];
  const used = (n: NetworkInspect) => Object.keys(n.Containers).length > 0;
  const names = (f: Record<string, string[]>) => filterNetworks(all, f, used).map((n) => n.Name);
  assert.deepEqual(names({ name: ['^api'] }), ['apinet']);
  assert.deepEqual(names({ label: ['team=a'] }), ['apinet']);
  assert.deepEqual(names({ dangling: ['true'] }), ['apinet']);
  assert.deepEqual(names({ dangling: ['0'] }), ['bridge', 'busy']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge']);
  assert.deepEqual(names({ type: ['custom'], driver: ['bridge'], scope: ['local'] }), ['apinet', 'busy']);
  assert.throws(() => names({ colour: ['red'] }), /invalid filter 'colour'/);
  assert.throws(() => names({ type: ['odd'] }), /invalid filter: 'type'='odd'/);
  assert.throws(() => names({ dangling: ['true', 'false'] }), /more than one value/);
  assert.throws(() => names({ dangling: ['maybe'] }), /invalid value for filter 'dangling'/);
});

test('network prune filters: until as docker\'s times, label and label!; anything else refused', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(networkPruneFilters({ until: ['1h'] }, now).until, now - 3600_000);
  const { labels } = networkPruneFilters({ label: ['a'], 'label!': ['b=1'] }, now);
  assert.equal(labels!({ a: '' }), true);
  assert.equal(labels!({ a: '', b: '1' }), false);
  assert.equal(labels!({ b: '2' }), false);
  assert.deepEqual(networkPruneFilters(undefined, now), {});
  assert.throws(() => networkPruneFilters({ until: ['soon'] }, now), /invalid filter 'until=soon'/);
  assert.throws(() => networkPruneFilters({ dangling: ['true'] }, now), /invalid filter 'dangling'/);
});
