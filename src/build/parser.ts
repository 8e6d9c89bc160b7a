/**
 * The Dockerfile's lines into instructions, by BuildKit's rules (frontend/dockerfile/parser):
 *
 *   - parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top, before
 *     any comment, blank line or instruction; each at most once;
 *   - a line ending in the escape character (then only blanks) continues on the next; comment
 *     lines and blank lines inside a continuation are dropped; leading blanks of a continued
 *     line are kept, the escape character is not;
 *   - `#` starts a comment only as a line's first non-blank character;
 *   - the instruction word is case-insensitive; leading `--name=value` words are its flags;
 *   - RUN, COPY and ADD take heredocs (`<<EOF`, `<<-EOF` strips leading tabs, a quoted word
 *     turns expansion off): their bodies are the lines after the instruction, raw.
 *
 * Nothing is expanded here: variables depend on the stage's ENV and ARG at that point, which
 * the executor knows (expand.ts). Every error names the line, as docker's does.
 */
import { BrigError } from '../errors/index.js';

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted word: the body is expanded (COPY) or left for the shell (RUN). */
  expand: boolean;
}

export interface Instruction {
  /** Upper case: RUN, COPY, ... */
  keyword: string;
  /** 1-based first and last line in the Dockerfile. */
  line: number;
  endLine: number;
  /** Leading `--name=value` (or `--name`) words, as written. */
  flags: string[];
  /** What follows the flags, continuations joined. */
  rest: string;
  /** The instruction as written after joining (keyword, flags and rest). */
  original: string;
  heredocs: Heredoc[];
}

export interface Dockerfile {
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
}

export const INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
  'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

export function parseError(line: number, message: string): BrigError {
  return new BrigError('DOCKERFILE_PARSE', `dockerfile parse error on line ${line}: ${message}`, { field: `line ${line}` });
}

/**
 * Runs one instruction's work so that an error without a line (the expander's `missing '}'`,
 * an unclosed quote, `${V:?msg}`) comes out naming the instruction's line, as parse errors do.
 */
export function atLine<T>(line: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw withLine(line, e);
  }
}

export function withLine(line: number, e: unknown): unknown {
  if (!(e instanceof BrigError) || e.code !== 'DOCKERFILE_PARSE' || e.message.startsWith('dockerfile parse error on line ')) return e;
  const out = parseError(line, e.message);
  out.cause = e;
  return out;
}

const isBlank = (s: string) => /^[ \t\r\f\v]*$/.test(s);
const isComment = (s: string) => /^[ \t]*#/.test(s);

