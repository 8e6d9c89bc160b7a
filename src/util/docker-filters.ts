/**
 * docker's filters (api/types/filters.Args), for containers, images and every other list
 * or prune the Engine API filters: a key maps to a set of values (`--filter label=a
 * --filter label=b`); the API also sends the older form {value: true}. The matching rules
 * and the error wording are docker's own (current moby), shared by every caller:
 *
 *   - an unknown key is "invalid filter 'KEY'"; a boolean key takes true/1 or false/0;
 *   - label filters are KEY (the label exists) or KEY=VALUE, and all of them must hold;
 *   - name and id style filters are Go regular expressions (goRegExp);
 *   - until takes docker's timestamps: a Go duration back from now, RFC 3339 or its shorter
 *     forms, or unix seconds (parseUntil).
 */
import { BrigError } from '../errors/index.js';

/** The API's `filters`: key → values; the older wire form key → {value: true} is taken too. */
export type FilterMap = Record<string, string[] | Record<string, boolean> | readonly string[]>;

export function invalidFilter(text: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', text, { field: 'filters' });
}

/**
 * Go's regexp (RE2) in JavaScript, near enough for names and ids: a leading (?i), (?s) or
 * (?m) becomes a flag, POSIX classes ([[:alpha:]]) are spelled out; what RE2 refuses and
 * JavaScript would take (look-around, back-references) is refused.
 */
export function goRegExp(pattern: string): RegExp | undefined {
  let source = pattern;
  let flags = '';
  const lead = /^\(\?([ims]+)\)/.exec(source);
  if (lead) {
    flags = [...new Set(lead[1]!)].join('');
    source = source.slice(lead[0].length);
  }
  if (/\(\?<?[=!]|\\[1-9]/.test(source)) return undefined;
  source = source.replace(/\(\?P</g, '(?<');
  const posix: Record<string, string> = {
    alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
    graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-/:-@[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
  };
  source = source.replace(/\[:(\w+):\]/g, (m, name: string) => posix[name] ?? m);
  try {
    return new RegExp(source, flags);
  } catch {
    return undefined;
  }
}

/** docker's filters.Args: the rules by which a key's values match a container's field. */
export class Filters {
  private readonly fields = new Map<string, string[]>();

  constructor(raw: FilterMap = {}) {
    for (const [k, v] of Object.entries(raw)) {
      const values = Array.isArray(v) ? (v as readonly string[]) : Object.keys(v).filter((x) => (v as Record<string, boolean>)[x]);
      this.fields.set(k, [...new Set(values.map(String))]);
    }
  }

  keys(): string[] {
    return [...this.fields.keys()];
  }

  get(key: string): string[] {
    return this.fields.get(key) ?? [];
  }

  contains(key: string): boolean {
    return this.fields.has(key);
  }

  /** docker's "invalid filter 'KEY'" for a key outside `accepted`. */
  validate(accepted: readonly string[]): void {
    for (const k of this.fields.keys()) if (!accepted.includes(k)) throw invalidFilter(`invalid filter '${k}'`);
  }

  /** True without values; else an exact value or one that matches as a regular expression. */
  match(key: string, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    return this.get(key).some((v) => goRegExp(v)?.test(source) === true);
  }

  /** True without values; else one value equals `source`. */
  exactMatch(key: string, source: string): boolean {
    const values = this.get(key);
    return values.length === 0 || values.includes(source);
  }

  /** A boolean key (dangling): its one value, or `fallback` when it is not given. */
  bool(key: string, fallback: boolean): boolean {
    const values = this.get(key);
    if (values.length === 0) return fallback;
    if (values.includes('true') || values.includes('1')) return true;
    if (values.includes('false') || values.includes('0')) return false;
    throw invalidFilter(`invalid filter '${key}=[${values.join(' ')}]'`);
  }

  /** Every value holds for `labels`: `k` (the key is there) or `k=v` (with that value). True without values. */
  matchKVList(key: string, labels: Record<string, string>): boolean {
    const values = this.get(key);
    if (values.length === 0) return true;
    if (Object.keys(labels).length === 0) return false;
    return values.every((v) => {
      const eq = v.indexOf('=');
      const k = eq < 0 ? v : v.slice(0, eq);
      if (!Object.hasOwn(labels, k)) return false;
      return eq < 0 || labels[k] === v.slice(eq + 1);
    });
  }
}

/** Go's time.ParseDuration, for until=10m, 1h30m, 1.5h, 300ms: milliseconds, or undefined. */
export function goDuration(s: string): number | undefined {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  let total = 0;
  for (const [, n, u] of s.slice(m[1]!.length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(n) * unit[u!]!;
  return m[1] === '-' ? -total : total;
}

/**
 * docker's timestamp.Parse for until: a Go duration back from `now`; an RFC 3339 time, or
 * its shorter forms (a date, an hour, minutes), in the local zone without Z or an offset;
 * else unix seconds with a fraction. Unix ms.
 */
export function parseUntil(value: string, now: number): number {
  if (value.trim() === '') throw new Error('failed to parse value as time or duration: value is empty');
  const d = goDuration(value);
  if (d !== undefined && value !== '0') return now - d;
  if (!value.includes('-')) {
    // Every time layout has dashes: what has none is unix seconds or nothing.
    const m = /^\+?(\d+)(?:\.(\d*))?$/.exec(value);
    if (!m) throw new Error(`failed to parse value as time or duration: invalid seconds ${JSON.stringify(value.split('.')[0])}: invalid syntax`);
    return Number(m[1]) * 1000 + Math.floor(Number(`0.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}`) * 1000);
  }
  const zoned = /[zZ+]/.test(value) || (value.match(/-/g) ?? []).length === 3;
  const t = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(\.\d+)?)?)?)?([zZ]|[+-]\d\d:\d\d)?$/.exec(value);
  if (!t || (t[8] !== undefined) !== zoned) throw new Error(`parsing time ${JSON.stringify(value)}: not an RFC 3339 time or date`);
  const [y, mo, day, h = 0, mi = 0, s = 0] = t.slice(1, 7).map((x) => Number(x ?? 0)) as number[];
  const ms = Math.floor(Number(t[7] ?? 0) * 1000);
  if (!zoned) return new Date(y!, mo! - 1, day, h, mi, s, ms).getTime();
  const off = /^[zZ]$/.test(t[8]!) ? 0 : (t[8]!.startsWith('-') ? -1 : 1) * (Number(t[8]!.slice(1, 3)) * 60 + Number(t[8]!.slice(4, 6)));
  return Date.UTC(y!, mo! - 1, day, h, mi, s, ms) - off * 60_000;
}

