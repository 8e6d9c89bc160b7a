/**
 * Signal names and numbers as runc's kill, docker's kill -s and --stop-signal take them:
 * "TERM", "SIGTERM", "term" or "15". The table is Node's (os.constants.signals), so every
 * signal the host knows is accepted.
 */
import { constants as os } from 'node:os';
import { BrigError } from '../errors/index.js';

export function parseSignal(s: string, field = 'signal'): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new BrigError('INVALID_ARGUMENT', `invalid signal: ${s}`, { field });
    return n;
  }
  const upper = s.toUpperCase();
  const n = os.signals[(upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals];
  if (n === undefined) throw new BrigError('INVALID_ARGUMENT', `invalid signal: ${s}`, { field });
  return n;
}