/** The heredoc words of an instruction's text: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`. */
export function heredocMarkers(text: string): { name: string; chomp: boolean; expand: boolean }[] {
  const out: { name: string; chomp: boolean; expand: boolean }[] = [];
  const re = /(?:^|[\s;&|(])\d*<<(-?)(["']?)([A-Za-z0-9_.][A-Za-z0-9_./-]*)\2(?=$|[\s;&|)>])/g;
  // Quoted regions do not hold heredocs (a quoted heredoc word is one, though).
  const masked = text.replace(/(<<-?)?('[^']*'|"(?:\\.|[^"\\])*")/g, (m, pre: string | undefined) => (pre ? m : ' '.repeat(m.length)));
  for (let m; (m = re.exec(masked)); ) {
    const raw = text.slice(m.index, m.index + m[0].length);
    const q = /<<-?(["']?)/.exec(raw)![1];
    out.push({ name: m[3]!, chomp: m[1] === '-', expand: q === '' });
  }
  return out;
}

/** The leading flags of an instruction's arguments (BuildKit's extractBuilderFlags). */
function splitFlags(args: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let s = args;
  for (;;) {
    const m = /^--[A-Za-z][A-Za-z0-9-]*(=("[^"]*"|'[^']*'|\S)*)?(\s+|$)/.exec(s);
    if (!m) break;
    flags.push(m[0].trim());
    s = s.slice(m[0].length);
  }
  return { flags, rest: s };
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  const directives: Record<string, string> = {};
  let i = 0;
  // Directives: the leading comment lines that are `# name=value` with a known name.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]!);
    if (!m || !DIRECTIVES.has(m[1]!.toLowerCase())) break;
    const name = m[1]!.toLowerCase();
    if (name in directives) throw parseError(i + 1, `only one ${name} parser directive can be used`);
    directives[name] = m[2]!;
  }
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') throw parseError(1, `invalid escape token '${escape}' does not match \` or \\`);
  const continued = (s: string): { text: string; more: boolean } => {
    const m = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`).exec(s);
    return m ? { text: s.slice(0, m.index), more: true } : { text: s, more: false };
  };
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    if (isBlank(first) || isComment(first)) {
      i++;
      continue;
    }
    const start = i;
    let { text: joined, more } = continued(first.replace(/^[ \t]+/, ''));
    i++;
    while (more && i < lines.length) {
      const l = lines[i++]!;
      if (isComment(l) || isBlank(l)) continue;
      const c = continued(l);
      joined += c.text;
      more = c.more;
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(joined)!;
    const keyword = m[1]!.toUpperCase();
    if (!INSTRUCTIONS.has(keyword)) throw parseError(start + 1, `unknown instruction: ${m[1]}`);
    const { flags, rest } = splitFlags(m[2]!.replace(/\s+$/, ''));
    const heredocs: Heredoc[] = [];
    if (HEREDOC_INSTRUCTIONS.has(keyword) && !rest.startsWith('[')) {
      for (const h of heredocMarkers(rest)) {
        const body: string[] = [];
        for (;;) {
          if (i >= lines.length) throw parseError(start + 1, `unterminated heredoc ${h.name}`);
          let l = lines[i++]!;
          if (h.chomp) l = l.replace(/^\t+/, '');
          if (l === h.name) break;
          body.push(l);
        }
        heredocs.push({ name: h.name, content: body.map((l) => `${l}\n`).join(''), expand: h.expand });
      }
    }
    if (rest === '' && heredocs.length === 0 && keyword !== 'ARG') {
      // docker: "FROM requires either one or three arguments" and the like come later; an
      // instruction with nothing at all is refused here, with its line.
      throw parseError(start + 1, `${keyword} requires at least one argument`);
    }
    instructions.push({ keyword, line: start + 1, endLine: i, flags, rest, original: joined.trim(), heredocs });
  }
  if (instructions.length === 0) throw new BrigError('DOCKERFILE_PARSE', 'the Dockerfile (Dockerfile) cannot be empty');
  return { directives, escape, instructions };
}

/**
 * The exec form: a JSON array of strings. Anything else (not starting with `[`, or not
 * valid JSON, as BuildKit falls back) is undefined: the shell form.
 */
export function execForm(rest: string): string[] | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // the shell form
  }
  return undefined;
}

/** Instruction flags as a map; each name must be one the instruction takes. */
export function flagMap(ins: Instruction, allowed: readonly string[], repeatable: readonly string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of ins.flags) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=([\s\S]*))?$/.exec(f)!;
    const name = m[1]!;
    if (!allowed.includes(name)) throw parseError(ins.line, `unknown flag: --${name}`);
    let value = m[2] ?? (name === 'link' || name === 'keep-git-dir' || name === 'parents' ? 'true' : '');
    if (/^"[\s\S]*"$|^'[\s\S]*'$/.test(value)) value = value.slice(1, -1);
    const had = out.get(name);
    if (had && !repeatable.includes(name)) throw parseError(ins.line, `duplicate flag specified: --${name}`);
    out.set(name, [...(had ?? []), value]);
  }
  return out;
}

/**
 * Words of a name=value list (ENV, LABEL, ARG), BuildKit's parseWords: blanks separate
 * words except inside quotes or after the escape character; quotes and escapes stay (the
 * expansion removes them).
 */
export function rawWords(s: string, escape: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!inWord && /\s/.test(c)) continue;
    inWord = true;
    if (c === escape && i + 1 < s.length && quote !== "'") {
      cur += c + s[++i];
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (/\s/.test(c)) {
      out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * ENV and LABEL: `k=v k2="v 2"`, or the legacy `k the rest` (one pair). Values are raw
 * (expanded later).
 */
export function nameValues(ins: Instruction, escape: string): [string, string][] {
  const words = rawWords(ins.rest, escape);
  if (words.length === 0) throw parseError(ins.line, `${ins.keyword} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(ins.rest.trim());
    if (!m) throw parseError(ins.line, `${ins.keyword} must have two arguments`);
    return [[m[1]!, m[2]!.trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq === 0) throw parseError(ins.line, `${ins.keyword} names can not be blank`);
    if (eq < 0) throw parseError(ins.line, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
