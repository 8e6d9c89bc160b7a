/**
 * Go's text/template, as the docker CLI uses it for --format: a lexer and parser that turn the
 * template into a tree, and an evaluator that walks it over brig's data (JSON objects).
 *
 * The data model follows what docker really does. `docker inspect -f` runs the template on
 * the typed struct and, when that fails, again on the raw JSON decoded into maps; brig's data
 * are those maps, so a missing key gives Go's `<no value>` (and `.A.B` with A missing too),
 * while a present `null` is Go's nil interface (`.A.B` on it is an error, as in Go). Objects
 * that docker renders from a fixed Go struct (the rows of `ps` and `images`) are marked with
 * `goStruct(name, fields)`: there an unknown field is Go's "can't evaluate field X in type
 * *formatter.ContainerContext", and function-valued fields are methods (`.Label "k"`).
 *
 * Errors carry the place as Go's do: "template: :1:2: executing "" at <.Foo>: ...", the
 * column a 0-based byte offset in its line. Go's parse errors give only the line; brig's give
 * the column too, which is what a user needs to find the mistake.
 *
 * Not supported (refused at parse time, never ignored): define, template, block.
 */
import { BrigError } from '../../errors/index.js';

export class TemplateError extends BrigError {
  constructor(message: string) {
    super('INVALID_TEMPLATE', message, { field: '--format' });
    this.name = 'TemplateError';
  }
}

// ---------------------------------------------------------------- values

/** Go's int: a whole number JSON can carry exactly; past 2^53 a number is float64, as Go decodes it. */
const isInt = (n: unknown): n is number => Number.isSafeInteger(n);

const STRUCT = Symbol('go struct');

/** A Go struct's view: unknown fields are errors, function fields are methods. */
export function goStruct<T extends object>(typeName: string, fields: T): T {
  Object.defineProperty(fields, STRUCT, { value: typeName, enumerable: false });
  return fields;
}

function structName(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? ((v as Record<symbol, string>)[STRUCT] ?? undefined) : undefined;
}

/** Go's name for a value's type, for error messages. */
export function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isInt(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'function') return 'func';
  if (Array.isArray(v)) return '[]interface {}';
  return structName(v) ?? 'map[string]interface {}';
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false; structs are true. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'function') return true;
  if (structName(v)) return true;
  return Object.keys(v as object).length > 0;
}

/**
 * strconv's 'g' format: the shortest digits (or `prec` significant ones), in e-notation when
 * the exponent is below -4 or at least `eprec` (21 for %v, 6 for %g, as fmt has them).
 */
