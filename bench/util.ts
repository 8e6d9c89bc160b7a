/** Shared bench helpers: paired, interleaved timing of whole commands; medians. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTextSync } from '../src/util/read-text.js';

/** Blocks for `ms` (the benches wait synchronously between commands). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * stderr goes to a file, not a pipe: a created container inherits the runtime's stdio and
 * would hold a pipe open, so spawnSync would wait for the container instead of the command.
 */
const errDir = mkdtempSync(path.join(tmpdir(), 'brig-bench-err-'));
const errFile = path.join(errDir, 'stderr');
process.on('exit', () => rmSync(errDir, { recursive: true, force: true }));

/** Runs a command once and returns its wall time in ms; throws on failure. */
export function timeCommand(cmd: string, args: string[], cwd: string): number {
  const fd = openSync(errFile, 'w');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', fd] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${readTextSync(errFile)}`);
    return ms;
  } finally {
    closeSync(fd);
  }
}

export interface Contender {
  name: string;
  /** One measured iteration; `i` makes ids unique. Returns ms. */
  run(i: number): number;
}

/** Interleaves contenders round by round so machine noise hits all alike. */
export function paired(contenders: Contender[], rounds: number, warmup = 3): Map<string, number[]> {
  const out = new Map(contenders.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < warmup; i++) for (const c of contenders) c.run(-1 - i);
  for (let i = 0; i < rounds; i++) {
    for (const c of contenders) out.get(c.name)!.push(c.run(i));
  }
  return out;
}

export function report(title: string, results: Map<string, number[]>, reference: string): string {
  const ref = median(results.get(reference)!);
  const lines = [title];
  for (const [name, xs] of results) {
    const m = median(xs);
    const ratio = name === reference ? '' : `  (${(m / ref).toFixed(2)}× ${reference})`;
    lines.push(`  ${name.padEnd(28)} median ${m.toFixed(1).padStart(7)} ms${ratio}`);
  }
  return lines.join('\n');
}
