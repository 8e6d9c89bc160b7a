/**
 * Flags as the docker CLI parses them (spf13/pflag), driven by one table per command that
 * also makes `--help` and shell completion, so the three never disagree:
 *
 *   -it, -dit          combined short booleans
 *   -eA=1, -e A=1, -e=A=1   a short flag's value: the rest of the word, the next word, or after "="
 *   --name=x, --name x      a long flag's value
 *   --rm, --rm=false, -i=false   booleans; "--rm false" leaves "false" as a positional
 *   --                 the end of flags
 *
 * With interspersed=false (docker run, exec, ...) the first positional ends the flags: what
 * follows the image belongs to the container's command. Errors name the flag as docker does
 * ("unknown shorthand flag: 'x' in -ix") and point at the command's --help.
 */
import { BrigError } from '../errors/index.js';

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface Flag {
  name: string;
  short?: string;
  type: FlagType;
  /** The value's name in --help ("string", "list", "int", "bytes", "duration"...). */
  valueName?: string;
  help: string;
  default?: string;
}

export interface CommandSpec {
  /** "run" or "container ls": as typed after `brig`. */
  name: string;
  usage: string;
  summary: string;
  flags: Flag[];
  /** Flags end at the first positional (docker run/exec/create). */
  interspersed?: boolean;
  aliases?: string[];
  /** Left out of help listings and completion (internal verbs). */
  hidden?: boolean;
}

export type FlagValues = Record<string, boolean | string | number | string[]>;

export interface ParsedCommand {
  values: FlagValues;
  /** Flags the user gave (for "was it set?" questions: -e A vs no -e). */
  given: Set<string>;
  args: string[];
  help: boolean;
}

const HELP: Flag = { name: 'help', type: 'bool', help: 'Print usage' };

function flagError(cmd: CommandSpec, message: string, field: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', message, { field, hint: `See 'brig ${cmd.name} --help'.` });
}

export function parseFlags(argv: string[], cmd: CommandSpec): ParsedCommand {
  const flags = [...cmd.flags, HELP];
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const values: FlagValues = {};
  const given = new Set<string>();
  const args: string[] = [];

  const set = (f: Flag, raw: string | undefined, shown: string) => {
    given.add(f.name);
    if (f.type === 'bool') {
      if (raw === undefined || raw === 'true' || raw === '1' || raw === 't' || raw === 'T' || raw === 'TRUE' || raw === 'True') values[f.name] = true;
      else if (raw === 'false' || raw === '0' || raw === 'f' || raw === 'F' || raw === 'FALSE' || raw === 'False') values[f.name] = false;
      else throw flagError(cmd, `invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`, `--${f.name}`);
      return;
    }
    const v = raw!;
    if (f.type === 'int') {
      if (!/^-?\d+$/.test(v)) throw flagError(cmd, `invalid argument "${v}" for "${shown}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, `--${f.name}`);
      values[f.name] = Number(v);
    } else if (f.type === 'list') {
      values[f.name] = [...((values[f.name] as string[] | undefined) ?? []), v];
    } else {
      values[f.name] = v;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (cmd.interspersed === false) {
        args.push(...argv.slice(i));
        break;
      }
      args.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const f = byName.get(name);
      if (!f) throw flagError(cmd, `unknown flag: --${name}`, `--${name}`);
      let value = eq < 0 ? undefined : a.slice(eq + 1);
      if (value === undefined && f.type !== 'bool') {
        if (i + 1 >= argv.length) throw flagError(cmd, `flag needs an argument: --${name}`, `--${name}`);
        value = argv[++i]!;
      }
      set(f, value, `--${name}`);
      continue;
    }
    // A run of short flags: booleans may be combined; a flag with a value takes the rest.
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const f = byShort.get(c);
      if (!f) throw flagError(cmd, `unknown shorthand flag: '${c}' in ${a}`, `-${c}`);
      const rest = a.slice(j + 1);
      const shown = `-${c}, --${f.name}`;
      if (rest.startsWith('=')) {
        set(f, rest.slice(1), shown);
        break;
      }
      if (f.type === 'bool') {
        set(f, undefined, shown);
        continue;
      }
      if (rest !== '') {
        set(f, rest, shown);
        break;
      }
      if (i + 1 >= argv.length) throw flagError(cmd, `flag needs an argument: '${c}' in -${c}`, `-${c}`);
      set(f, argv[++i]!, shown);
      break;
    }
  }
  for (const f of cmd.flags) {
    if (!(f.name in values) && f.default !== undefined) {
      values[f.name] = f.type === 'bool' ? f.default === 'true' : f.type === 'int' ? Number(f.default) : f.default;
    }
  }
  return { values, given, args, help: values.help === true };
}

/** `brig CMD --help`, laid out as docker's. */
export function helpText(cmd: CommandSpec): string {
  const rows = [...cmd.flags, HELP].map((f) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'bool' ? '' : ` ${f.valueName ?? (f.type === 'list' ? 'list' : f.type)}`}`;
    const def = f.default !== undefined && f.type !== 'bool' ? ` (default ${f.type === 'string' ? `"${f.default}"` : f.default})` : '';
    return [left, `${f.help}${def}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 3;
  const aliases = cmd.aliases?.length ? `\nAliases:\n  brig ${[cmd.name, ...cmd.aliases].join(', brig ')}\n` : '';
  return `\nUsage:  brig ${cmd.usage}\n\n${cmd.summary}\n${aliases}\nOptions:\n${rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n')}\n`;
}

/** The words bash completion offers after `brig CMD -`: every flag's long and short form. */
export function completionWords(cmd: CommandSpec): string[] {
  return [...cmd.flags, HELP].flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
}
