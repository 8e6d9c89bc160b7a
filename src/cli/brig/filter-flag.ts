/**
 * docker's --filter flag (opts.FilterOpt): each value is NAME=VALUE, gathered by name. A
 * value without "=" is refused as docker refuses it, as a bad flag (exit 125).
 */
import { BrigError } from '../../errors/index.js';
import type { CommandSpec } from '../flags.js';

export function filterFlag(values: readonly string[] | undefined, spec: CommandSpec, shown = '-f, --filter'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values ?? []) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    if (eq < 0) {
      throw new BrigError('INVALID_ARGUMENT', `invalid argument "${v}" for "${shown}" flag: bad format of filter (expected name=value)`, {
        field: '--filter',
        hint: `See 'brig ${spec.name} --help'.`,
      });
    }
    const name = v.slice(0, eq).trim().toLowerCase();
    (out[name] ??= []).push(v.slice(eq + 1).trim());
  }
  return out;
}
