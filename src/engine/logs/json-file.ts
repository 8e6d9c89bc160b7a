/**
 * docker's json-file records: one JSON object a line,
 *   {"log":"text\n","stream":"stdout","attrs":{"k":"v"},"time":"2024-01-02T03:04:05.123456789Z"}
 * in that key order, attrs only when the container has some (labels, env, tag options). The
 * monitor writes them (native/monitor/json.c); the attrs object is encoded here, once, as Go's
 * json.Marshal of a map[string]string does it (keys sorted, HTML characters escaped), and the
 * monitor copies it into every record.
 */
import { type LogEntry, type LogFormat, scanBackwards } from './format.js';
import { timeNs } from './line.js';

const NL = 0x0a;

/** A JSON string as Go's encoding/json writes it (with its HTML escaping; \u0008 as docker's json-file). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22 || c === 0x5c) out += `\\${ch}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate: not UTF-8, Go's replacement
    else out += ch;
  }
  return `${out}"`;
}

/** Go sorts map keys by their UTF-8 bytes. */
export function goKeyOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The attrs member for the plan, `"attrs":{...},` with the object as Go's json.Marshal of a
 * map[string]string writes it; '' for none (docker then writes no attrs key). The monitor
 * writes it between a record's stream and time.
 */
export function encodeJsonAttrs(attrs: Record<string, string>): string {
  const keys = Object.keys(attrs).sort(goKeyOrder);
  return keys.length ? `"attrs":{${keys.map((k) => `${goString(k)}:${goString(attrs[k]!)}`).join(',')}},` : '';
}

function decode(record: Buffer): LogEntry | undefined {
  let r: { log?: unknown; stream?: unknown; time?: unknown; attrs?: unknown };
  try {
    r = JSON.parse(record.toString('utf8')) as typeof r;
  } catch {
    return undefined; // docker skips what does not decode, too
  }
  if (r === null || typeof r !== 'object' || (r.stream !== 'stdout' && r.stream !== 'stderr') || typeof r.time !== 'string') return undefined;
  const ns = timeNs(r.time);
  if (ns === undefined) return undefined;
  const attrs = r.attrs !== null && typeof r.attrs === 'object' ? Object.fromEntries(Object.entries(r.attrs).filter(([, v]) => typeof v === 'string')) : undefined;
  return { line: { stream: r.stream, log: typeof r.log === 'string' ? r.log : '', time: r.time, ...(attrs ? { attrs: attrs as Record<string, string> } : {}) }, ns };
}

export const jsonFile: LogFormat = {
  driver: 'json-file',
  split(buf) {
    const records: Buffer[] = [];
    let used = 0;
    for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, used)) {
      if (nl > used) records.push(buf.subarray(used, nl));
      used = nl + 1;
    }
    return { records, used };
  },
  decode,
  async tail(file, size, n) {
    // Newlines from the end: the last one ends the last whole record, each one before it
    // starts a record; the file's first record starts at 0.
    let end = -1;
    let found = 0;
    let start = 0;
    await scanBackwards(file, size, (block, at) => {
      for (let i = block.length - 1; i >= 0; i--) {
        if (block[i] !== NL) continue;
        if (end < 0) end = at + i + 1;
        else if (++found === n) {
          start = at + i + 1;
          return true;
        }
      }
      return false;
    });
    if (end < 0) return { start: 0, end: 0, found: 0 };
    return found === n ? { start, end, found } : { start: 0, end, found: found + 1 };
  },
};
