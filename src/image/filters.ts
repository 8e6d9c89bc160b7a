/**
 * docker's `images` filters on top of the filters every list shares (src/util/docker-filters.ts:
 * keys, labels, booleans, until): reference filters are Go path.Match globs (`*` and `?` stop
 * at `/`, `[a-z]` classes), and the list's own rules (imageListFilter).
 */
import { BrigError } from '../errors/index.js';
import type { Filters } from '../util/docker-filters.js';

/**
 * Go's path.Match: `*` is any run of characters but `/`, `?` one character but `/`, `[...]`
 * a class (`^` negates, `a-z` ranges), `\` escapes. A malformed pattern is Go's
 * ErrBadPattern, "syntax error in pattern".
 */
export function pathMatch(pattern: string, name: string): boolean {
  const p = [...pattern];
  const s = [...name];
  const bad = () => new BrigError('INVALID_ARGUMENT', 'syntax error in pattern', { field: 'filters' });
  // Go's getEsc: one character of a class (escaped or not), never "-" or "]" there, never last.
  const getEsc = (j: number): [number, number] => {
    if (j >= p.length || p[j] === '-' || p[j] === ']') throw bad();
    if (p[j] === '\\' && ++j >= p.length) throw bad();
    const r = p[j]!.codePointAt(0)!;
    if (j + 1 >= p.length) throw bad();
    return [r, j + 1];
  };
  // One class or literal at p[i] against c; returns the index after it and whether it matched.
  const one = (i: number, c: string | undefined): [number, boolean] => {
    if (p[i] === '[') {
      let j = i + 1;
      const negate = p[j] === '^';
      if (negate) j++;
      const r = c?.codePointAt(0);
      let matched = false;
      for (let ranges = 0; ; ranges++) {
        if (p[j] === ']' && ranges > 0) break;
        let lo: number;
        let hi: number;
        [lo, j] = getEsc(j);
        hi = lo;
        if (p[j] === '-') [hi, j] = getEsc(j + 1);
        if (r !== undefined && lo <= r && r <= hi) matched = true;
      }
      return [j + 1, c !== undefined && c !== '/' && matched !== negate];
    }
    if (p[i] === '?') return [i + 1, c !== undefined && c !== '/'];
    let lit = p[i]!;
    let next = i + 1;
    if (lit === '\\') {
      if (i + 1 >= p.length) throw bad();
      lit = p[i + 1]!;
      next = i + 2;
    }
    return [next, c === lit];
  };
  // Backtracking over `*`: the last star and where the name stood when it was met.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length || pi < p.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
      continue;
    }
    if (pi < p.length && si < s.length) {
      const [next, ok] = one(pi, s[si]);
      if (ok) {
        pi = next;
        si++;
        continue;
      }
    } else if (pi < p.length) {
      // The name is used up: what is left of the pattern must still be well formed.
      one(pi, undefined);
    }
    if (star >= 0 && mark < s.length && s[mark] !== '/') {
      pi = star + 1;
      si = ++mark;
      continue;
    }
    // Go checks the rest of the pattern for syntax before it answers no.
    for (let i = pi; i < p.length; ) i = p[i] === '*' ? i + 1 : one(i, undefined)[0];
    return false;
  }
  return true;
}

/** An image's name as the filters see it (a tag or a digest, in full normalised form). */
export interface FilterName {
  full: string;
  /** The repository: `docker.io/library/busybox`. */
  repo: string;
  digest: boolean;
}

/** What `images` filters look at. */
export interface FilterableImage {
  /** Milliseconds since the epoch; NaN when unknown (never before, since or until anything). */
  created: number;
  labels: Readonly<Record<string, string>>;
  names: readonly FilterName[];
}

/**
 * docker's `images` filters (daemon/images/image_list.go) as a test of one image: undefined
 * when it is left out, else the names to list (a `reference` filter keeps only those it
 * matches, against the familiar and full forms, with and without the tag). `before` is the
 * earliest of the before and until times, `since` the latest since time (the caller resolves
 * images to their times).
 */
export function imageListFilter(
  f: Filters,
  times: { before?: number; since?: number },
  familiar: (full: string) => { familiar: string; familiarName: string },
): (img: FilterableImage) => FilterName[] | undefined {
  const dangling = f.contains('dangling') ? f.bool('dangling', false) : undefined;
  const patterns = f.get('reference');
  const matches = (n: FilterName) => {
    const { familiar: short, familiarName } = familiar(n.full);
    const targets = [short, familiarName, n.full, n.repo];
    return patterns.some((p) => targets.some((t) => pathMatch(p, t)));
  };
  return (img) => {
    if (times.before !== undefined && !(img.created < times.before)) return undefined;
    if (times.since !== undefined && !(img.created > times.since)) return undefined;
    if (!f.matchKVList('label', img.labels)) return undefined;
    const names = patterns.length > 0 ? img.names.filter(matches) : [...img.names];
    if (names.length === 0) {
      if (dangling === false || patterns.length > 0) return undefined;
    } else if (dangling === true && names.some((n) => !n.digest)) {
      return undefined;
    }
    return names;
  };
}
