/**
 * Memory of an idle container's monitor: brig-monitor against podman's conmon and docker's
 * containerd-shim-runc-v2, on idle busybox containers of each engine running at the same
 * time (bench/engine.ts starts them). RSS counts a page once per process; PSS divides shared
 * pages among the processes that map them, so with N monitors the binary's text costs each
 * 1/N: PSS is the per-container cost that adds up.
 */
import { readTextSync } from '../src/util/read-text.js';
import type { EngineUnderTest } from './engines.js';
import { median } from './util.js';

/** kB, from /proc/PID/smaps_rollup. */
export function memory(pid: number): { rss: number; pss: number } {
  const text = readTextSync(`/proc/${pid}/smaps_rollup`);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kb('Rss'), pss: kb('Pss') };
}

export const mib = (kb: number) => (kb / 1024).toFixed(2);

/** One line per engine: median RSS and PSS of its monitors, and brig's PSS against each. */
export function benchMonitor(engines: EngineUnderTest[], skipped: Map<string, string>, perEngine: number): string {
  const lines = [`idle container monitor memory (${perEngine} idle busybox containers per engine, all running together)`];
  let brigPss: number | undefined;
  for (const e of engines) {
    const pids = e.monitors();
    if (pids.length === 0) {
      lines.push(`  ${e.monitorName.padEnd(24)} no ${e.monitorName} process found`);
      continue;
    }
    const m = pids.map(memory);
    const rss = median(m.map((x) => x.rss));
    const pss = median(m.map((x) => x.pss));
    if (e.name === 'brig') brigPss = pss;
    const ratio = e.name !== 'brig' && brigPss !== undefined ? `  (brig's PSS = ${(brigPss / pss).toFixed(2)}× this)` : '';
    lines.push(`  ${e.monitorName.padEnd(24)} RSS ${mib(rss).padStart(6)} MiB · PSS ${mib(pss).padStart(5)} MiB (median of ${pids.length})${ratio}`);
  }
  for (const [name, why] of skipped) lines.push(`  ${name.padEnd(24)} skipped: ${why}`);
  return lines.join('\n');
}
