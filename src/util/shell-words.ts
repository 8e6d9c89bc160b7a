/**
 * Words of a command line as a shell (and the Dockerfile shell form, and compose's shlex)
 * splits them: whitespace between words, "..." and '...' quoted, backslash escapes (inside
 * double quotes too). `unmatched` words the error for a quote left open.
 */
export function shellWords(s: string, unmatched: (quote: string) => Error): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw unmatched(quote);
  if (has || cur) out.push(cur);
  return out;
}
