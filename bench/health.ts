/**
 * What a health probe costs: brig's monitor against docker (dockerd from docker.io), in one
 * run, on the same busybox image, with `--health-cmd true` (docker's CMD-SHELL: both run
 * `/bin/sh -c true` in the container) every BENCH_HEALTH_INTERVAL_MS (1000):
 *
 *  1. Wall time of one probe: the median of End - Start of the probes' State.Health.Log
 *     entries, as each engine records them.
 *  2. CPU time of one probe: the user + system time of every process that takes part,
 *     counted over BENCH_HEALTH_PROBES (30) probes and divided by their number, less what
 *     the same processes spend idle over as long a window with a container without a health
 *     check. brig: the container's monitor, its own time and its reaped children's (the
 *     helper, and the probe the helper reaps). docker: dockerd, its containerd and the
 *     container's containerd-shim-runc-v2, each with its reaped children (the shim reaps
 *     `runc exec` and the probe).
 *  3. Memory (RSS, PSS) of a monitor that runs probes against an idle one, and docker's shim
 *     for a container with probes: medians of BENCH_HEALTH_CONTAINERS (5) each.
 *
 * The two engines' containers probe at the same time, so the machine's noise hits both
 * alike. The probe log is read from the files the engines keep it in (brig's health.json,
 * docker's config.v2.json, both rewritten after every probe), not through `inspect`: a
 * `docker inspect` is dockerd's work and would be charged to the probes. Both hold only the
 * last five results, so the bench reads them every 100 ms and keeps every one it sees.
 *
 * podman runs its health checks from systemd timers: on a host without systemd no probe
 * runs. When podman is set up, the bench shows that, and times `podman healthcheck run` (a
 * probe on demand) as an extra, labelled row.
 *
 * Environment: BENCH_HEALTH=0 skips this part (in npm run bench); BENCH_HEALTH_PROBES (30),
 * BENCH_HEALTH_INTERVAL_MS (1000), BENCH_HEALTH_CONTAINERS (5), BENCH_HEALTH_PODMAN_RUNS
 * (10); BENCH_ENGINE_SKIP=podman leaves podman out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTextSync } from '../src/util/read-text.js';
import { compare } from './engine.js';
import { type EngineUnderTest, IMAGE, openEngines } from './engines.js';
import { memory, mib } from './monitor.js';
import { median, sleepMs } from './util.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

/** ms per clock tick, the unit of /proc/PID/stat's times. */
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

interface LogEntry {
  Start: string;
  End: string;
  ExitCode: number;
}

/** A container under test and how to read what it costs. */
interface Subject {
  engine: EngineUnderTest;
  id: string;
  /** Its monitor: brig-monitor, or docker's containerd-shim-runc-v2 (the init's parent). */
  monitor: number;
}

/** RFC 3339 with nanoseconds to ms, keeping the sub-ms digits Date.parse drops. */
function timeMs(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new Error(`not an RFC 3339 time: ${s}`);
  return Date.parse(m[1]! + m[3]!) + Number(`0${m[2] ?? ''}`) * 1000;
}

/** utime + stime of the process and cutime + cstime of the children it reaped, in ticks. */
function ticks(pid: number): { own: number; reaped: number } {
  const stat = readTextSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // f[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
  return { own: f[11]! + f[12]!, reaped: f[13]! + f[14]! };
}

/**
 * CPU ticks of the processes a probe of this container costs, by part: brig's monitor, its
 * own and its reaped children's (helper and probe); docker's daemons and the shim (with
 * runc and the probe, which it reaps).
 */
function cpu(s: Subject): Map<string, number> {
  const m = ticks(s.monitor);
  if (s.engine.name !== 'docker') return new Map([['monitor', m.own], ['helper and probe', m.reaped]]);
  const [dockerd, containerd] = s.engine.daemons().map(ticks);
  return new Map([['dockerd', dockerd!.own + dockerd!.reaped], ['containerd', containerd!.own + containerd!.reaped], ['shim, runc and probe', m.own + m.reaped]]);
}

const total = (parts: Map<string, number>) => [...parts.values()].reduce((a, b) => a + b, 0);

