/**
 * docker's MapOpts (--label, --opt of network and volume create): KEY=VALUE, or KEY alone for
 * an empty value; an empty key is refused, naming the flag.
 */
import { BrigError } from '../../errors/index.js';

export function keyValues(list: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new BrigError('INVALID_ARGUMENT', `invalid argument "${kv}" for "--${flag}" flag: no key`, { field: `--${flag}` });
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}