function formatG(n: number, eprec: number, prec?: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const sign = n < 0 ? '-' : '';
  const [m, e] = (prec === undefined ? Math.abs(n).toExponential() : Math.abs(n).toExponential(Math.max(1, prec) - 1)).split('e') as [string, string];
  const digits = m.replace('.', '').replace(/0+$/, '') || '0';
  const exp = Number(e);
  if (exp < -4 || exp >= (prec ?? eprec)) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  return sign + (digits.length <= exp + 1 ? digits + '0'.repeat(exp + 1 - digits.length) : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`);
}

/** A whole number is Go's int (docker's typed fields are), printed without exponent; others float64. */
function formatNumber(n: number): string {
  if (isInt(n)) return String(n);
  return formatG(n, 21);
}

function sortedKeys(m: object): string[] {
  return Object.keys(m).sort();
}

/** fmt's %v: maps as map[k:v ...] (keys sorted), slices as [a b], nil as <nil>. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return '<func>';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  const m = v as Record<string, unknown>;
  const keys = Object.keys(m).filter((k) => typeof m[k] !== 'function');
  if (structName(v)) return `{${keys.map((k) => formatValue(m[k])).join(' ')}}`;
  return `map[${keys.sort().map((k) => `${k}:${formatValue(m[k])}`).join(' ')}]`;
}

/** strconv.Quote, near enough: JSON's escapes, with Go's \x for DEL and the C1 controls. */
export function goQuote(s: string): string {
  const named: Record<string, string> = { '07': '\\a', '0b': '\\v' };
  // An escaped backslash is matched first, so "\\u0001" in the input is left alone.
  return JSON.stringify(s)
    .replace(/(\\\\)|\\u00([01][0-9a-f])/g, (m, bs: string | undefined, h: string) => (bs ? m : (named[h] ?? `\\x${h}`)))
    .replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** How a bigint stands in JSON.stringify's output until it is written as a bare number. */
const BIGINT = '\u0000int64\u0000';
const BIGINT_TEXT = new RegExp(`"${JSON.stringify(BIGINT).slice(1, -1).replace(/\\/g, '\\\\')}(-?\\d+)"`, 'g');

const ORDERED = Symbol('go json field order');

/** An object the `json` function writes in its own key order: a Go struct's encoding (maps are sorted). */
export function jsonStruct<T extends object>(fields: T): T {
  Object.defineProperty(fields, ORDERED, { value: true, enumerable: false });
  return fields;
}

/** encoding/json with SetEscapeHTML(false), as docker's `json` function. */
export function goJSON(v: unknown): string {
  // Go encodes a map with its keys sorted; brig's data are maps to the template. An int64
  // past 2^53 (a bigint) is written exactly; a jsonStruct in its own order.
  const sorted = (_k: string, x: unknown) =>
    typeof x === 'bigint' ? `${BIGINT}${x}` : isMap(x) && !(ORDERED in x) ? Object.fromEntries(sortedKeys(x).map((k) => [k, x[k]])) : x;
  const s = (JSON.stringify(v === undefined ? null : v, sorted) ?? 'null').replace(BIGINT_TEXT, '$1');
  return s
    .replace(/(\\\\)|\\([bf])/g, (m, bs: string | undefined, c: string) => (bs ? m : c === 'b' ? '\\u0008' : '\\u000c'))
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------- printf

function pad(s: string, width: number | undefined, minus: boolean, zero: boolean): string {
  if (width === undefined || [...s].length >= width) return s;
  const n = width - [...s].length;
  if (minus) return s + ' '.repeat(n);
  if (zero) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function bad(verb: string, arg: unknown): string {
  return arg === undefined || arg === null ? `%!${verb}(<nil>)` : `%!${verb}(${goType(arg)}=${formatValue(arg)})`;
}

function fmtInt(n: number, verb: string, sp: Spec): string {
  const neg = n < 0;
  let digits = BigInt(Math.abs(n)).toString({ d: 10, x: 16, X: 16, o: 8, b: 2 }[verb] ?? 10);
  if (verb === 'X') digits = digits.toUpperCase();
  if (sp.prec !== undefined) digits = digits.padStart(sp.prec, '0');
  if (sp.sharp) digits = ({ x: '0x', X: '0X', o: '0', b: '0b' }[verb] ?? '') + digits;
  return (neg ? '-' : sp.plus ? '+' : sp.space ? ' ' : '') + digits;
}

function fmtOne(verb: string, arg: unknown, sp: Spec): string {
  if (Array.isArray(arg) && verb !== 'v' && verb !== 'T') return `[${arg.map((a) => fmtOne(verb, a, { ...sp, width: undefined })).join(' ')}]`;
  switch (verb) {
    case 'v':
      if (typeof arg === 'number' && isInt(arg)) return fmtInt(arg, 'd', sp);
      return arg === undefined ? '<nil>' : formatValue(arg);
    case 'T':
      return goType(arg);
    case 's': {
      if (typeof arg !== 'string') return typeof arg === 'number' || typeof arg === 'boolean' || arg == null ? bad(verb, arg) : formatValue(arg);
      return sp.prec === undefined ? arg : [...arg].slice(0, sp.prec).join('');
    }
    case 'q':
      if (typeof arg === 'string') return goQuote(arg);
      if (typeof arg === 'number' && isInt(arg)) return `'${String.fromCodePoint(arg)}'`;
      return bad(verb, arg);
    case 'd':
    case 'o':
    case 'b':
      return typeof arg === 'number' && isInt(arg) ? fmtInt(arg, verb, sp) : bad(verb, arg);
    case 'x':
    case 'X':
      if (typeof arg === 'number' && isInt(arg)) return fmtInt(arg, verb, sp);
      if (typeof arg === 'string') {
        const h = Buffer.from(arg).toString('hex');
        return verb === 'X' ? h.toUpperCase() : h;
      }
      return bad(verb, arg);
    case 'c':
      return typeof arg === 'number' && isInt(arg) ? String.fromCodePoint(arg) : bad(verb, arg);
    case 'U':
      return typeof arg === 'number' && isInt(arg) ? `U+${arg.toString(16).toUpperCase().padStart(4, '0')}` : bad(verb, arg);
    case 't':
      return typeof arg === 'boolean' ? String(arg) : bad(verb, arg);
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (typeof arg !== 'number') return bad(verb, arg);
      const sign = arg < 0 || Object.is(arg, -0) ? '-' : sp.plus ? '+' : sp.space ? ' ' : '';
      const a = Math.abs(arg);
      let s: string;
      if (verb === 'f' || verb === 'F') s = a.toFixed(sp.prec ?? 6);
      else if (verb === 'e' || verb === 'E') s = a.toExponential(sp.prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      else s = formatG(a, 6, sp.prec);
      return sign + (verb === 'E' || verb === 'G' ? s.toUpperCase() : s);
    }
    default:
      return `%!${verb}(${goType(arg)}=${formatValue(arg)})`;
  }
}

/** fmt.Sprintf: flags (-+# 0), width, precision and the common verbs; Go's %!x(...) for misuse. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let ai = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const sp: Spec = { minus: false, plus: false, space: false, zero: false, sharp: false, width: undefined, prec: undefined };
    let j = i + 1;
    for (; j < format.length; j++) {
      const f = format[j];
      if (f === '-') sp.minus = true;
      else if (f === '+') sp.plus = true;
      else if (f === ' ') sp.space = true;
      else if (f === '0') sp.zero = true;
      else if (f === '#') sp.sharp = true;
      else break;
    }
    const num = () => {
      if (format[j] === '*') {
        j++;
        const a = args[ai++];
        return typeof a === 'number' ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(j));
      if (!m) return undefined;
      j += m[0].length;
      return Number(m[0]);
    };
    sp.width = num();
    if (format[j] === '.') {
      j++;
      sp.prec = num() ?? 0;
    }
    const verb = format[j];
    i = j;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += pad(fmtOne(verb, args[ai++], sp), sp.width, sp.minus, sp.zero && !sp.minus && verb !== 's' && verb !== 'v' && verb !== 'q');
  }
  if (ai < args.length) out += `%!(EXTRA ${args.slice(ai).map((a) => `${goType(a)}=${formatValue(a)}`).join(', ')})`;
  return out;
}

/** fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

// ---------------------------------------------------------------- functions

/** A function's parameter: Go checks each argument's type before the call. */
export type Param = 'any' | 'string' | 'int' | 'bool' | 'strings';

export interface TemplateFunc {
  params: Param[];
  /** The type of any further arguments (Go's variadic `...T`). */
  variadic?: Param;
  fn: (...args: unknown[]) => unknown;
}

export type FuncMap = Record<string, TemplateFunc>;

function basic(v: unknown): 'number' | 'string' | 'bool' | undefined {
  return typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : undefined;
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  for (const b of rest) {
    const ka = basic(a);
    const kb = basic(b);
    if (a == null || b == null) {
      if (a == null && b == null) return true;
      if (ka === undefined && kb === undefined) throw new Error(`non-comparable types ${formatValue(a)}: ${goType(a)}, ${goType(b)}: ${formatValue(b)}`);
      continue;
    }
    if (ka !== kb) throw new Error('incompatible types for comparison');
    if (ka === undefined) throw new Error(`non-comparable type ${formatValue(a)}: ${goType(a)}`);
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basic(a);
  const kb = basic(b);
  if (ka === undefined || kb === undefined || ka === 'bool' || kb === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === undefined || v === null) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !isInt(k)) throw new Error(`cannot index slice/array with type ${goType(k)}`);
      if (k < 0 || k >= v.length) throw new Error(`index out of range: ${k}`);
      v = typeof v === 'string' ? Buffer.from(v)[k] : v[k];
    } else if (isMap(v) && !structName(v)) {
      if (typeof k !== 'string') throw new Error(`value has type ${goType(k)}; should be string`);
      v = Object.hasOwn(v, k) ? v[k] : undefined;
    } else throw new Error(`can't index item of type ${goType(v)}`);
  }
  return v;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${goType(item)}`);
  if (idx.length > 2) throw new Error('too many slice indexes');
  const [i = 0, j = item.length] = idx as number[];
  if (i < 0 || j < i || j > item.length) throw new Error(`index out of range: ${j > item.length ? j : i}`);
  return item.slice(i, j);
}

function len(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v) && !structName(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goType(v)}`);
}

/** strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const c of s) {
    const sep = !/[\p{L}\p{N}_]/u.test(prev);
    out += sep ? c.toUpperCase() : c;
    prev = c;
  }
  return out;
}

/** The builtins of text/template (and, or are evaluated lazily by the evaluator). */
export const GO_FUNCS: FuncMap = {
  and: { params: ['any'], variadic: 'any', fn: () => undefined },
  or: { params: ['any'], variadic: 'any', fn: () => undefined },
  not: { params: ['any'], fn: (a) => !truth(a) },
  len: { params: ['any'], fn: len },
  index: { params: ['any'], variadic: 'any', fn: index },
  slice: { params: ['any'], variadic: 'int', fn: slice },
  eq: { params: ['any'], variadic: 'any', fn: eq },
  ne: { params: ['any', 'any'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: lt },
  le: { params: ['any', 'any'], fn: (a, b) => lt(a, b) || eq(a, b) },
  gt: { params: ['any', 'any'], fn: (a, b) => !lt(a, b) && !eq(a, b) },
  ge: { params: ['any', 'any'], fn: (a, b) => !lt(a, b) },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  println: { params: [], variadic: 'any', fn: (...a) => `${a.map(formatValue).join(' ')}\n` },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f as string, a) },
};

/** What docker's CLI adds (cli/templates/templates.go). */
export const DOCKER_FUNCS: FuncMap = {
  ...GO_FUNCS,
  json: { params: ['any'], fn: goJSON },
  split: { params: ['string', 'string'], fn: (s, sep) => (sep === '' ? [...(s as string)] : (s as string).split(sep as string)) },
  join: { params: ['strings', 'string'], fn: (l, sep) => (l as unknown[]).map(formatValue).join(sep as string) },
  title: { params: ['string'], fn: (s) => title(s as string) },
  lower: { params: ['string'], fn: (s) => (s as string).toLowerCase() },
  upper: { params: ['string'], fn: (s) => (s as string).toUpperCase() },
  pad: { params: ['string', 'int', 'int'], fn: (s, a, b) => ((s as string) === '' ? '' : ' '.repeat(a as number) + (s as string) + ' '.repeat(b as number)) },
  truncate: { params: ['string', 'int'], fn: (s, n) => ((s as string).length < (n as number) ? s : (s as string).slice(0, n as number)) },
};

/** docker's HeaderFunctions: for a table's header row the string functions pass the name through. */
export const HEADER_FUNCS: FuncMap = Object.fromEntries(
  ['json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate'].map((n) => [n, { params: ['any'], variadic: 'any', fn: (v: unknown) => v }] as const),
);

// ---------------------------------------------------------------- lexer

type Tok =
  | 'text' | 'left' | 'right' | 'field' | 'var' | 'dot' | 'ident' | 'string' | 'char' | 'number'
  | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';

interface Item {
  t: Tok;
  v: string;
  pos: number;
  /** Whitespace came before it inside the action (separates arguments). */
  spaced: boolean;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'nil', 'true', 'false']);

class Lexer {
  readonly items: Item[] = [];
  constructor(
    private readonly src: string,
    private readonly err: (pos: number, msg: string) => never,
  ) {
    this.run();
  }

