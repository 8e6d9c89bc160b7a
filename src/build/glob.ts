/**
 * Shell-style patterns as regular expression source, one converter for the three dialects a
 * build meets: Go's filepath.Match in COPY sources (`*` and `?` stop at `/`), the same with
 * `**` in .dockerignore, and the shell's in `${VAR#pattern}` (`*` matches anything).
 */
export interface GlobDialect {
  /** What `*` becomes. */
  star: string;
  /** What `?` becomes. */
  one: string;
  /** `**` matches any number of directories (.dockerignore). */
  doubleStar?: boolean;
  /** `\` escapes the next character. */
  escapes?: boolean;
}

export const PATH_GLOB: GlobDialect = { star: '[^/]*', one: '[^/]', escapes: true };

export function globSource(pat: string, d: GlobDialect): string {
  let out = '';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i]!;
    if (c === '*') {
      if (d.doubleStar && pat[i + 1] === '*') {
        i++;
        // `**/` matches zero or more directories; elsewhere `**` matches everything.
        if (pat[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += d.star;
    } else if (c === '?') out += d.one;
    else if (c === '[') {
      const end = pat.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let cls = pat.slice(i + 1, end);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\(?!.)/g, '\\\\')}]`;
        i = end;
      }
    } else if (d.escapes && c === '\\' && i + 1 < pat.length) out += quote(pat[++i]!);
    else out += quote(c);
  }
  return out;
}

function quote(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
