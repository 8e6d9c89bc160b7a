/**
 * The Engine API's streamed answers read back into the Engine's values: newline-delimited
 * JSON (pull, push, load, events, stats), docker's JSON message errors, and log records in
 * the logs endpoint's framing (timestamps and details asked for, so nothing is lost).
 */
import type { Readable } from 'node:stream';
import { BrigError } from '../../errors/index.js';
import type { JSONMessage } from '../engine.js';
import type { LogLine } from '../logs/line.js';

/** One JSON value per line, as it comes. */
export async function* jsonLines<T>(body: Readable, parse: (line: string) => T = (l) => JSON.parse(l) as T): AsyncIterable<T> {
  let rest = '';
  for await (const chunk of body) {
    rest += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line !== '') yield parse(line);
    }
  }
  if (rest.trim() !== '') yield parse(rest.trim());
}

/** docker's progress stream: each message to `onProgress`; an error message ends it as an error. */
export async function followMessages(body: Readable, onProgress?: (m: JSONMessage) => void): Promise<JSONMessage[]> {
  const all: JSONMessage[] = [];
  for await (const m of jsonLines<JSONMessage & { error?: string; errorDetail?: { message?: string } }>(body)) {
    if (m.error !== undefined || m.errorDetail !== undefined) {
      const message = m.errorDetail?.message ?? m.error ?? 'unknown error';
      const code = /unauthorized|authentication required/i.test(message) ? 'REGISTRY_UNAUTHORIZED' : /not found|manifest unknown/i.test(message) ? 'REGISTRY_NOT_FOUND' : 'REGISTRY_ERROR';
      throw new BrigError(code, message);
    }
    all.push(m);
    onProgress?.(m);
  }
  return all;
}

/** docker's stream frames ([stream 0 0 0 len(be32)] payload) from a byte stream cut anywhere. */
export async function* frames(body: AsyncIterable<Buffer>): AsyncIterable<{ stream: number; data: Buffer }> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      yield { stream: buf[0]!, data: buf.subarray(8, 8 + len) };
      buf = buf.subarray(8 + len);
    }
  }
}

/** Lines of a raw (tty) stream, each with its newline; a last piece without one too. */
async function* rawLines(body: AsyncIterable<Buffer>): AsyncIterable<{ stream: number; data: Buffer }> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let nl: number;
    while ((nl = rest.indexOf(10)) >= 0) {
      yield { stream: 1, data: rest.subarray(0, nl + 1) };
      rest = rest.subarray(nl + 1);
    }
  }
  if (rest.length) yield { stream: 1, data: rest };
}

/** docker's --details text ("a=1,b=x%20y") back into attributes. */
function parseAttrs(s: string): Record<string, string> | undefined {
  if (s === '') return undefined;
  const out: Record<string, string> = {};
  for (const kv of s.split(',')) {
    const eq = kv.indexOf('=');
    // url.QueryEscape's: "+" is a space.
    const un = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
    if (eq > 0) out[un(kv.slice(0, eq))] = un(kv.slice(eq + 1));
  }
  return out;
}

/**
 * GET /containers/{id}/logs with timestamps=1 and details=1: each record is
 * "TIME ATTRS MESSAGE" (ATTRS empty for none, so two spaces), framed unless the container
 * has a tty.
 */
export async function* logLines(body: AsyncIterable<Buffer>, tty: boolean): AsyncIterable<LogLine> {
  for await (const f of tty ? rawLines(body) : frames(body)) {
    const text = f.data.toString('utf8');
    const sp = text.indexOf(' ');
    // RFC3339NanoFixed on the wire; the Engine's records drop trailing zeros (RFC3339Nano).
    const time = (sp > 0 ? text.slice(0, sp) : '').replace(/\.(\d*?)0+(Z|[+-])/, (_m, d: string, z: string) => (d ? `.${d}${z}` : z));
    const after = sp > 0 ? text.slice(sp + 1) : text;
    const sp2 = after.indexOf(' ');
    const attrs = sp2 >= 0 ? parseAttrs(after.slice(0, sp2)) : undefined;
    const log = sp2 >= 0 ? after.slice(sp2 + 1) : after;
    yield { stream: f.stream === 2 ? 'stderr' : 'stdout', log, time, ...(attrs ? { attrs } : {}) };
  }
}
