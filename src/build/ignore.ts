/**
 * `.dockerignore` with docker's rules (moby/patternmatcher, docker/cli's ReadAll):
 *
 *   - one pattern per line; `#` at the start of a line is a comment; blank lines are skipped;
 *     a line is trimmed, cleaned like a path (`./a/../b` → `b`) and loses a leading `/`;
 *   - `!` in front re-includes what an earlier pattern excluded; the last pattern that
 *     matches a path decides;
 *   - a pattern matches a path when it matches the path itself or any of its parent
 *     directories (`node_modules` leaves out everything below it);
 *   - Go's filepath.Match syntax (`*` and `?` never cross `/`, `[a-z]`, `[^...]`, `\` escapes)
 *     plus `**`, any number of directories (`a/**`, or `**` then `/b` for b anywhere).
 *
 * `NAME.dockerignore` beside a Dockerfile called NAME wins over the context's `.dockerignore`.
 */
import path from 'node:path';
import { globSource, PATH_GLOB } from './glob.js';

interface Pattern {
  re: RegExp;
  exclusion: boolean;
  /** The pattern's directory part, to know whether an excluded directory may hold a re-included path. */
  text: string;
}

function toRegex(p: string): RegExp {
  return new RegExp(`^${globSource(p, { ...PATH_GLOB, doubleStar: true })}$`);
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const raw of lines) {
      let l = raw.trim();
      if (l === '' || l.startsWith('#')) continue;
      const exclusion = l.startsWith('!');
      if (exclusion) l = l.slice(1).trim();
      if (l === '') continue;
      l = path.posix.normalize(l).replace(/^\/+/, '').replace(/\/+$/, '');
      if (l === '' || l === '.') continue;
      this.patterns.push({ re: toRegex(l), exclusion, text: l });
    }
  }

  static parse(text: string): IgnoreMatcher {
    return new IgnoreMatcher(text.split('\n'));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `rel` (relative to the context, `/`-separated) is left out. */
  ignored(rel: string): boolean {
    const file = path.posix.normalize(rel).replace(/^\/+/, '');
    const parents: string[] = [];
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
    let matched = false;
    for (const p of this.patterns) {
      // Only a pattern that could change the answer is tried.
      if (p.exclusion !== matched) continue;
      if (p.re.test(file) || parents.some((d) => p.re.test(d))) matched = !p.exclusion;
    }
    return matched;
  }

  /** Whether an ignored directory may still hold a re-included path (then it must be walked). */
  mayReinclude(dir: string): boolean {
    return this.patterns.some((p) => p.exclusion && (p.text.startsWith(`${dir}/`) || p.text.includes('*') || p.text.includes('?') || p.text.includes('[')));
  }
}
