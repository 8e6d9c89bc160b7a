/**
 * Query parameters with docker's parsing (api/server/httputils): booleans as BoolValue
 * (absent, "", 0, no, false, none are false; anything else true), integers as strconv.Atoi
 * with the parameter named when one does not parse, filters as JSON.
 */
import type { FilterMap } from '../engine/engine.js';
import { badRequest } from './errors.js';

export class Query {
  constructor(private readonly params: URLSearchParams) {}

  has(name: string): boolean {
    return this.params.has(name);
  }

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  bool(name: string, dflt = false): boolean {
    const v = this.params.get(name);
    if (v === null) return dflt;
    const s = v.trim().toLowerCase();
    return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
  }

  /** An integer, or undefined when absent or empty. */
  int(name: string): number | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw badRequest(`invalid value for ${name}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  }

  /** docker's `filters`: a JSON object of key → [values] (or the older key → {value: true}). */
  filters(name = 'filters'): FilterMap | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      throw badRequest(`invalid filter: ${name} is not JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`invalid filter: ${name} must be a JSON object`);
    for (const [k, vals] of Object.entries(parsed)) {
      const ok = Array.isArray(vals)
        ? vals.every((x) => typeof x === 'string')
        : typeof vals === 'object' && vals !== null && Object.values(vals).every((x) => typeof x === 'boolean');
      if (!ok) throw badRequest(`invalid filter: ${name}.${k} must be a list of strings`);
    }
    return parsed as FilterMap;
  }
}
