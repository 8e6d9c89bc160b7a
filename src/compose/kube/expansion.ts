/**
 * Kubernetes' `$(VAR)` expansion in a container's env values, command and args (kubelet's
 * third_party/forked/golang/expansion): `$(NAME)` is NAME's value when it is defined, else
 * left as written; `$$` is one `$` (so `$$(NAME)` is the literal `$(NAME)`); any other `$`,
 * and a `$(` never closed, stay as they are. An env value sees only the variables defined
 * before it (envFrom, then the env list in order); command and args see the container's whole
 * environment.
 */

export interface Expanded {
  value: string;
  /** The names referenced but not defined: left as written. */
  undefinedNames: string[];
}

export function expandReferences(input: string, lookup: (name: string) => string | undefined): Expanded {
  let out = '';
  const undefinedNames: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$' || i + 1 === input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    const close = next === '(' ? input.indexOf(')', i + 2) : -1;
    if (close < 0) {
      // "$x" or an unclosed "$(": as written; the character after "$" is read again.
      out += '$';
      i++;
      continue;
    }
    const name = input.slice(i + 2, close);
    const value = lookup(name);
    if (value === undefined) undefinedNames.push(name);
    out += value ?? `$(${name})`;
    i = close + 1;
  }
  return { value: out, undefinedNames };
}