  private run(): void {
    const s = this.src;
    let p = 0;
    while (p < s.length) {
      const open = s.indexOf('{{', p);
      let text = open < 0 ? s.slice(p) : s.slice(p, open);
      const trimLeft = open >= 0 && s[open + 2] === '-' && /[ \t\r\n]/.test(s[open + 3] ?? '');
      if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
      if (text) this.items.push({ t: 'text', v: text, pos: p, spaced: false });
      if (open < 0) break;
      p = this.action(open, trimLeft);
      // A right trim marker eats the whitespace after the action.
      if (this.trimRight) {
        while (p < s.length && /[ \t\r\n]/.test(s[p]!)) p++;
      }
    }
    this.items.push({ t: 'eof', v: '', pos: s.length, spaced: false });
  }

  private trimRight = false;

  /** Lexes one action from `{{`; returns the position after `}}`. */
  private action(open: number, trimLeft: boolean): number {
    const s = this.src;
    let p = open + 2 + (trimLeft ? 2 : 0);
    this.trimRight = false;
    // A comment: {{/* ... */}}, alone in its action.
    if (s.startsWith('/*', p)) {
      const end = s.indexOf('*/', p + 2);
      if (end < 0) this.err(open, 'unclosed comment');
      let q = end + 2;
      if (s.startsWith(' -}}', q) || s.startsWith('\t-}}', q) || s.startsWith('\n-}}', q) || s.startsWith('\r-}}', q)) {
        this.trimRight = true;
        return q + 4;
      }
      if (!s.startsWith('}}', q)) this.err(open, 'comment ends before closing delimiter');
      q += 2;
      return q;
    }
    this.items.push({ t: 'left', v: '{{', pos: open, spaced: false });
    let spaced = false;
    let depth = 0;
    const push = (t: Tok, v: string, pos: number) => {
      this.items.push({ t, v, pos, spaced });
      spaced = false;
    };
    for (;;) {
      if (p >= s.length) this.err(open, 'unclosed action');
      const c = s[p]!;
      if (/[ \t\r\n]/.test(c)) {
        const start = p;
        while (p < s.length && /[ \t\r\n]/.test(s[p]!)) p++;
        if (s.startsWith('-}}', p) && p > start) {
          if (depth > 0) this.err(p, 'unclosed left paren');
          this.trimRight = true;
          push('right', '}}', p);
          return p + 3;
        }
        spaced = true;
        continue;
      }
      if (s.startsWith('}}', p)) {
        if (depth > 0) this.err(p, 'unclosed left paren');
        push('right', '}}', p);
        return p + 2;
      }
      const start = p;
      if (c === '|') {
        push('pipe', '|', p++);
      } else if (c === '(') {
        depth++;
        push('lparen', '(', p++);
      } else if (c === ')') {
        if (--depth < 0) this.err(p, `unexpected right paren`);
        push('rparen', ')', p++);
      } else if (c === ',') {
        push('comma', ',', p++);
      } else if (s.startsWith(':=', p)) {
        push('declare', ':=', p);
        p += 2;
      } else if (c === '=') {
        push('assign', '=', p++);
      } else if (c === '"') {
        p++;
        while (p < s.length && s[p] !== '"') {
          if (s[p] === '\\') p++;
          if (s[p] === '\n' || p >= s.length) this.err(start, 'unterminated quoted string');
          p++;
        }
        if (p >= s.length) this.err(start, 'unterminated quoted string');
        push('string', s.slice(start, ++p), start);
      } else if (c === '`') {
        const end = s.indexOf('`', p + 1);
        if (end < 0) this.err(start, 'unterminated raw quoted string');
        p = end + 1;
        push('string', s.slice(start, p), start);
      } else if (c === "'") {
        p++;
        while (p < s.length && s[p] !== "'") {
          if (s[p] === '\\') p++;
          p++;
        }
        if (p >= s.length) this.err(start, 'unterminated character constant');
        push('char', s.slice(start, ++p), start);
      } else if (c === '$') {
        p++;
        while (p < s.length && /[\p{L}\p{N}_]/u.test(s[p]!)) p++;
        push('var', s.slice(start, p), start);
      } else if (c === '.') {
        if (/[0-9]/.test(s[p + 1] ?? '')) {
          p = this.number(p);
          push('number', s.slice(start, p), start);
        } else {
          p++;
          while (p < s.length && /[\p{L}\p{N}_]/u.test(s[p]!)) p++;
          push(p === start + 1 ? 'dot' : 'field', s.slice(start, p), start);
        }
      } else if (/[0-9+-]/.test(c)) {
        p = this.number(p);
        if (p === start) this.err(start, `bad number syntax: "${c}"`);
        push('number', s.slice(start, p), start);
      } else if (/[\p{L}_]/u.test(c)) {
        while (p < s.length && /[\p{L}\p{N}_]/u.test(s[p]!)) p++;
        push('ident', s.slice(start, p), start);
      } else {
        // Go lexes a printable ASCII character as an item the parser then rejects.
        const cp = c.codePointAt(0)!;
        if (c === '}') this.err(p, `bad character U+007D '}'`);
        if (cp < 0x7f && cp >= 0x20) this.err(p, `unexpected "${c}" in operand`);
        this.err(p, `unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`);
      }
    }
  }

