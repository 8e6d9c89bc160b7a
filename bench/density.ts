/**
 * Density, by hand (root; minutes): N idle containers started one after another and held by
 * their monitors, what they take in all, `ps` with all of them, and removal of all.
 *
 *   node dist/bench/density.js --count 1000 [--engine brig|podman|docker] [--ps-rounds 5]
 *
 * The engine is set up as bench/engine.ts sets it up (bench/engines.ts). Reported:
 *  - start: `run -d IMAGE sleep 100000` N times in a row; the total, the median, and the
 *    median of every hundredth (does a start get slower as containers pile up?). A failed
 *    start ends the series; what had started is still measured and removed.
 *  - memory: the PSS (and RSS) sums of the monitors and of the container processes (every
 *    process below a monitor); the sum of the containers' memory cgroups (usage, which also
 *    counts their kernel memory, such as page tables); for docker its daemons' PSS; and the
 *    host's MemAvailable, slab, page tables and kernel stacks before and after, which count
 *    everything (mounts, namespaces, cgroups) but also whatever else the machine did meanwhile.
 *  - `ps` (running containers) with all of them: the median of --ps-rounds calls.
 *  - removal: one `rm -f` with every id; then the check that nothing is left: no monitor,
 *    no cgroup of the engine's containers, no mount under its directory (brig: no socket
 *    directory, no container directory either).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readTextSync } from '../src/util/read-text.js';
import { type EngineUnderTest, mountsUnder, openEngines, processes } from './engines.js';
import { memory, mib } from './monitor.js';
import { median, sleepMs } from './util.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    engine: { type: 'string', default: 'brig' },
    'ps-rounds': { type: 'string', default: '5' },
  },
});
const count = Number(values.count);
const psRounds = Number(values['ps-rounds']);
const which = values.engine!;
if (process.getuid?.() !== 0) {
  console.error('density: needs root');
  process.exit(1);
}
if (!['brig', 'podman', 'docker'].includes(which) || !(count > 0)) {
  console.error('usage: node dist/bench/density.js --count N [--engine brig|podman|docker] [--ps-rounds N]');
  process.exit(2);
}

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`);

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of readTextSync('/proc/meminfo').split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The memory cgroup's usage (bytes) of the cgroup `pid` is in, v1 or v2. */
function cgroupMemory(pid: number): number | undefined {
  try {
    const lines = readTextSync(`/proc/${pid}/cgroup`).split('\n');
    const v1 = lines.find((l) => /^\d+:memory:/.test(l));
    const file = v1 ? `/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.usage_in_bytes` : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::'))!.slice(3)}/memory.current`;
    return Number(readTextSync(file));
  } catch {
    return undefined;
  }
}

function sumMemory(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    try {
      const m = memory(p);
      rss += m.rss;
      pss += m.pss;
    } catch {}
  }
  return { rss, pss };
}

function measureMemory(e: EngineUnderTest, n: number, before: Record<string, number>): string[] {
  const procs = processes();
  const monitors = new Set(e.monitors());
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const below: number[] = [];
  const inits: number[] = [];
  for (const m of monitors) {
    const stack = [...(children.get(m) ?? [])];
    inits.push(...stack);
    while (stack.length) {
      const p = stack.pop()!;
      below.push(p);
      stack.push(...(children.get(p) ?? []));
    }
  }
  const mon = sumMemory([...monitors]);
  const ctr = sumMemory(below);
  const cg = inits.map(cgroupMemory).filter((x): x is number => x !== undefined);
  const after = meminfo();
  const per = (kb: number) => `${mib(kb)} MiB (${(kb / Math.max(1, n)).toFixed(0)} kB per container)`;
  const lines = [
    `memory with ${n} idle containers:`,
    `  monitors (${monitors.size} ${e.monitorName})  PSS ${per(mon.pss)} · RSS ${mib(mon.rss)} MiB`,
    `  container processes (${below.length})  PSS ${per(ctr.pss)} · RSS ${mib(ctr.rss)} MiB`,
    `  monitors + containers  PSS ${per(mon.pss + ctr.pss)}`,
  ];
  if (cg.length) lines.push(`  containers' memory cgroups (${cg.length})  usage ${per(cg.reduce((a, b) => a + b, 0) / 1024)}`);
  const daemons = e.daemons();
  if (daemons.length) lines.push(`  ${e.name}'s daemons (${daemons.length})  PSS ${mib(sumMemory(daemons).pss)} MiB`);
  const fell = before.MemAvailable! - after.MemAvailable!;
  // The kernel's side (namespaces, mounts, cgroups, overlay inodes and dentries) is slab;
  // the reclaimable part is mostly dentry and inode caches.
  const delta = (k: string) => {
    const d = after[k]! - before[k]!;
    return `${d < 0 ? '-' : '+'}${mib(Math.abs(d))} MiB`;
  };
  lines.push(`  host (moves with everything else running here too): MemAvailable fell by ${per(fell)}`);
  lines.push(`    slab ${delta('Slab')} (unreclaimable ${delta('SUnreclaim')}, reclaimable ${delta('SReclaimable')}) · page tables ${delta('PageTables')} · kernel stacks ${delta('KernelStack')}`);
  return lines;
}

