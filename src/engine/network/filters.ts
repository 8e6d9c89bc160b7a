/**
 * docker's network filters (daemon/network/filter.go, network_routes.go): for `network ls`
 * dangling, driver, id, label, name, scope, type; for `network prune` until, label, label!.
 * An unknown key is "invalid filter 'KEY'", as everywhere.
 */
import { type FilterMap, Filters, invalidFilter, parseUntil } from '../../util/docker-filters.js';
import type { NetworkInspect } from './service.js';

/** The networks docker has from the start: listed as `builtin`, never dangling, never pruned. */
const PREDEFINED = ['bridge', 'host', 'none'];

export function filterNetworks(all: NetworkInspect[], raw: FilterMap | undefined, inUse: (n: NetworkInspect) => boolean): NetworkInspect[] {
  const f = new Filters(raw);
  f.validate(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
  let out = all.filter(
    (n) =>
      f.exactMatch('driver', n.Driver) &&
      (!f.contains('name') || f.match('name', n.Name)) &&
      (!f.contains('id') || f.match('id', n.Id)) &&
      f.matchKVList('label', n.Labels ?? {}) &&
      f.exactMatch('scope', n.Scope),
  );
  const dangling = f.get('dangling');
  if (dangling.length > 1) throw invalidFilter('got more than one value for filter key "dangling"');
  if (dangling.length === 1) {
    if (!['0', 'false', '1', 'true'].includes(dangling[0]!)) throw invalidFilter(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    const only = dangling[0] === '1' || dangling[0] === 'true';
    out = out.filter((n) => (only ? !PREDEFINED.includes(n.Name) && !inUse(n) : PREDEFINED.includes(n.Name) || inUse(n)));
  }
  if (f.contains('type')) {
    for (const t of f.get('type')) if (t !== 'custom' && t !== 'builtin') throw invalidFilter(`invalid filter: 'type'='${t}'`);
    out = out.filter((n) => f.get('type').includes(PREDEFINED.includes(n.Name) ? 'builtin' : 'custom'));
  }
  return out;
}

/** `network prune`'s filters as the network service takes them: a creation time bound and a label test. */
export function networkPruneFilters(raw: FilterMap | undefined, now: number): { until?: number; labels?: (l: Record<string, string>) => boolean } {
  const f = new Filters(raw);
  f.validate(['until', 'label', 'label!']);
  let until: number | undefined;
  for (const v of f.get('until')) {
    try {
      until = Math.min(until ?? Number.POSITIVE_INFINITY, parseUntil(v, now));
    } catch (e) {
      throw invalidFilter(`invalid filter 'until=${v}': ${(e as Error).message}`);
    }
  }
  const labelled = f.contains('label') || f.contains('label!');
  return {
    ...(until !== undefined ? { until } : {}),
    ...(labelled ? { labels: (l: Record<string, string>) => f.matchKVList('label', l) && !(f.contains('label!') && f.matchKVList('label!', l)) } : {}),
  };
}