function minus(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  return new Map([...a].map(([k, v]) => [k, v - b.get(k)!]));
}

/**
 * The probe log as the engine last wrote it (what `inspect` shows as .State.Health.Log).
 * A read racing a rewrite is no loss: both engines rename a new file into place.
 */
function healthLog(s: Subject): LogEntry[] {
  const file =
    s.engine.name === 'brig' ? path.join(s.engine.dir, 'containers', s.id, 'health.json') : path.join(s.engine.dir, 'data', 'containers', s.id, 'config.v2.json');
  try {
    const j = JSON.parse(readTextSync(file)) as { Log?: LogEntry[]; State?: { Health?: { Log?: LogEntry[] } } };
    return (s.engine.name === 'brig' ? j.Log : j.State?.Health?.Log) ?? [];
  } catch {
    return [];
  }
}

/** Starts `n` containers (`sleep`, with or without the probe); their ids and monitors. */
function start(e: EngineUnderTest, n: number, probe: string[]): Subject[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(e.exec([...e.runDetached.slice(0, -3), ...probe, ...e.runDetached.slice(-3)]).stdout.trim().split('\n').at(-1)!);
  // The init's parent is the monitor for both (brig's monitor, docker's shim: subreapers).
  const pids = e.exec(['inspect', '-f', '{{.State.Pid}}', ...ids]).stdout.trim().split('\n').map(Number);
  return ids.map((id, i) => {
    const stat = readTextSync(`/proc/${pids[i]}/stat`);
    return { engine: e, id, monitor: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  });
}

function remove(subjects: Subject[]): void {
  for (const e of new Set(subjects.map((s) => s.engine))) {
    const ids = subjects.filter((s) => s.engine === e).map((s) => s.id);
    if (ids.length) e.exec(e.rmForce(ids));
  }
}

interface Window {
  probes: LogEntry[];
  ms: number;
  /** CPU ticks by part over the window. */
  ticks: Map<string, number>;
}

/**
 * `n` probes of each subject: CPU snapshots right after a probe is logged (within the 100 ms
 * of a read; the next probe is an interval away, so none is half counted), and every probe's
 * log entry in between. The subjects probe at the same time.
 */
function probeWindows(subjects: Subject[], n: number, intervalMs: number): Map<Subject, Window> {
  const seen = new Map(subjects.map((s) => [s, new Map<string, LogEntry>()]));
  // What the first read found: the window opens when a probe is logged after it.
  const armed = new Map<Subject, number>();
  const from = new Map<Subject, { t: number; ticks: Map<string, number>; count: number }>();
  const out = new Map<Subject, Window>();
  const deadline = Date.now() + (n + 2) * intervalMs * 4 + 60_000;
  while (out.size < subjects.length) {
    if (Date.now() > deadline) throw new Error(`health: ${n} probes not logged in time (${subjects.map((s) => `${s.engine.name}: ${seen.get(s)!.size}`).join(', ')})`);
    for (const s of subjects) {
      if (out.has(s)) continue;
      const log = seen.get(s)!;
      for (const entry of healthLog(s)) if (!log.has(entry.Start)) log.set(entry.Start, entry);
      if (!armed.has(s)) armed.set(s, log.size);
      if (log.size === armed.get(s)) continue;
      const t = performance.now();
      const first = from.get(s);
      if (!first) from.set(s, { t, ticks: cpu(s), count: log.size });
      else if (log.size >= first.count + n) {
        const probes = [...log.values()].slice(first.count, first.count + n);
        out.set(s, { probes, ms: t - first.t, ticks: minus(cpu(s), first.ticks) });
      }
    }
    sleepMs(100);
  }
  return out;
}

/** The same processes' CPU over `ms` with no probe: ticks per ms. */
function idleRates(subjects: Subject[], ms: number): Map<Subject, number> {
  const before = new Map(subjects.map((s) => [s, total(cpu(s))]));
  const t0 = performance.now();
  sleepMs(ms);
  const elapsed = performance.now() - t0;
  return new Map(subjects.map((s) => [s, (total(cpu(s)) - before.get(s)!) / elapsed]));
}

const wallMs = (e: LogEntry) => timeMs(e.End) - timeMs(e.Start);

/** The files read are what `inspect` shows: some of its entries must be probes of the window. */
function checkAgainstInspect(s: Subject, probes: LogEntry[]): void {
  const shown = JSON.parse(s.engine.exec(['inspect', '-f', '{{json .State.Health.Log}}', s.id]).stdout) as LogEntry[];
  if (!shown.some((a) => probes.some((b) => a.Start === b.Start && a.End === b.End))) {
    throw new Error(`health: ${s.engine.name}'s inspect shows none of the probes read from its file`);
  }
}

/** 1 and 2: wall and CPU time of one probe, brig against docker. */
function probeCost(engines: EngineUnderTest[], n: number, intervalMs: number, probe: string[], print: (s: string) => void): Subject | undefined {
  const probing = engines.filter((e) => e.name !== 'podman');
  const subjects = probing.flatMap((e) => start(e, 1, probe));
  // podman's container too, to show whether anything probes it in the same time.
  const pod = engines.find((e) => e.name === 'podman');
  const podSubject = pod ? start(pod, 1, probe)[0] : undefined;
  const windows = probeWindows(subjects, n, intervalMs);
  for (const s of subjects) checkAgainstInspect(s, windows.get(s)!.probes);
  remove(subjects);

  // The idle baseline: the same processes, a container without a health check, as long.
  const idle = probing.flatMap((e) => start(e, 1, []));
  sleepMs(intervalMs + 500);
  const longest = Math.max(...[...windows.values()].map((w) => w.ms));
  const rates = idleRates(idle, longest);
  remove(idle);

  const wall = new Map<string, number>();
  const cpuMs = new Map<string, number>();
  const parts: string[] = [];
  const cpuDetail = new Map<string, string>();
  for (const s of subjects) {
    const w = windows.get(s)!;
    const failed = w.probes.filter((p) => p.ExitCode !== 0).length;
    if (failed) throw new Error(`health: ${failed} of ${s.engine.name}'s probes failed`);
    const idleTicks = rates.get(idle.find((i) => i.engine === s.engine)!)! * w.ms;
    wall.set(s.engine.name, median(w.probes.map(wallMs)));
    cpuMs.set(s.engine.name, ((total(w.ticks) - idleTicks) * TICK_MS) / n);
    cpuDetail.set(s.engine.name, `· ${total(w.ticks)} ticks in ${(w.ms / 1000).toFixed(1)} s, less ${idleTicks.toFixed(1)} idle`);
    parts.push(`    ${s.engine.name}: ${[...w.ticks].map(([k, v]) => `${k} ${((v * TICK_MS) / n).toFixed(1)}`).join(' · ')} ms per probe (idle not subtracted)`);
  }
  const who = 'brig: its monitor with the helper and probe it reaps; docker: dockerd, containerd, the shim with runc and the probe';
  print(compare(`wall time of one probe, End - Start of the probe log (median of ${n}; ${intervalMs} ms interval, both probing at once)`, wall).join('\n'));
  print(compare(`CPU time of one probe (${who}; over ${n} probes, idle baseline subtracted)`, cpuMs, cpuDetail).join('\n'));
  print(parts.join('\n'));
  if (pod && podSubject) {
    const log = JSON.parse(pod.exec(['inspect', '-f', '{{json .State.Health}}', podSubject.id]).stdout) as { Status: string; Log: LogEntry[] | null };
    const systemd = existsSync('/run/systemd/system') ? 'this host runs systemd' : 'this host has no systemd';
    print(`  podman   left out: its health checks run from systemd timers and ${systemd}; its container, started with the same flags, logged ${log.Log?.length ?? 0} probes meanwhile (status ${log.Status})`);
  }
  return podSubject;
}

/** podman's probe on demand (`podman healthcheck run`): the CLI's wall and CPU, the logged End - Start. */
function podmanOnDemand(s: Subject, runs: number, print: (s: string) => void): void {
  const e = s.engine;
  const wall: number[] = [];
  const logged: number[] = [];
  const cpu: number[] = [];
  e.exec(['healthcheck', 'run', s.id]);
  for (let i = 0; i < runs; i++) {
    // The CLI is this process's child: its CPU and what it reaps show in our cutime + cstime.
    const before = ticks(process.pid).reaped;
    wall.push(e.exec(['healthcheck', 'run', s.id]).ms);
    cpu.push((ticks(process.pid).reaped - before) * TICK_MS);
    const log = (JSON.parse(e.exec(['inspect', '-f', '{{json .State.Health.Log}}', s.id]).stdout) as LogEntry[]).at(-1)!;
    logged.push(wallMs(log));
  }
  print(`  podman, on demand: \`podman healthcheck run\` ${runs} times (not a scheduled probe; not comparable with the rows above)`);
  print(`    End - Start in its log ${median(logged).toFixed(1)} ms · the CLI's wall time ${median(wall).toFixed(1)} ms · CPU of the CLI and what it reaps ${median(cpu).toFixed(1)} ms`);
  print('    (a lower bound: the exec session\'s conmon daemonizes, and it, runc exec and the probe are not podman\'s children)');
}

/** 3: memory of monitors of containers that probe against idle ones. */
function monitorMemory(engines: EngineUnderTest[], count: number, intervalMs: number, probe: string[], print: (s: string) => void): void {
  const probing = engines.filter((e) => e.name !== 'podman');
  const rows: { label: string; subjects: Subject[] }[] = [];
  for (const e of probing) {
    rows.push({ label: `${e.monitorName}, probing`, subjects: start(e, count, probe) });
    rows.push({ label: `${e.monitorName}, idle`, subjects: start(e, count, []) });
  }
  try {
    // Memory after a few probes each, so whatever a probe leaves in the monitor is counted.
    const deadline = Date.now() + 20 * intervalMs + 60_000;
    const probed = rows.filter((r) => r.label.endsWith('probing')).flatMap((r) => r.subjects);
    while (probed.some((s) => healthLog(s).length < 3)) {
      if (Date.now() > deadline) throw new Error('health: containers did not log 3 probes in time');
      sleepMs(200);
    }
    print(`monitor memory, ${count} containers per row, all running together (probing: after ≥3 probes every ${intervalMs} ms; medians)`);
    let brig: { rss: number; pss: number } | undefined;
    for (const r of rows) {
      const m = r.subjects.map((s) => memory(s.monitor));
      const rss = median(m.map((x) => x.rss));
      const pss = median(m.map((x) => x.pss));
      if (r.label === 'brig-monitor, probing') brig = { rss, pss };
      const ratio = r.label.endsWith('probing') && !r.label.startsWith('brig') && brig ? `  brig probing = ${(brig.rss / rss).toFixed(2)}× RSS, ${(brig.pss / pss).toFixed(2)}× PSS` : '';
      print(`  ${r.label.padEnd(34)} RSS ${mib(rss).padStart(6)} MiB · PSS ${mib(pss).padStart(5)} MiB${ratio}`);
    }
  } finally {
    remove(rows.flatMap((r) => r.subjects));
  }
}

export function benchHealth(print: (s: string) => void): void {
  const n = num('BENCH_HEALTH_PROBES', 30);
  const intervalMs = num('BENCH_HEALTH_INTERVAL_MS', 1000);
  const count = num('BENCH_HEALTH_CONTAINERS', 5);
  const podmanRuns = num('BENCH_HEALTH_PODMAN_RUNS', 10);
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  // `true` as docker's CMD-SHELL: every engine runs /bin/sh -c true in the container.
  const probe = ['--health-cmd', 'true', '--health-interval', `${intervalMs}ms`];
  const set = openEngines({ skip });
  try {
    const { engines } = set;
    print(`health probes, \`run -d --health-cmd true --health-interval ${intervalMs}ms ${IMAGE} sleep 100000\` (peers with --network none):`);
    for (const e of engines) print(`  ${e.name.padEnd(8)} ${e.version}`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    if (!engines.some((e) => e.name === 'docker')) print('  (no docker: brig alone)');
    print('');
    const pod = probeCost(engines, n, intervalMs, probe, print);
    if (pod) podmanOnDemand(pod, podmanRuns, print);
    print('');
    monitorMemory(engines, count, intervalMs, probe, print);
  } finally {
    set.close();
  }
}

// `node dist/bench/health.js`: this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchHealth((s) => console.log(s));
