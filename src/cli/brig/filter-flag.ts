/**
 * docker's --filter (opts.FilterOpt): repeatable KEY=VALUE, the key lower-cased and both
 * trimmed, gathered into the Engine's key → values map. A value without "=" is refused as
 * pflag refuses it (exit 125, before any work); an empty one is ignored.
 */
import { BrigError } from '../../errors/index.js';
import type { FilterMap } from '../../engine/engine.js';
import type { CommandSpec, ParsedCommand } from '../flags.js';

export function filterFlag(p: ParsedCommand, spec: CommandSpec, name = 'filter'): FilterMap {
  const flag = spec.flags.find((f) => f.name === name);
  const shown = flag?.short ? `-${flag.short}, --${name}` : `--${name}`;
  const out: Record<string, string[]> = {};
  for (const v of (p.values[name] as string[] | undefined) ?? []) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    if (eq < 0) {
      throw new BrigError('INVALID_ARGUMENT', `invalid argument "${v}" for "${shown}" flag: bad format of filter (expected name=value)`, {
        field: `--${name}`,
        hint: `See 'brig ${spec.name} --help'.`,
      });
    }
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    const values = (out[key] ??= []);
    if (!values.includes(value)) values.push(value);
  }
  return out;
}
