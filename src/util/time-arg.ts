/**
 * docker's --since/--until/--until for logs and events: RFC 3339, unix seconds (with a
 * fraction), or a Go duration back from now ("42m", "1h30m", "10s").
 */
import { BrigError } from '../errors/index.js';

/** Unix seconds. */
export function parseTime(s: string, field: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(s);
  if (dur && s !== '') return (now - (Number(dur[1] ?? 0) * 3600 + Number(dur[2] ?? 0) * 60 + Number(dur[3] ?? 0)) * 1000) / 1000;
  // Date keeps milliseconds: the rest of a nanosecond fraction is added back (logs -t prints nine digits).
  const frac = /^[^.]+T[^.]+\.(\d+)(?:Z|[+-]\d\d:\d\d)$/.exec(s)?.[1];
  const t = Date.parse(s);
  if (frac && !Number.isNaN(t)) return Math.floor(t / 1000) + Number(`0.${frac}`);
  if (Number.isNaN(t)) throw new BrigError('INVALID_ARGUMENT', `${field}: invalid time "${s}"`, { field, hint: 'RFC 3339, unix seconds, or a duration like 42m' });
  return t / 1000;
}
