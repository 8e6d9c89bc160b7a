/**
 * Memory of an idle container's monitor: brig-monitor against podman's conmon, N idle
 * busybox containers each, measured in the same run. RSS counts a page once per process;
 * PSS divides shared pages among the processes that map them, so with N monitors the
 * binary's text costs each 1/N: PSS is the per-container cost that adds up.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMonitor } from '../src/engine/monitor/monitor.js';
import { compileMonitorPlan } from '../src/engine/monitor/plan.js';
import { busyboxBundle, has } from './runtime-run.js';
import { median } from './util.js';
import { readTextSync } from '../src/util/read-text.js';

function memory(pid: number): { rss: number; pss: number } {
  const text = readTextSync(`/proc/${pid}/smaps_rollup`);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kb('Rss'), pss: kb('Pss') };
}

function line(name: string, pids: number[]): string {
  const m = pids.map(memory);
  const mib = (kb: number) => (kb / 1024).toFixed(2);
  return `  ${name.padEnd(14)} RSS ${mib(median(m.map((x) => x.rss)))} MiB · PSS ${mib(median(m.map((x) => x.pss)))} MiB (median of ${pids.length})`;
}

async function brigMonitors(brigBin: string, n: number): Promise<{ pids: number[]; stop: () => void }> {
  const bundle = busyboxBundle(['sleep', '600']);
  const state = mkdtempSync(path.join(tmpdir(), 'brig-bench-mon-'));
  const ids: string[] = [];
  const pids: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `bench-mon-${process.pid}-${i}`;
    const dir = path.join(state, id);
    mkdirSync(dir);
    const rt = [brigBin, '--root', path.join(state, 'runtime')];
    const plan = compileMonitorPlan({
      dir,
      socketDir: dir,
      log: { driver: 'json-file', maxSize: 0, maxFiles: 1 },
      tty: false,
      stdin: true,
      starter: (f) => ({ argv: [...rt, 'run', '-d', '--bundle', bundle, '--pid-file', f.pid, id], env: [] }),
      onExit: { argv: [...rt, 'delete', '--force', id], env: [] },
    });
    pids.push((await startMonitor(plan)).monitorPid);
    ids.push(id);
  }
  return {
    pids,
    stop() {
      for (const id of ids) spawnSync(brigBin, ['--root', path.join(state, 'runtime'), 'delete', '--force', id]);
      rmSync(state, { recursive: true, force: true });
      rmSync(bundle, { recursive: true, force: true });
    },
  };
}

function conmons(n: number): { pids: number[]; stop: () => void } | string {
  if (!has('podman')) return 'podman not installed';
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-bench-podman-'));
  const conf = path.join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const podman = (args: string[]) =>
    spawnSync('podman', ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc', ...args], {
      env: { ...process.env, CONTAINERS_CONF: conf },
      encoding: 'utf8',
    });
  const bundle = busyboxBundle(['true']);
  spawnSync('tar', ['-C', path.join(bundle, 'rootfs'), '-cf', path.join(dir, 'bb.tar'), '.']);
  podman(['import', path.join(dir, 'bb.tar'), 'localhost/bench-bb:1']);
  // runc: Debian's crun 1.8 refuses this machine's hybrid cgroups.
  for (let i = 0; i < n; i++) podman(['run', '-d', '--network', 'none', '--name', `bench-${i}`, 'localhost/bench-bb:1', 'sleep', '600']);
  const pids = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`).endsWith('/conmon') && readTextSync(`/proc/${p}/cmdline`).includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
  return {
    pids,
    stop() {
      podman(['rm', '-f', '-t', '0', '-a']);
      rmSync(dir, { recursive: true, force: true });
      rmSync(bundle, { recursive: true, force: true });
    },
  };
}

export async function benchMonitor(brigBin: string, n = 10): Promise<string> {
  const lines = [`idle container monitor memory (${n} idle busybox containers each)`];
  const brig = await brigMonitors(brigBin, n);
  try {
    await new Promise((r) => setTimeout(r, 300));
    lines.push(line('brig-monitor', brig.pids));
  } finally {
    brig.stop();
  }
  const peer = conmons(n);
  if (typeof peer === 'string') lines.push(`  conmon         skipped: ${peer}`);
  else {
    try {
      lines.push(peer.pids.length ? line('conmon', peer.pids) : '  conmon         no conmon process found');
    } finally {
      peer.stop();
    }
  }
  return lines.join('\n');
}
