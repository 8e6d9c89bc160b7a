/**
 * Compose's .env and env_file format (compose-go's dotenv): `KEY=VALUE` lines, an optional
 * `export `, `#` comments (whole lines, or after whitespace following an unquoted value),
 * single quotes literal, double quotes with \n \t \\ \" escapes, unquoted values trimmed.
 * Values are interpolated against what came before and the environment (`lookup`), as
 * compose does; single-quoted ones are not. A bare `KEY` takes the environment's value (or is
 * left out when it has none).
 */
import { BrigError } from '../errors/index.js';
import { interpolate, type Lookup } from './interpolate.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDotenv(text: string, file: string, lookup: Lookup = () => undefined): Map<string, string> {
  const out = new Map<string, string>();
  const env: Lookup = (n) => (out.has(n) ? out.get(n) : lookup(n));
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!KEY.test(key)) throw new BrigError('INVALID_CONFIG', `${file}:${i + 1}: unexpected character in variable name "${key}"`, { path: file });
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out.set(key, v);
      continue;
    }
    let raw = line.slice(eq + 1).trimStart();
    const q = raw[0];
    if (q === "'" || q === '"') {
      // A quoted value may run over several lines.
      let body = raw.slice(1);
      let end = closingQuote(body, q);
      while (end < 0 && i + 1 < lines.length) {
        body += `\n${lines[++i]}`;
        end = closingQuote(body, q);
      }
      if (end < 0) throw new BrigError('INVALID_CONFIG', `${file}:${i + 1}: unterminated quoted value for ${key}`, { path: file });
      const value = body.slice(0, end);
      out.set(key, q === "'" ? value : interpolate(unescape(value), { lookup: env, path: `${file}: ${key}` }));
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash >= 0) raw = raw.slice(0, hash);
    out.set(key, interpolate(raw.trim(), { lookup: env, path: `${file}: ${key}` }));
  }
  return out;
}

function closingQuote(s: string, q: string): number {
  for (let i = 0; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === q) return i;
  }
  return -1;
}

function unescape(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? (c === '$' ? '$$' : c));
}
