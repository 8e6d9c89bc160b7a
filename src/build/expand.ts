/**
 * Variable substitution as BuildKit's shell lexer does it (frontend/dockerfile/shell/lex.go):
 * `$VAR`, `${VAR}`, `${VAR:-word}` / `${VAR-word}` (default when unset-or-empty / unset),
 * `${VAR:+word}` / `${VAR+word}` (alternative), `${VAR:?msg}` / `${VAR?msg}` (error),
 * `${VAR#pat}` `${VAR##pat}` `${VAR%pat}` `${VAR%%pat}` (strip prefix / suffix, shortest or
 * longest), `${VAR/pat/repl}` `${VAR//pat/repl}`. Single quotes are literal, double quotes
 * allow substitution, the escape character (`\` or the `# escape=` one) escapes one character
 * outside quotes and only `"`, `$` and itself inside double quotes. Quotes are removed. An unset
 * variable is empty. The names used are recorded (build args in a step's cache key).
 */
import { BrigError } from '../errors/index.js';
import { globSource } from './glob.js';

export type Lookup = (name: string) => string | undefined;

export class Expander {
  /** Every variable name looked up. */
  readonly used = new Set<string>();

  constructor(
    private readonly lookup: Lookup,
    private readonly escape = '\\',
  ) {}

  /** One word: the result of substitution with quotes removed, blanks kept. */
  word(s: string): string {
    return this.process(s, false).join('');
  }

  /** A heredoc body: only `$` substitutions (the escape character keeps a `$`); quotes stay. */
  heredoc(s: string): string {
    let out = '';
    for (let i = 0; i < s.length; ) {
      const c = s[i]!;
      if (c === this.escape && s[i + 1] === '$') {
        out += '$';
        i += 2;
      } else if (c === '$') {
        const r = this.dollar(s, i);
        out += r.value;
        i = r.next;
      } else {
        out += c;
        i++;
      }
    }
    return out;
  }

  /** Words split at unquoted blanks (COPY's sources, EXPOSE's ports, ...). */
  words(s: string): string[] {
    return this.process(s, true);
  }

  private get(name: string): string | undefined {
    this.used.add(name);
    return this.lookup(name);
  }

  private process(s: string, split: boolean): string[] {
    const out: string[] = [];
    let cur = '';
    let has = false;
    let i = 0;
    const esc = this.escape;
    while (i < s.length) {
      const c = s[i]!;
      if (split && /\s/.test(c)) {
        if (has) out.push(cur);
        cur = '';
        has = false;
        i++;
        continue;
      }
      has = true;
      if (c === esc) {
        if (i + 1 < s.length) cur += s[i + 1];
        i += 2;
      } else if (c === "'") {
        const end = s.indexOf("'", i + 1);
        if (end < 0) throw new BrigError('DOCKERFILE_PARSE', `unexpected end of statement while looking for matching single-quote`, { field: s });
        cur += s.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        for (;;) {
          if (i >= s.length) throw new BrigError('DOCKERFILE_PARSE', `unexpected end of statement while looking for matching double-quote`, { field: s });
          const d = s[i]!;
          if (d === '"') {
            i++;
            break;
          }
          if (d === esc && i + 1 < s.length && ['"', '$', esc].includes(s[i + 1]!)) {
            cur += s[i + 1];
            i += 2;
          } else if (d === '$') {
            const r = this.dollar(s, i);
            cur += r.value;
            i = r.next;
          } else {
            cur += d;
            i++;
          }
        }
      } else if (c === '$') {
        const r = this.dollar(s, i);
        i = r.next;
        if (!split) cur += r.value;
        else
          // An unquoted value splits into words, as BuildKit's ProcessWords does.
          for (const ch of r.value) {
            if (!/\s/.test(ch)) cur += ch;
            else if (cur !== '') {
              out.push(cur);
              cur = '';
            }
          }
        has = cur !== '';
      } else {
        cur += c;
        i++;
      }
    }
    if (has || !split) out.push(cur);
    return out;
  }

