/**
 * Small typed readers for untrusted JSON. Each takes the JSON path of the value so the
 * error names exactly what is wrong (`mounts[2].options[0]: expected a string, got number`).
 */
import { BrigError } from '../../errors/index.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function invalid(field: string, what: string, hint?: string): BrigError {
  return new BrigError('INVALID_CONFIG', `${field}: ${what}`, { field, hint });
}

export function unsupported(field: string, what: string, hint?: string): BrigError {
  return new BrigError('UNSUPPORTED_FIELD', `${field}: ${what}`, { field, hint });
}

export function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(field, `expected an object, got ${kind(v)}`);
  }
  return v as Record<string, unknown>;
}

export function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(field, `expected an array, got ${kind(v)}`);
  return v;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw invalid(field, `expected a string, got ${kind(v)}`);
  if (v.includes('\0')) throw invalid(field, 'must not contain a NUL byte');
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, `expected a boolean, got ${kind(v)}`);
  return v;
}

/** An integer within [min, max] (defaults: 0 .. 2^53-1). */
export function int(v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw invalid(field, `expected an integer, got ${typeof v === 'number' ? v : kind(v)}`);
  }
  if (v < min || v > max) throw invalid(field, `${v} is out of range (${min} to ${max})`);
  return v;
}

export function strArr(v: unknown, field: string): string[] {
  return arr(v, field).map((x, i) => str(x, `${field}[${i}]`));
}

export function strMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${field}.${k}`);
  return out;
}

/** Reads an optional property: undefined stays undefined, anything else goes through `read`. */
export function opt<T>(
  o: Record<string, unknown>,
  key: string,
  field: string,
  read: (v: unknown, f: string) => T,
) {
  const v = o[key];
  return v === undefined ? undefined : read(v, field ? `${field}.${key}` : key);
}

export function absPath(v: unknown, field: string): string {
  const s = str(v, field);
  if (!s.startsWith('/')) throw invalid(field, `"${s}" must be an absolute path`);
  return s;
}