/** What the removed containers left; `baseMounts`: the engine's own, from before they started. */
function leftovers(e: EngineUnderTest, ids: string[], baseMounts: string[]): string[] {
  const found: string[] = [];
  const monitors = e.monitors();
  if (monitors.length) found.push(`${monitors.length} ${e.monitorName} processes (${monitors.slice(0, 5).join(' ')})`);
  const mounts = mountsUnder(e.dir).filter((m) => !baseMounts.includes(m) && !e.storageMounts.includes(m));
  if (mounts.length) found.push(`${mounts.length} mounts under ${e.dir} (${mounts[0]})`);
  if (e.name === 'brig') {
    let cgroups = 0;
    for (const h of readdirSync('/sys/fs/cgroup')) for (const id of ids) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) cgroups++;
    if (cgroups) found.push(`${cgroups} cgroup directories /sys/fs/cgroup/*/brig/<id>`);
    const sockets = ids.filter((id) => existsSync(path.join('/run/brig/sockets', id.slice(0, 12))));
    if (sockets.length) found.push(`${sockets.length} socket directories /run/brig/sockets/<id>`);
    const dirs = readdirSync(path.join(e.dir, 'containers'));
    if (dirs.length) found.push(`${dirs.length} container directories`);
  }
  return found;
}

const set = openEngines({ want: [which] });
const e = set.engines[0];
if (!e) {
  console.error(`density: ${which} is not available: ${set.skipped.get(which) ?? 'unknown'}`);
  set.close();
  process.exit(1);
}
try {
  console.log(`density: ${count} idle containers, ${e.version}; ${new Date().toISOString()}`);
  const before = meminfo();
  const baseMounts = mountsUnder(e.dir);
  const ids: string[] = [];
  const times: number[] = [];
  let failure: string | undefined;
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    try {
      const r = e.exec(e.runDetached);
      ids.push(r.stdout.trim().split('\n').at(-1)!);
      times.push(r.ms);
    } catch (err) {
      failure = `container ${i + 1} failed to start: ${(err as Error).message}`;
      break;
    }
    if ((i + 1) % 100 === 0) console.log(`  ${i + 1} started, ${((Date.now() - t0) / 1000).toFixed(0)} s so far; starts ${i - 98}-${i + 1}: median ${fmt(median(times.slice(-100)))}`);
  }
  const n = ids.length;
  console.log(`start: ${n} × run -d in ${fmt(times.reduce((a, b) => a + b, 0))} (median ${fmt(median(times))}, max ${fmt(Math.max(...times))})`);
  if (failure) console.log(`  STOPPED: ${failure}`);
  sleepMs(2000);
  console.log(measureMemory(e, n, before).join('\n'));
  const ps: number[] = [];
  for (let i = 0; i < psRounds; i++) {
    const r = e.exec(['ps']);
    const rows = r.stdout.trim().split('\n').length - 1;
    if (rows !== n) console.log(`  (ps listed ${rows} containers, expected ${n})`);
    ps.push(r.ms);
  }
  console.log(`ps with ${n} running containers: median ${fmt(median(ps))} of ${psRounds} (min ${fmt(Math.min(...ps))})`);
  // A start that failed may have left its container created: it goes too.
  const extra = e.exec(['ps', '-aq']).stdout.split('\n').filter((s) => s && !ids.some((id) => id.startsWith(s)));
  if (extra.length) console.log(`  (${extra.length} more container(s) not running: ${extra.join(' ')})`);
  const all = [...ids, ...extra];
  if (all.length) {
    try {
      const r = e.exec(e.rmForce(all));
      console.log(`rm -f of all ${all.length} (one command): ${fmt(r.ms)} (${fmt(r.ms / all.length)} per container)`);
    } catch (err) {
      console.log(`rm -f of all ${all.length} FAILED: ${(err as Error).message}`);
    }
  }
  // Clean-up may go on for a moment after rm returns (podman's conmon runs `podman container
  // cleanup`, which unmounts): given 30 s.
  const t1 = Date.now();
  let left = leftovers(e, ids, baseMounts);
  while (left.length && Date.now() - t1 < 30_000) {
    sleepMs(100);
    left = leftovers(e, ids, baseMounts);
  }
  if (Date.now() - t1 > 150) console.log(`  (the engine's clean-up went on for ${fmt(Date.now() - t1)} after rm returned)`);
  console.log(left.length ? `LEFT BEHIND:\n  ${left.join('\n  ')}` : `left behind: nothing (checked: monitors, mounts${e.name === 'brig' ? ', cgroups, socket and container directories' : ''})`);
  console.log(`host after removal: MemAvailable ${mib(meminfo().MemAvailable!)} MiB`);
} finally {
  set.close();
}
