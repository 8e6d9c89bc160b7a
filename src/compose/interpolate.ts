/**
 * Compose's interpolation (compose-spec 12-interpolation.md, as compose-go does it): `$VAR`
 * and `${VAR}`, `${VAR:-default}` / `${VAR-default}` (unset or empty / unset only),
 * `${VAR:?err}` / `${VAR?err}` (an error naming the variable), `${VAR:+alt}` / `${VAR+alt}`,
 * defaults and messages themselves interpolated (nesting), `$$` a literal dollar. A `$` not
 * starting a name or a brace stays as it is. An unset variable without a default is an empty
 * string and a warning. Applied to values only, per file, before files are merged.
 */
import { BrigError } from '../errors/index.js';
import { Override, Reset } from './yaml-file.js';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** The text of a `${...}` starting at `open` (the index of its `{`): up to the matching brace. */
function braced(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

export interface InterpolateContext {
  lookup: Lookup;
  /** Where the value is (for messages): `services.web.image`. */
  path: string;
  warn?: (message: string) => void;
}

export function interpolate(s: string, ctx: InterpolateContext): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '{') {
      const close = braced(s, i + 1);
      if (close < 0) throw new BrigError('INVALID_CONFIG', `invalid interpolation format for ${ctx.path}: "${s}": a "\${" is not closed`, { field: ctx.path });
      out += substitute(s.slice(i + 2, close), ctx, s);
      i = close;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (!m) {
      out += '$';
      continue;
    }
    out += value(m[0], ctx);
    i += m[0].length;
  }
  return out;
}

function value(name: string, ctx: InterpolateContext): string {
  const v = ctx.lookup(name);
  if (v === undefined) {
    ctx.warn?.(`The "${name}" variable is not set. Defaulting to a blank string.`);
    return '';
  }
  return v;
}

/** The inside of one `${...}`. */
function substitute(inner: string, ctx: InterpolateContext, whole: string): string {
  const m = NAME.exec(inner);
  const bad = () => new BrigError('INVALID_CONFIG', `invalid interpolation format for ${ctx.path}: "${whole}"; you may need to escape any $ with another $`, { field: ctx.path });
  if (!m) throw bad();
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return value(name, ctx);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw bad();
  const arg = () => interpolate(rest.slice(op.length), ctx);
  const v = ctx.lookup(name);
  const set = v !== undefined;
  const nonEmpty = set && v !== '';
  switch (op) {
    case ':-':
      return nonEmpty ? v : arg();
    case '-':
      return set ? v : arg();
    case ':+':
      return nonEmpty ? arg() : '';
    case '+':
      return set ? arg() : '';
    case ':?':
    case '?': {
      if (op === ':?' ? nonEmpty : set) return v!;
      const why = arg();
      throw new BrigError('INVALID_CONFIG', `required variable ${name} is missing a value${why ? `: ${why}` : ''}`, { field: ctx.path });
    }
    default:
      throw bad();
  }
}

/**
 * Every string value of a parsed file interpolated (keys left alone), numbers and booleans
 * kept; `path` follows the value for messages.
 */
export function interpolateTree(node: unknown, ctx: Omit<InterpolateContext, 'path'>, path = ''): unknown {
  if (typeof node === 'string') return interpolate(node, { ...ctx, path });
  if (node instanceof Reset) return node;
  if (node instanceof Override) return new Override(interpolateTree(node.value, ctx, path));
  if (Array.isArray(node)) return node.map((x, i) => interpolateTree(x, ctx, `${path}[${i}]`));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, ctx, path ? `${path}.${k}` : k);
    return out;
  }
  return node;
}
