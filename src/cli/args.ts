/**
 * A small argv parser with runc's conventions: `--flag value`, `--flag=value`, `-f value`,
 * boolean flags, global flags before the command, `--` ends flags. Unknown flags are errors
 * that name the flag.
 */
import { BrigError } from '../errors/index.js';

export type FlagKind = 'bool' | 'string' | 'int' | 'strings';
export interface FlagSpec {
  kind: FlagKind;
  short?: string;
  help?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | boolean | number | string[]>;
  rest: string[];
}

/** Parses flags until the first positional (when stopAtPositional) or to the end. */
export function parseArgs(argv: string[], specs: FlagSpecs, stopAtPositional = false): Parsed {
  const flags: Parsed['flags'] = {};
  const rest: string[] = [];
  const byShort = new Map(
    Object.entries(specs)
      .filter(([, s]) => s.short)
      .map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (stopAtPositional) {
        rest.push(...argv.slice(i));
        break;
      }
      rest.push(a);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      value = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      const n = byShort.get(a.slice(1, 2));
      if (!n) throw new BrigError('INVALID_ARGUMENT', `unknown flag ${a}`, { field: a });
      name = n;
      value = a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
    }
    const spec = specs[name];
    if (!spec) throw new BrigError('INVALID_ARGUMENT', `unknown flag --${name}`, { field: `--${name}` });
    if (spec.kind === 'bool') {
      flags[name] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length)
        throw new BrigError('INVALID_ARGUMENT', `flag --${name} needs a value`, { field: `--${name}` });
      value = argv[++i]!;
    }
    if (spec.kind === 'int') {
      if (!/^\d+$/.test(value))
        throw new BrigError('INVALID_ARGUMENT', `flag --${name}: "${value}" is not a number`, {
          field: `--${name}`,
        });
      flags[name] = Number(value);
    } else if (spec.kind === 'strings') {
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    } else flags[name] = value;
  }
  return { flags, rest };
}
