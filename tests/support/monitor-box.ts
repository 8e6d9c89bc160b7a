/**
 * A busybox container under a real monitor, for integration tests: the bundle, a plan whose
 * starter is brig-runtime (run -d) and whose on-exit command deletes it, and clean-up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExitRecord, readExitRecord } from '../../src/engine/monitor/monitor.js';
import { compileMonitorPlan, type LogConfig, type MonitorPlan, type MonitorSpec } from '../../src/engine/monitor/plan.js';
import type { Spec } from '../../src/runtime/spec/types.js';
import { Helper } from '../../src/native/helper.js';
import type { Stage0 } from '../../src/native/stage0.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { type Bundle, HELPER, makeBundle, RUNTIME_BIN } from './bundle.js';

export interface Box {
  b: Bundle;
  id: string;
  plan: MonitorPlan;
  cleanup(): void;
}

/** The OOM counter of the runtime's default cgroup for `id`: v1's memory.oom_control, else v2's memory.events. */
export function oomCounter(id: string): { path: string; key: string } {
  return existsSync('/sys/fs/cgroup/memory/tasks')
    ? { path: `/sys/fs/cgroup/memory/brig/${id}/memory.oom_control`, key: 'oom_kill' }
    : { path: `/sys/fs/cgroup/brig/${id}/memory.events`, key: 'oom_kill' };
}

export interface BoxOptions {
  log?: Partial<LogConfig>;
  edit?: (s: Spec) => void;
  stdin?: boolean;
  tty?: boolean;
  oom?: boolean;
  hold?: boolean;
  restart?: MonitorSpec['restart'];
  health?: MonitorSpec['health'];
  events?: MonitorSpec['events'];
  finalExit?: MonitorSpec['finalExit'];
  exitGrace?: MonitorSpec['exitGrace'];
  /** The first run's stage 0 forked by the monitor for the test to drive (startMonitor's drive; see driveWith). */
  stage0?: boolean;
  /** The id and bundle to use (a health plan is compiled for them before the box is made). */
  id?: string;
  bundle?: Bundle;
}

export function box(args: string[], opts: BoxOptions = {}): Box {
  const id = opts.id ?? boxId();
  const b =
    opts.bundle ??
    makeBundle(args, (s) => {
      s.process!.terminal = opts.tty ?? false;
      opts.edit?.(s);
    });
  const dir = path.join(b.dir, 'ctr');
  const socketDir = mkdtempSync(path.join(tmpdir(), 'bm-'));
  spawnSync('mkdir', ['-p', dir]);
  const rt = [RUNTIME_BIN, '--root', b.stateRoot, '--log', path.join(dir, 'runtime.log')];
  const plan = compileMonitorPlan({
    dir,
    socketDir,
    log: { driver: 'json-file', maxSize: 0, maxFiles: 1, ...opts.log },
    tty: opts.tty ?? false,
    stdin: opts.stdin ?? false,
    starter: (f) => ({
      argv: [...rt, 'run', '-d', '--bundle', b.dir, '--pid-file', f.pid, ...(f.console ? ['--console-socket', f.console] : []), id],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
    }),
    ...(opts.oom ? { oomCounter: oomCounter(id) } : {}),
    onExit: { argv: [...rt, 'delete', '--force', id], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    ...(opts.hold ? { hold: true } : {}),
    ...(opts.restart ? { restart: opts.restart } : {}),
    ...(opts.health ? { health: opts.health } : {}),
    ...(opts.events ? { events: opts.events } : {}),
    ...(opts.finalExit ? { finalExit: opts.finalExit } : {}),
    ...(opts.exitGrace ? { exitGrace: opts.exitGrace } : {}),
    ...(opts.stage0 ? { stage0: { helper: HELPER } } : {}),
  });
  return {
    b,
    id,
    plan,
    cleanup() {
      spawnSync(RUNTIME_BIN, ['--root', b.stateRoot, 'delete', '--force', id]);
      b.cleanup();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * What the engine does with a box whose plan has the stage0 op: drives the monitor's stage 0
 * with a runtime in this process, detached, leaving init's pid in the plan's pid file.
 */
export function driveWith(x: Box): (stage0: Promise<Stage0>) => Promise<void> {
  const runtime = new Runtime({ root: x.b.stateRoot, helper: new Helper(HELPER) });
  const f = x.plan.files;
  return async (stage0) => {
    await runtime.run(x.id, { bundle: x.b.dir, detach: true, pidFile: f.pid, ...(f.console ? { consoleSocket: f.console } : {}), stdio: [], stage0 });
  };
}

export function boxId(): string {
  return `mon-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function waitExit(plan: MonitorPlan, ms = 15_000): Promise<ExitRecord> {
  const until = Date.now() + ms;
  for (;;) {
    const r = readExitRecord(plan);
    if (r) return r;
    if (Date.now() > until) throw new Error('no exit record');
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Waits until the monitor is gone (it exits after the on-exit command). */
export async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`monitor ${pid} still running`);
}
