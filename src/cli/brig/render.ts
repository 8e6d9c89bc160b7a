/** Renderers shared by brig verbs: docker-style tables, sizes, ages, pull progress. */
import type { Writable } from 'node:stream';
import { humanDuration } from '../../util/human-duration.js';
import type { JSONMessage } from '../../engine/engine.js';
import type { Flag, FlagValues } from '../flags.js';

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n')}\n`;
}

/**
 * go-units HumanSizeWithPrecision: 1000-based units and Go's %.*g, so trailing zeros go
 * ("1.5MB", not "1.50MB"). Three significant digits as docker's lists print sizes; docker's
 * HumanSize ("Total reclaimed space") takes four.
 */
export function humanSize(bytes: number, precision = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${goG(v, precision)}${units[u]}`;
}

/** go-units BytesSize: 1024-based units (KiB, MiB, ...) and Go's %.4g, as docker's MEM USAGE / LIMIT. */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${goG(v, 4)}${units[u]}`;
}

/** Go's %.{p}g: p significant digits, no trailing zeros, an exponent of two digits at least. */
function goG(v: number, p: number): string {
  const s = v.toPrecision(p);
  const [mant = '', exp] = s.split('e');
  const trimmed = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  if (exp === undefined) return trimmed;
  const e = Number(exp);
  return `${trimmed}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** docker's "3 days ago" (HumanDuration + " ago"); N/A for an unknown time (the built-in image). */
export function ago(epochSeconds: number, now = Date.now()): string {
  if (epochSeconds <= 0) return 'N/A';
  return `${humanDuration(Math.max(0, now - epochSeconds * 1000))} ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** `--json` (brig): progress as one JSON object per line. */
export const JSON_FLAG: Flag = { name: 'json', type: 'bool', help: 'Print progress as JSON lines (brig)' };

export function progressMode(v: FlagValues): 'auto' | 'json' | 'quiet' {
  return v.json === true ? 'json' : v.quiet === true ? 'quiet' : 'auto';
}

/** docker's JSONProgress.String(): a 50-wide bar and "current/total", empty without numbers. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return current > 0 ? humanSize(current).padStart(8) : '';
  const done = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  return `[${'='.repeat(done)}>${' '.repeat(50 - done)}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/**
 * docker's jsonmessage.DisplayJSONMessagesStream: on a terminal each id keeps one line,
 * redrawn in place (cursor up, clear, write, cursor down) with its progress bar; elsewhere a
 * line per message, transfers (which have numbers) left out. A line without an id ends the
 * set of lines being redrawn, as docker's does (pull -a goes tag after tag).
 */
export function jsonMessageRenderer(out: Writable & { isTTY?: boolean }): (m: JSONMessage) => void {
  const tty = out.isTTY === true;
  let ids = new Map<string, number>();
  return (m) => {
    // docker's DisplayJSONMessagesStream hands aux messages to a callback and prints none.
    if (m.aux !== undefined) return;
    let diff = 0;
    const progress = m.progressDetail === undefined ? undefined : progressBar(m.progressDetail.current ?? 0, m.progressDetail.total ?? 0);
    if (m.id !== undefined && progress !== undefined) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (tty) out.write('\n');
      }
      diff = ids.size - line;
      if (tty && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    if (progress !== undefined && !tty && progress !== '') return;
    let text = tty && progress !== undefined ? '\x1b[2K\r' : '';
    if (m.id !== undefined) text += `${m.id}: `;
    text += tty && progress !== undefined ? `${m.status ?? ''} ${progress}\r` : `${m.status ?? ''}\n`;
    out.write(text);
    if (m.id !== undefined && tty && diff > 0) out.write(`\x1b[${diff}B`);
  };
}
