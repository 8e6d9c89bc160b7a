/**
 * docker's detach keys (--detach-keys, the API's detachKeys): the sequence that, typed on an
 * attached stdin, detaches instead of reaching the container.
 */
import { BrigError } from '../../errors/index.js';

/** ctrl-p, ctrl-q: docker's default. */
export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]);

const CTRL = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** docker's --detach-keys: comma-separated single characters, "ctrl-<a-z@[\]^_>" or DEL ("ctrl-a,x"). */
export function parseDetachKeys(s: string | undefined, field = '--detach-keys'): Buffer {
  if (s === undefined || s === '') return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const k of s.split(',')) {
    const ctrl = /^ctrl-(.)$/.exec(k);
    if (k.length === 1 && k.charCodeAt(0) < 128) out.push(k.charCodeAt(0));
    else if (ctrl && CTRL.includes(ctrl[1]!)) out.push(CTRL.indexOf(ctrl[1]!));
    else if (k === 'DEL') out.push(127);
    else throw new BrigError('INVALID_ARGUMENT', `Invalid detach keys (${s}) provided`, { field, hint: `e.g. ${field} ctrl-a,x` });
  }
  return Buffer.from(out);
}

/**
 * Watches input for the detach keys: bytes that may begin them are held back until they
 * either complete the sequence (detached: what came before it still goes) or do not (then
 * they go on as typed).
 */
export function detachFilter(keys: Buffer): (chunk: Buffer) => { pass: Buffer; detached: boolean } {
  let held = 0;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (b !== keys[held] && held > 0) {
        out.push(...keys.subarray(0, held));
        held = 0;
      }
      if (b === keys[held]) {
        if (++held === keys.length) return { pass: Buffer.from(out), detached: true };
      } else {
        out.push(b);
      }
    }
    return { pass: Buffer.from(out), detached: false };
  };
}