  private number(p: number): number {
    const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(this.src.slice(p));
    const n = m ? m[0] : '';
    if (/[\p{L}\p{N}_.]/u.test(this.src[p + n.length] ?? '')) this.err(p, `bad number syntax: "${this.src.slice(p, p + n.length + 1)}"`);
    if (!/\d/.test(n)) this.err(p, `illegal number syntax: "${n}"`);
    return p + n.length;
  }
}

// ---------------------------------------------------------------- tree

type Operand =
  | { k: 'field'; pos: number; text: string; names: string[] }
  | { k: 'var'; pos: number; text: string; name: string; names: string[] }
  | { k: 'dot'; pos: number; text: string }
  | { k: 'func'; pos: number; text: string; name: string }
  | { k: 'lit'; pos: number; text: string; value: unknown }
  | { k: 'pipe'; pos: number; text: string; pipe: Pipe }
  | { k: 'chain'; pos: number; text: string; node: Operand; names: string[] };

interface Command {
  pos: number;
  text: string;
  args: Operand[];
}

interface Pipe {
  pos: number;
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pos: number; pipe: Pipe }
  | { k: 'if' | 'with'; pos: number; pipe: Pipe; list: Node[]; else?: Node[] }
  | { k: 'range'; pos: number; pipe: Pipe; list: Node[]; else?: Node[] }
  | { k: 'break' | 'continue'; pos: number };

