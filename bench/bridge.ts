/**
 * `run --rm IMAGE true` on each engine's default bridge network (issue 13's row): brig's
 * `bridge` (its own bridge driver, brig-net), podman's default network (netavark), docker's bridge with iptables on
 * (bench/engines.ts, network 'bridge', for the set-up and what is removed afterwards). Paired
 * rounds, the engines taking turns, after a few untimed runs; medians and brig's ratio to
 * each peer. Target: brig ≤ 0.5× docker.
 *
 * Environment: BENCH_ENGINE_BRIDGE=0 skips it (from bench/engine.ts), BENCH_ENGINE_SKIP
 * leaves peers out, BENCH_BRIDGE_ROUNDS (20) rounds.
 */
import { pathToFileURL } from 'node:url';
import { compare, medians, turns } from './engine.js';
import { openEngines } from './engines.js';
import { median } from './util.js';

export function benchBridge(print: (s: string) => void): void {
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  const rounds = Number(process.env.BENCH_BRIDGE_ROUNDS ?? 20);
  const set = openEngines({ skip, network: 'bridge' });
  try {
    print('engines on their default bridge networks (brig: bridge via brig-net; podman: netavark, brbench-pod; docker: brbench-dk, iptables on):');
    for (const e of set.engines) print(`  ${e.name.padEnd(8)} ${e.version}`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    turns(set.engines, 3, (e) => e.exec(e.runRm));
    const rm = turns(set.engines, rounds, (e) => e.exec(e.runRm).ms);
    const lines = compare(`run --rm IMAGE true on the default bridge (${rounds} rounds, engines taking turns; median wall time)`, medians(rm));
    if (rm.has('docker')) {
      const r = median(rm.get('brig')!) / median(rm.get('docker')!);
      lines.push(`  target brig ≤ 0.50× docker: ${r.toFixed(2)}× — ${r <= 0.5 ? 'met' : 'not met'}`);
    }
    print(lines.join('\n'));
  } finally {
    set.close();
  }
}

// `node dist/bench/bridge.js`: this row alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchBridge((s) => console.log(s));
