/**
 * compose's merge of one (normalized) file over another (compose-spec 13-merge.md): mappings
 * merged key by key, sequences appended, except: command, entrypoint and healthcheck.test are
 * replaced; ports (by ip, target, published, protocol) and volumes (by target) replace the
 * entry with the same key and append the others; string lists that are sets (cap_add, dns,
 * ...) drop duplicates. `!reset` removes the attribute, `!override` replaces it whole.
 */
import type { Dict, PortConfig, VolumeMount } from './normalize.js';
import { Override, Reset } from './yaml-file.js';

const REPLACED = new Set(['command', 'entrypoint', 'test']);
const SETS = new Set(['cap_add', 'cap_drop', 'dns', 'dns_opt', 'dns_search', 'expose', 'external_links', 'group_add', 'links', 'profiles', 'security_opt', 'tmpfs', 'extra_hosts', 'devices']);

const portKey = (p: PortConfig) => `${p.host_ip ?? ''}|${p.target}|${p.published ?? ''}|${p.protocol}`;
const volumeKey = (v: VolumeMount) => v.target;

function byKey<T>(base: T[], over: T[], key: (x: T) => string): T[] {
  const out = [...base];
  for (const o of over) {
    const i = out.findIndex((b) => key(b) === key(o));
    if (i >= 0) out[i] = o;
    else out.push(o);
  }
  return out;
}

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Reset) && !(v instanceof Override);
}

/** `over` merged onto `base`; `key` is the attribute's name (its rules depend on it). */
export function mergeValue(base: unknown, over: unknown, key = ''): unknown {
  if (over instanceof Reset) return undefined;
  if (over instanceof Override) return stripMarkers(over.value);
  if (base === undefined) return stripMarkers(over);
  if (REPLACED.has(key)) return stripMarkers(over);
  if (Array.isArray(base) && Array.isArray(over)) {
    const o = over.filter((x) => !(x instanceof Reset)).map(stripMarkers);
    if (key === 'ports') return byKey(base as PortConfig[], o as PortConfig[], portKey);
    if (key === 'volumes') return byKey(base as VolumeMount[], o as VolumeMount[], volumeKey);
    if (SETS.has(key)) return byKey(base as unknown[], o, (x) => JSON.stringify(x));
    return [...base, ...o];
  }
  if (isDict(base) && isDict(over)) {
    const out: Dict = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeValue(base[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return stripMarkers(over);
}

/** A value with any markers left in it resolved (a file merged onto nothing). */
export function stripMarkers(v: unknown): unknown {
  if (v instanceof Override) return stripMarkers(v.value);
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Reset)).map(stripMarkers);
  if (isDict(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) if (!(x instanceof Reset)) out[k] = stripMarkers(x);
    return out;
  }
  return v;
}
