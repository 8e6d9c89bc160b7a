/**
 * Request bodies: read with a size limit, JSON checked as docker's CheckForJSON does
 * (a body must say application/json), and typed field by field against a schema, so a
 * wrong type is a 400 that names the field ("HostConfig.Memory: expected an integer").
 */
import { badRequest } from './errors.js';
import type { Exchange } from './exchange.js';

/** JSON bodies beyond this are refused (413) before they are parsed: create requests are a few KiB. */
export const JSON_BODY_LIMIT = 4 * 1024 * 1024;

/** A JSON body; undefined when it is empty. */
export async function readJson(x: Exchange, limit = JSON_BODY_LIMIT): Promise<unknown> {
  const body = await x.body(limit);
  if (body.length === 0) return undefined;
  const type = (x.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== '') throw badRequest(`unsupported Content-Type header (${type}): must be 'application/json'`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * A field's type. `zero` is a docker field brig does not carry out: the request may send it
 * only with its zero value (docker's CLI sends every field), anything else is refused, never
 * ignored.
 */
export type Schema =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'any'
  | 'zero'
  | { array: Schema; nullable?: boolean }
  | { map: Schema; nullable?: boolean }
  | { object: Record<string, Schema>; nullable?: boolean }
  | { nullable: Schema };

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** docker's zero values: what Go's encoder writes for a field never set. */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.every(isZero);
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

/**
 * Checks `v` against `schema`; throws 400 naming the field. Objects: fields outside the
 * schema are dropped (docker's decoder ignores unknown fields too), so what comes back is
 * only what brig knows.
 */
export function check(v: unknown, schema: Schema, field: string): unknown {
  const bad = (want: string) => badRequest(`${field || 'body'}: expected ${want}, got ${kind(v)}`);
  if (schema === 'any') return v;
  if (schema === 'zero') {
    if (!isZero(v)) throw badRequest(`${field}: not supported by brig (only its zero value is accepted)`);
    return undefined;
  }
  if (typeof schema === 'object' && 'nullable' in schema && !('array' in schema) && !('map' in schema) && !('object' in schema)) {
    return v === null ? null : check(v, schema.nullable, field);
  }
  if (v === null && typeof schema === 'object' && schema.nullable) return null;
  switch (schema) {
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a number');
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad('an integer');
      return v;
  }
  if ('array' in schema) {
    if (!Array.isArray(v)) throw bad('an array');
    return v.map((x, i) => check(x, schema.array, `${field}[${i}]`));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('an object');
  if ('map' in schema) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, check(x, schema.map, `${field}[${JSON.stringify(k)}]`)]));
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const s = (schema as { object: Record<string, Schema> }).object[k];
    if (s === undefined || x === undefined) continue;
    const checked = check(x, s, field ? `${field}.${k}` : k);
    if (checked !== undefined) out[k] = checked;
  }
  return out;
}

/** A body that must be a JSON object (its fields checked); `what` names it in the error for an empty one. */
export async function readObject(x: Exchange, schema: { object: Record<string, Schema> }, what: string): Promise<Record<string, unknown>> {
  const v = await readJson(x);
  if (v === undefined) throw badRequest(`${what} cannot be empty`);
  return check(v, schema, '') as Record<string, unknown>;
}
