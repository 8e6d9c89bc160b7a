/**
 * One log record as `brig logs` and the API hand it out (docker's backend.LogMessage), and
 * how docker renders it: `--details` puts the record's attrs before the text (key=value,
 * sorted, URL-query escaped, comma separated, then a space — a lone space when there are
 * none), `-t` puts the time before that in RFC3339NanoFixed. A record without a newline
 * at its end is a piece of a longer line (docker cuts lines at 16 KiB) and is rendered as
 * it is, so the pieces join up again on the terminal.
 */

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** The text, with the newline it ended with (none on a piece of a longer line). */
  log: string;
  /** RFC 3339 with nanoseconds, UTC, trailing zeros dropped (Go's RFC3339Nano). */
  time: string;
  /** docker's extra attributes (labels, env, tag chosen with --log-opt), for --details. */
  attrs?: Record<string, string>;
}

/** Nanoseconds since the epoch of an RFC 3339 time, exact (Date keeps only milliseconds). */
export function timeNs(time: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(secs)) return undefined;
  return (BigInt(secs) / 1000n) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Go's RFC3339Nano of nanoseconds since the epoch, in UTC. */
export function formatNs(ns: bigint): string {
  const secs = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - secs * 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const digits = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${digits}Z`;
}

/** docker's -t: RFC3339NanoFixed, nine digits always. */
export function fixedTime(time: string): string {
  const m = /^([^.]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : time;
}

/** Go's url.QueryEscape: all but letters, digits and -_.~ escaped, a space as '+'. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** What docker writes for one record (api/server/httputils WriteLogStream). */
export function renderLogLine(l: LogLine, opts: { timestamps?: boolean; details?: boolean }): string {
  let text = l.log;
  if (opts.details) {
    const attrs = Object.entries(l.attrs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    text = `${attrs.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',')} ${text}`;
  }
  return opts.timestamps ? `${fixedTime(l.time)} ${text}` : text;
}