function unquote(lit: string, err: () => never): string {
  if (lit.startsWith('`')) return lit.slice(1, -1);
  try {
    // Go's escapes are a superset of JSON's: \x, \a, \v, \', octal.
    const js = lit
      .slice(1, -1)
      .replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')
      .replace(/\\U([0-9a-fA-F]{8})/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)).replace(/["\\]/g, '\\$&'))
      .replace(/\\a/g, '\\u0007')
      .replace(/\\v/g, '\\u000b')
      .replace(/\\'/g, "'")
      .replace(/\\([0-7]{3})/g, (_m, o: string) => `\\u${parseInt(o, 8).toString(16).padStart(4, '0')}`);
    return JSON.parse(`"${js}"`) as string;
  } catch {
    return err();
  }
}

class Parser {
  private i = 0;
  private readonly items: Item[];
  /** Variables in scope, innermost last; `$` is always there. */
  private vars: string[] = ['$'];
  private rangeDepth = 0;

  constructor(
    private readonly src: string,
    private readonly funcs: FuncMap,
    private readonly err: (pos: number, msg: string) => never,
  ) {
    this.items = new Lexer(src, err).items;
  }

  private peek(): Item {
    return this.items[this.i]!;
  }
  private next(): Item {
    return this.items[this.i++]!;
  }

  parse(): Node[] {
    const { list, end } = this.list();
    if (end) this.err(end.pos, `unexpected {{${end.v}}}`);
    return list;
  }

  /** Nodes up to {{end}} or {{else}} (returned) or EOF. */
  private list(): { list: Node[]; end?: Item & { elseOf?: string } } {
    const list: Node[] = [];
    for (;;) {
      const it = this.next();
      if (it.t === 'eof') return { list };
      if (it.t === 'text') {
        list.push({ k: 'text', text: it.v });
        continue;
      }
      // A left delimiter: the action's first word decides.
      const w = this.peek();
      if (w.t === 'ident' && KEYWORDS.has(w.v) && !['nil', 'true', 'false'].includes(w.v)) {
        this.next();
        switch (w.v) {
          case 'end':
            this.expectRight('end');
            return { list, end: w };
          case 'else':
            return { list, end: w };
          case 'if':
          case 'with':
          case 'range':
            list.push(this.control(w.v, w.pos));
            continue;
          case 'break':
          case 'continue':
            if (this.rangeDepth === 0) this.err(w.pos, `{{${w.v}}} outside {{range}}`);
            this.expectRight(w.v);
            list.push({ k: w.v, pos: w.pos });
            continue;
          default:
            this.err(w.pos, `{{${w.v}}} is not supported by brig's templates`);
        }
      }
      const pipe = this.pipeline('command', w.pos);
      list.push({ k: 'action', pos: w.pos, pipe });
    }
  }

  private expectRight(ctx: string): void {
    const it = this.next();
    if (it.t !== 'right') this.err(it.pos, `unexpected ${this.describe(it)} in ${ctx}`);
  }

  private describe(it: Item): string {
    if (it.t === 'eof') return 'EOF';
    if (it.t === 'right') return '"}}"';
    return `"${it.v}"`;
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const saved = this.vars.length;
    const pipe = this.pipeline(kind, pos);
    if (kind === 'range') this.rangeDepth++;
    const first = this.list();
    if (kind === 'range') this.rangeDepth--;
    const list = first.list;
    let end = first.end;
    let elseList: Node[] | undefined;
    if (end?.v === 'else') {
      const nextWord = this.peek();
      // {{else if ...}} / {{else with ...}}: a nested control that shares our {{end}}.
      if ((kind === 'if' && nextWord.v === 'if') || (kind === 'with' && nextWord.v === 'with')) {
        this.next();
        elseList = [this.control(kind, nextWord.pos)];
        this.vars.length = saved;
        return { k: kind, pos, pipe, list, else: elseList };
      }
      this.expectRight('else');
      const r = this.list();
      elseList = r.list;
      end = r.end;
      if (end?.v === 'else') this.err(end.pos, 'expected end; found {{else}}');
    }
    if (!end) this.err(this.src.length, 'unexpected EOF');
    this.vars.length = saved;
    return kind === 'range' ? { k: 'range', pos, pipe, list, ...(elseList ? { else: elseList } : {}) } : { k: kind, pos, pipe, list, ...(elseList ? { else: elseList } : {}) };
  }

  private pipeline(ctx: string, pos: number, end: Tok = 'right'): Pipe {
    const pipe: Pipe = { pos, decl: [], assign: false, cmds: [] };
    // Declarations: $x := ..., $i, $e := ... (range), $x = ...
    const look = this.peek();
    if (look.t === 'var') {
      const save = this.i;
      const names = [this.next().v];
      if (ctx === 'range' && this.peek().t === 'comma') {
        this.next();
        const v2 = this.next();
        if (v2.t !== 'var') this.err(v2.pos, `range can only initialize variables`);
        names.push(v2.v);
      }
      const op = this.peek();
      if (op.t === 'declare' || op.t === 'assign') {
        this.next();
        pipe.decl = names;
        pipe.assign = op.t === 'assign';
        if (pipe.assign) for (const n of names) if (!this.vars.includes(n)) this.err(look.pos, `undefined variable "${n}"`);
      } else this.i = save;
    }
    for (;;) {
      const it = this.peek();
      if (it.t === end) {
        this.next();
        break;
      }
      if (it.t === 'eof') this.err(it.pos, end === 'rparen' ? 'unclosed left paren' : 'unclosed action');
      pipe.cmds.push(this.command(end));
      const after = this.peek();
      if (after.t === 'pipe') {
        this.next();
        if (this.peek().t === end) this.err(this.peek().pos, 'missing command after |');
      } else if (after.t !== end) this.err(after.pos, `unexpected ${this.describe(after)} in ${ctx}`);
    }
    if (pipe.cmds.length === 0) this.err(pos, `missing value for ${ctx}`);
    if (!pipe.assign) this.vars.push(...pipe.decl);
    for (const c of pipe.cmds.slice(1)) {
      const first = c.args[0]!;
      if (first.k === 'lit' || first.k === 'dot') this.err(first.pos, `non executable command in pipeline stage ${pipe.cmds.indexOf(c) + 1}`);
    }
    return pipe;
  }

  private command(end: Tok): Command {
    const args: Operand[] = [];
    const first = this.peek();
    for (;;) {
      const it = this.peek();
      if (it.t === end || it.t === 'pipe' || it.t === 'eof') break;
      if (args.length > 0 && !it.spaced && it.t !== 'lparen') this.err(it.pos, `unexpected ${this.describe(it)} in operand`);
      args.push(this.operand());
    }
    if (args.length === 0) this.err(first.pos, first.t === 'pipe' ? 'unexpected "|" in command' : 'missing value for command');
    const last = this.items[this.i - 1]!;
    return { pos: first.pos, text: this.src.slice(first.pos, last.pos + last.v.length), args };
  }

  private operand(): Operand {
    const node = this.term();
    if (this.peek().t === 'field' && !this.peek().spaced) {
      const names: string[] = [];
      while (this.peek().t === 'field' && !this.peek().spaced) names.push(this.next().v.slice(1));
      const text = `${node.text}.${names.join('.')}`;
      switch (node.k) {
        case 'field':
          return { ...node, text, names: [...node.names, ...names] };
        case 'var':
          return { ...node, text, names: [...node.names, ...names] };
        case 'lit':
        case 'dot':
          this.err(node.pos, `unexpected . after term ${goQuote(node.text)}`);
          break;
        default:
          return { k: 'chain', pos: node.pos, text, node, names };
      }
    }
    return node;
  }

  private term(): Operand {
    const it = this.next();
    switch (it.t) {
      case 'dot':
        return { k: 'dot', pos: it.pos, text: '.' };
      case 'field':
        return { k: 'field', pos: it.pos, text: it.v, names: [it.v.slice(1)] };
      case 'var':
        if (!this.vars.includes(it.v)) this.err(it.pos, `undefined variable "${it.v}"`);
        return { k: 'var', pos: it.pos, text: it.v, name: it.v, names: [] };
      case 'string':
        return { k: 'lit', pos: it.pos, text: it.v, value: unquote(it.v, () => this.err(it.pos, `bad string syntax: ${it.v}`)) };
      case 'char': {
        const s = unquote(`"${it.v.slice(1, -1).replace(/"/g, '\\"')}"`, () => this.err(it.pos, `malformed character constant: ${it.v}`));
        if ([...s].length !== 1) this.err(it.pos, `malformed character constant: ${it.v}`);
        return { k: 'lit', pos: it.pos, text: it.v, value: s.codePointAt(0) };
      }
      case 'number': {
        const clean = it.v.replace(/_/g, '');
        const neg = clean.startsWith('-');
        const body = clean.replace(/^[+-]/, '');
        const n = /^0[bB]/.test(body) ? parseInt(body.slice(2), 2) : /^0[oO]/.test(body) ? parseInt(body.slice(2), 8) : /^0\d+$/.test(body) ? parseInt(body, 8) : Number(body);
        if (Number.isNaN(n)) this.err(it.pos, `bad number syntax: "${it.v}"`);
        return { k: 'lit', pos: it.pos, text: it.v, value: neg ? -n : n };
      }
      case 'ident':
        if (it.v === 'true' || it.v === 'false') return { k: 'lit', pos: it.pos, text: it.v, value: it.v === 'true' };
        if (it.v === 'nil') return { k: 'lit', pos: it.pos, text: it.v, value: null };
        if (KEYWORDS.has(it.v)) this.err(it.pos, `unexpected <${it.v}> in operand`);
        if (!Object.hasOwn(this.funcs, it.v)) this.err(it.pos, `function "${it.v}" not defined`);
        return { k: 'func', pos: it.pos, text: it.v, name: it.v };
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', it.pos, 'rparen');
        return { k: 'pipe', pos: it.pos, text: this.src.slice(it.pos, this.items[this.i - 1]!.pos + 1), pipe };
      }
      default:
        return this.err(it.pos, `unexpected ${this.describe(it)} in operand`);
    }
  }
}

// ---------------------------------------------------------------- evaluator

class Break {}
class Continue {}

/** Where a byte offset is, as Go's ErrorContext says it: "line:col", col 0-based in bytes. */
function location(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const line = before.split('\n').length;
  const col = Buffer.byteLength(before.slice(before.lastIndexOf('\n') + 1));
  return `${line}:${col}`;
}

export interface ExecuteOptions {
  /** Functions to use instead of the parse-time ones (docker's header row). */
  funcs?: FuncMap;
}

class Exec {
  private out = '';
  private vars: { name: string; value: unknown }[];

  constructor(
    private readonly t: Template,
    private readonly funcs: FuncMap,
    data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  /** Go's place for a node: a field chain is placed at its last field. */
  private fail(node: { pos: number; text: string; names?: string[] }, msg: string): never {
    const pos = node.names?.length ? node.pos + node.text.lastIndexOf('.') : node.pos;
    node = { ...node, pos };
    throw new TemplateError(`template: ${this.t.name}:${location(this.t.source, node.pos)}: executing "${this.t.name}" at <${node.text}>: ${msg}`);
  }

  run(nodes: Node[], dot: unknown): string {
    this.walk(nodes, dot);
    return this.out;
  }

  private walk(nodes: Node[], dot: unknown): void {
    for (const n of nodes) {
      switch (n.k) {
        case 'text':
          this.out += n.text;
          break;
        case 'action': {
          const v = this.pipe(n.pipe, dot);
          if (n.pipe.decl.length === 0) this.out += v === undefined || v === null ? '<no value>' : formatValue(v);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipe(n.pipe, dot);
          if (truth(v)) this.walk(n.list, n.k === 'with' ? v : dot);
          else if (n.else) this.walk(n.else, dot);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(n, dot);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private range(n: Extract<Node, { k: 'range' }>, dot: unknown): void {
    const mark = this.vars.length;
    const saved = n.pipe.decl;
    // The pipeline's value is what we range over; the declared variables get key and element.
    const v = this.pipe({ ...n.pipe, decl: [] }, dot);
    let entries: [unknown, unknown][];
    if (v === undefined || v === null) entries = [];
    else if (Array.isArray(v)) entries = v.map((e, i) => [i, e]);
    else if (typeof v === 'number' && isInt(v)) entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (isMap(v) && !structName(v)) entries = sortedKeys(v).map((k) => [k, v[k]]);
    else return this.fail(n.pipe.cmds.at(-1)!, `range can't iterate over ${formatValue(v)}`);
    if (entries.length === 0) {
      if (n.else) this.walk(n.else, dot);
      return;
    }
    for (const [k, e] of entries) {
      this.vars.length = mark;
      if (saved.length === 1) this.vars.push({ name: saved[0]!, value: e });
      if (saved.length === 2) this.vars.push({ name: saved[0]!, value: k }, { name: saved[1]!, value: e });
      try {
        this.walk(n.list, e);
      } catch (x) {
        if (x instanceof Break) break;
        if (!(x instanceof Continue)) throw x;
      }
    }
    this.vars.length = mark;
  }

  private pipe(p: Pipe, dot: unknown): unknown {
    let v: unknown = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = this.command(c, dot, first ? undefined : { value: v });
      first = false;
    }
    if (p.assign) {
      for (let i = this.vars.length - 1; i >= 0; i--)
        if (this.vars[i]!.name === p.decl[0]) {
          this.vars[i]!.value = v;
          break;
        }
    } else for (const name of p.decl) this.vars.push({ name, value: v });
    return v;
  }

  private command(c: Command, dot: unknown, piped: { value: unknown } | undefined): unknown {
    const [head, ...rest] = c.args;
    switch (head!.k) {
      case 'func':
        return this.call(head as Extract<Operand, { k: 'func' }>, rest, dot, piped, c);
      case 'lit':
        if (head!.value === null) this.fail(head!, 'nil is not a command');
        return this.noArgs(head!, rest, piped, head!.value);
      case 'field':
        return this.fieldChain(dot, head!.names, head!, rest, dot, piped);
      case 'var': {
        const v = this.variable(head as Extract<Operand, { k: 'var' }>);
        return head!.names.length ? this.fieldChain(v, head!.names, head!, rest, dot, piped) : this.noArgs(head!, rest, piped, v);
      }
      case 'chain': {
        const base = this.operand((head as Extract<Operand, { k: 'chain' }>).node, dot);
        return this.fieldChain(base, head!.names, head!, rest, dot, piped);
      }
      default:
        return this.noArgs(head!, rest, piped, this.operand(head!, dot));
    }
  }

  private noArgs(head: Operand, rest: Operand[], piped: { value: unknown } | undefined, v: unknown): unknown {
    if (rest.length > 0 || piped) this.fail(head, `can't give argument to non-function ${head.text}`);
    return v;
  }

  private variable(n: Extract<Operand, { k: 'var' }>): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === n.name) return this.vars[i]!.value;
    return this.fail(n, `undefined variable: ${n.name}`);
  }

  /** An argument's value (a field chain with a method at its end takes no arguments here). */
  private operand(n: Operand, dot: unknown): unknown {
    switch (n.k) {
      case 'dot':
        return dot;
      case 'lit':
        return n.value;
      case 'field':
        return this.fieldChain(dot, n.names, n, [], dot, undefined);
      case 'var': {
        const v = this.variable(n);
        return n.names.length ? this.fieldChain(v, n.names, n, [], dot, undefined) : v;
      }
      case 'chain':
        return this.fieldChain(this.operand(n.node, dot), n.names, n, [], dot, undefined);
      case 'pipe': {
        const mark = this.vars.length;
        const v = this.pipe(n.pipe, dot);
        this.vars.length = mark;
        return v;
      }
      case 'func':
        return this.call(n, [], dot, undefined);
    }
  }

  private fieldChain(recv: unknown, names: string[], node: Operand, args: Operand[], dot: unknown, piped: { value: unknown } | undefined): unknown {
    let v = recv;
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      v = this.field(v, name, node, last ? args : [], last ? piped : undefined, dot);
    });
    return v;
  }

  private field(recv: unknown, name: string, node: Operand, args: Operand[], piped: { value: unknown } | undefined, dot: unknown): unknown {
    if (recv === undefined) return undefined;
    if (recv === null) this.fail(node, `nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 0 || piped !== undefined;
    const sname = structName(recv);
    if (isMap(recv)) {
      const has = Object.hasOwn(recv, name);
      const v = has ? recv[name] : undefined;
      if (typeof v === 'function') {
        const argv = args.map((a) => this.operand(a, dot));
        if (piped) argv.push(piped.value);
        try {
          return (v as (...a: unknown[]) => unknown)(...argv);
        } catch (e) {
          return this.fail(node, `error calling ${name}: ${(e as Error).message}`);
        }
      }
      if (sname && !has) this.fail(node, `can't evaluate field ${name} in type *${sname}`);
      if (hasArgs) this.fail(node, `${name} is not a method but has arguments`);
      return v;
    }
    // What a JSON map holds is an interface {} to Go.
    return this.fail(node, `can't evaluate field ${name} in type interface {}`);
  }

  private call(fn: Extract<Operand, { k: 'func' }>, args: Operand[], dot: unknown, piped: { value: unknown } | undefined, where?: Command): unknown {
    // Go names the whole command in an error about a call.
    const n = { ...fn, ...(where ? { pos: where.pos, text: where.text } : {}) };
    const f = this.funcs[n.name] ?? this.t.funcs[n.name];
    if (!f) return this.fail(n, `"${n.name}" is not a defined function`);
    const count = args.length + (piped ? 1 : 0);
    if (count < f.params.length || (!f.variadic && count > f.params.length)) {
      this.fail(fn, `wrong number of args for ${n.name}: want ${f.variadic ? 'at least ' : ''}${f.params.length} got ${count}`);
    }
    // and / or: evaluated left to right, stopping at the first value that decides.
    if (n.name === 'and' || n.name === 'or') {
      let v: unknown;
      const all = [...args.map((a) => () => this.operand(a, dot)), ...(piped ? [() => piped.value] : [])];
      for (const get of all) {
        v = get();
        if (truth(v) === (n.name === 'or')) return v;
      }
      return v;
    }
    const values = args.map((a) => this.operand(a, dot));
    if (piped) values.push(piped.value);
    values.forEach((v, i) => {
      const want = f.params[i] ?? f.variadic!;
      const bad = this.checkType(v, want);
      if (bad) this.fail(args[i] ?? n, bad);
    });
    try {
      return f.fn(...values);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      return this.fail(n, `error calling ${n.name}: ${(e as Error).message}`);
    }
  }

  private checkType(v: unknown, want: Param): string | undefined {
    const got = goType(v);
    if (want === 'any') return undefined;
    if (v === undefined || v === null) return `invalid value; expected ${want === 'strings' ? '[]string' : want}`;
    const ok = want === 'string' ? typeof v === 'string' : want === 'int' ? typeof v === 'number' && isInt(v) : want === 'bool' ? typeof v === 'boolean' : Array.isArray(v);
    return ok ? undefined : `wrong type for value; expected ${want === 'strings' ? '[]string' : want}; got ${got}`;
  }
}

export class Template {
  private readonly tree: Node[];

  constructor(
    readonly source: string,
    readonly funcs: FuncMap = DOCKER_FUNCS,
    readonly name = '',
  ) {
    const err = (pos: number, msg: string): never => {
      throw new TemplateError(`template: ${name}:${location(source, pos)}: ${msg}`);
    };
    this.tree = new Parser(source, funcs, err).parse();
  }

  execute(data: unknown, opts: ExecuteOptions = {}): string {
    return new Exec(this, opts.funcs ?? {}, data).run(this.tree, data);
  }
}

/** Parses a template with docker's functions; throws TemplateError naming the place. */
export function parseTemplate(source: string, funcs: FuncMap = DOCKER_FUNCS): Template {
  return new Template(source, funcs);
}
