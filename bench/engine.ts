/**
 * The engine against podman and docker (bench/engines.ts: how each is set up), in one run,
 * on the same busybox image; the peers with `--network none` (brig's containers get a network
 * namespace holding only `lo`, which is the same thing):
 *
 *  1. `run --rm IMAGE true`: paired rounds, the engines taking turns. brig's --rm path runs
 *     the container in the foreground through the runtime: no monitor, no record.
 *  2. `run IMAGE true`, kept: brig records the container, starts its monitor and attaches to
 *     it before it runs (the path of every kept container). Each round's container is
 *     removed afterwards, untimed.
 *  3. `run -d IMAGE sleep 100000`, 50 in a row: the engines take turns container by
 *     container, so each starts its 50 in a row while the machine's noise hits all alike;
 *     then on to 100 containers each, timed as well.
 *  4. `ps` (the running containers, the default listing) with those 100 each: repeated,
 *     taking turns.
 *  5. The monitors of those idle containers: RSS and PSS (bench/monitor.ts).
 *  6. `rm -f` of all 100, one command per engine (podman: `-t 0`, as sleep ignores SIGTERM).
 *
 *  7. `run --rm IMAGE true` on each engine's default bridge network (bench/bridge.ts).
 *
 * Environment: BENCH_ENGINE=0 skips this part; BENCH_ENGINE_BRIDGE=0 skips 7; BENCH_ENGINE_SKIP=podman,docker leaves peers
 * out; BENCH_ENGINE_ROUNDS (20) rounds of 1 and 2; BENCH_ENGINE_DETACHED (50) and
 * BENCH_ENGINE_CONTAINERS (100) for 3-6; BENCH_ENGINE_PS_ROUNDS (10).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { benchBridge } from './bridge.js';
import { type EngineUnderTest, openEngines } from './engines.js';
import { benchMonitor } from './monitor.js';
import { median, sleepMs } from './util.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** One line per engine: its value, and on each peer's line brig's value as a multiple of it. */
export function compare(title: string, values: Map<string, number>, detail: Map<string, string> = new Map()): string[] {
  const brig = values.get('brig');
  const lines = [title];
  for (const [name, v] of values) {
    const ratio = name !== 'brig' && brig !== undefined ? `  brig = ${(brig / v).toFixed(2)}× ${name}` : '';
    lines.push(`  ${name.padEnd(8)} ${fmtMs(v).padStart(10)}${detail.has(name) ? ` ${detail.get(name)}` : ''}${ratio}`);
  }
  return lines;
}

/** Interleaved rounds: every round, each engine once, starting with a different one. */
export function turns<T>(engines: EngineUnderTest[], rounds: number, one: (e: EngineUnderTest, round: number) => T): Map<string, T[]> {
  const out = new Map(engines.map((e) => [e.name, [] as T[]]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < engines.length; k++) {
      const e = engines[(r + k) % engines.length]!;
      out.get(e.name)!.push(one(e, r));
    }
  }
  return out;
}

export const medians = (m: Map<string, number[]>) => new Map([...m].map(([k, xs]) => [k, median(xs)]));

export function benchEngine(print: (s: string) => void): void {
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  const rounds = num('BENCH_ENGINE_ROUNDS', 20);
  const detached = num('BENCH_ENGINE_DETACHED', 50);
  const total = Math.max(detached, num('BENCH_ENGINE_CONTAINERS', 100));
  const psRounds = num('BENCH_ENGINE_PS_ROUNDS', 10);
  const set = openEngines({ skip });
  try {
    const { engines } = set;
    print('engines, same busybox image (peers with --network none):');
    for (const e of engines) print(`  ${e.name.padEnd(8)} ${e.version}`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    print('');

    // 1. run --rm, after a few untimed runs each.
    turns(engines, 3, (e) => e.exec(e.runRm));
    const rm = turns(engines, rounds, (e) => e.exec(e.runRm).ms);
    const rmLines = compare(`run --rm IMAGE true (${rounds} rounds, engines taking turns; median wall time)`, medians(rm));
    const brigRm = median(rm.get('brig')!);
    if (rm.has('podman')) {
      const r = brigRm / median(rm.get('podman')!);
      rmLines.push(`  target brig ≤ 0.50× podman (aim 0.33×): ${r.toFixed(2)}× — ${r <= 1 / 3 ? 'aim met' : r <= 0.5 ? 'target met' : 'not met'}`);
    }
    print(rmLines.join('\n'));
    print('');

    // 2. run, kept: the monitor path.
    const tag = randomBytes(3).toString('hex');
    const kept = turns(engines, rounds, (e, r) => {
      const name = `bench-${tag}-kept-${r}`;
      const ms = e.exec(e.runKept(name)).ms;
      e.exec(['rm', name]);
      return ms;
    });
    print(compare(`run IMAGE true, kept (${rounds} rounds; brig: record + monitor + attach; removal untimed)`, medians(kept)).join('\n'));
    print('');

    // 3. run -d: `detached` in a row, then on to `total` containers each.
    const ids = new Map(engines.map((e) => [e.name, [] as string[]]));
    const starts = turns(engines, total, (e) => {
      const r = e.exec(e.runDetached);
      ids.get(e.name)!.push(r.stdout.trim().split('\n').at(-1)!);
      return r.ms;
    });
    const first = new Map([...starts].map(([k, xs]) => [k, xs.slice(0, detached)]));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    print(
      compare(
        `${detached} × run -d IMAGE sleep 100000 in a row (engines taking turns container by container; median, then total)`,
        medians(first),
        new Map([...first].map(([k, xs]) => [k, `· total ${fmtMs(sum(xs))}`])),
      ).join('\n'),
    );
    if (total > detached) {
      const rest = new Map([...starts].map(([k, xs]) => [k, xs.slice(detached)]));
      print(compare(`  and on to ${total}: runs ${detached + 1}-${total}, median`, medians(rest)).join('\n  '));
    }
    print('');

    // 4. ps with `total` running containers each.
    const ps = turns(engines, psRounds, (e) => {
      const r = e.exec(['ps']);
      const rows = r.stdout.trim().split('\n').length - 1;
      if (rows !== total) throw new Error(`${e.name} ps listed ${rows} containers, expected ${total}`);
      return r.ms;
    });
    print(compare(`ps with ${total} running containers (${psRounds} rounds, taking turns; median)`, medians(ps)).join('\n'));
    print('');

    // 5. Their monitors, idle.
    // Let the containers settle (start-up pages freed) before memory is read.
    sleepMs(1000);
    print(benchMonitor(engines, set.skipped, total));
    print('');

    // 6. Removal of all, one command each.
    const removal = new Map<string, number>();
    for (const e of engines) removal.set(e.name, e.exec(e.rmForce(ids.get(e.name)!)).ms);
    print(
      compare(
        `rm -f of all ${total} running containers (one command per engine)`,
        removal,
        new Map([...removal].map(([k, ms]) => [k, `· ${fmtMs(ms / total)} per container`])),
      ).join('\n'),
    );
  } finally {
    set.close();
  }
  // 7. run --rm on each engine's default bridge (bench/bridge.ts), engines set up anew.
  if (process.env.BENCH_ENGINE_BRIDGE !== '0') {
    print('');
    benchBridge(print);
  }
}

// `node dist/bench/engine.js`: this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchEngine((s) => console.log(s));