  /** `$...` at s[i]: its value and where the text goes on. */
  private dollar(s: string, i: number): { value: string; next: number } {
    const n = s[i + 1];
    if (n === '{') return this.braced(s, i + 2);
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9]/.exec(s.slice(i + 1));
    if (!m) return { value: '$', next: i + 1 };
    return { value: this.get(m[0]) ?? '', next: i + 1 + m[0].length };
  }

  private braced(s: string, i: number): { value: string; next: number } {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9]+/.exec(s.slice(i));
    if (!m) throw new BrigError('DOCKERFILE_PARSE', `bad substitution: ${s.slice(i - 2)}`, { field: s });
    const name = m[0];
    let j = i + name.length;
    if (s[j] === '}') return { value: this.get(name) ?? '', next: j + 1 };
    if (j >= s.length) throw new BrigError('DOCKERFILE_PARSE', `syntax error: missing '}'`, { field: s });
    const op = /^(:-|:\+|:\?|-|\+|\?|##|#|%%|%|\/\/|\/)/.exec(s.slice(j))?.[0];
    if (op === undefined) throw new BrigError('DOCKERFILE_PARSE', `missing ':' in substitution: ${s.slice(i - 2)}`, { field: s });
    j += op.length;
    // The word runs to the matching `}` (nested ${...} counted, quotes skipped).
    let depth = 0;
    let k = j;
    for (; k < s.length; k++) {
      const c = s[k]!;
      if (c === this.escape) k++;
      else if (c === '$' && s[k + 1] === '{') {
        depth++;
        k++;
      } else if (c === '}') {
        if (depth === 0) break;
        depth--;
      } else if (c === "'" || c === '"') {
        const end = s.indexOf(c, k + 1);
        if (end > 0) k = end;
      }
    }
    if (k >= s.length) throw new BrigError('DOCKERFILE_PARSE', `syntax error: missing '}'`, { field: s });
    const rawWord = s.slice(j, k);
    const next = k + 1;
    const value = this.get(name);
    const word = () => this.word(rawWord);
    switch (op) {
      case ':-':
        return { value: value === undefined || value === '' ? word() : value, next };
      case '-':
        return { value: value === undefined ? word() : value, next };
      case ':+':
        return { value: value === undefined || value === '' ? '' : word(), next };
      case '+':
        return { value: value === undefined ? '' : word(), next };
      case ':?':
      case '?':
        if (value === undefined || (op === ':?' && value === '')) {
          throw new BrigError('DOCKERFILE_PARSE', `${name}: ${word() || 'is not allowed to be unset'}`, { field: name });
        }
        return { value, next };
      case '#':
      case '##': {
        const re = globRegex(word(), op === '##');
        const v = value ?? '';
        const m2 = new RegExp(`^(?:${re})`).exec(v);
        return { value: m2 ? v.slice(m2[0].length) : v, next };
      }
      case '%':
      case '%%': {
        const v = value ?? '';
        const re = new RegExp(`^(?:${globRegex(word(), true)})$`);
        // The shortest (%) or longest (%%) matching suffix.
        const starts = [...Array(v.length + 1).keys()];
        const order = op === '%' ? starts.reverse() : starts;
        for (const st of order) if (re.test(v.slice(st))) return { value: v.slice(0, st), next };
        return { value: v, next };
      }
      default: {
        // `/pat/repl` or `//pat/repl`
        const slash = rawWord.indexOf('/');
        const pat = this.word(slash < 0 ? rawWord : rawWord.slice(0, slash));
        const repl = slash < 0 ? '' : this.word(rawWord.slice(slash + 1));
        const v = value ?? '';
        if (pat === '') return { value: v, next };
        const re = new RegExp(globRegex(pat, true), op === '//' ? 'g' : '');
        return { value: v.replace(re, () => repl), next };
      }
    }
  }
}

/** A shell glob as a regular expression body: `*` (greedy or not), `?`, `[...]`. */
function globRegex(pat: string, greedy: boolean): string {
  return globSource(pat, { star: greedy ? '.*' : '.*?', one: '.' });
}

/** A lookup over `NAME=value` lines (the last one wins, as in an image's Env). */
export function envLookup(...lists: (readonly string[] | Map<string, string>)[]): Lookup {
  const m = new Map<string, string>();
  for (const l of lists) {
    if (l instanceof Map) for (const [k, v] of l) m.set(k, v);
    else
      for (const e of l) {
        const eq = e.indexOf('=');
        if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
      }
  }
  return (n) => m.get(n);
}
