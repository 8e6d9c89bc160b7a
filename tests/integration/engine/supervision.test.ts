/**
 * The monitor's supervision on the real kernel, below the CLI: health probes through the
 * native helper (joining the container's namespaces and cgroups: CLONE_INTO_CGROUP on v2),
 * restarts by policy, and OOM accounting from the memory cgroup. Runs on this host's cgroup
 * v1 and in the cgroup v2 VM (tests/vm/cgroup-v2.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { exitCode, readExitRecord, type RunRecord, startMonitor } from '../../../src/engine/monitor/monitor.js';
import { encodePlan } from '../../../src/native/encode.js';
import { Helper } from '../../../src/native/helper.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { readTextSync } from '../../../src/util/read-text.js';
import { HELPER, leftovers, makeBundle } from '../../support/bundle.js';
import { box, boxId, waitExit, waitGone } from '../../support/monitor-box.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readTextSync(file)) as T;
  } catch {
    return undefined;
  }
}

test('a health probe runs in the container: its cgroup, pid and mount namespaces; healthy, then unhealthy', { skip }, async () => {
  const id = boxId();
  const b = makeBundle(['sleep', '300']);
  const runtime = new Runtime({ root: b.stateRoot, helper: new Helper(HELPER) });
  const spec = await runtime.loadSpec(b.dir);
  // Healthy while /tmp/ok exists (the container's own /tmp: a tmpfs of its mount namespace).
  const probe = ['sh', '-c', 'cat /proc/self/cgroup; echo pid1=$(cat /proc/1/comm); test ! -e /tmp/bad'];
  const plan = await runtime.probePlan(id, b.dir, { ...spec.process!, terminal: false, args: probe });
  const x = box(['sleep', '300'], {
    id,
    bundle: b,
    health: { helper: HELPER, plan: encodePlan(plan), intervalMs: 200, timeoutMs: 5000, startPeriodMs: 0, startIntervalMs: 0, retries: 2 },
  });
  try {
    const started = await startMonitor(x.plan);
    const h = await until('healthy', 10_000, () => (readJson<Health>(x.plan.files.health)?.Status === 'healthy' ? readJson<Health>(x.plan.files.health) : undefined));
    const out = h.Log[0]!.Output;
    assert.equal(h.Log[0]!.ExitCode, 0, out);
    // Its cgroup namespace's root is the container's cgroup; pid 1 is the container's sleep.
    assert.match(out, /^0::\/$|^\d+:[^:]*:\/$/m, out);
    assert.match(out, /pid1=sleep\n$/);
    // The probe's process was in the container's cgroup: on v2 it was cloned there.
    const procsFile = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup'].map((m) => `${m}/brig/${id}/cgroup.procs`).find((f) => existsSync(f))!;
    assert.ok(readTextSync(procsFile).split('\n').includes(String(started.pid)));
    // The container makes the probe fail: unhealthy after two failures.
    const spawned = await runtime.exec(id, { ...spec.process!, terminal: false, args: ['sh', '-c', '>/tmp/bad'] }, { stdio: ['ignore', 'ignore', 'ignore'] });
    assert.equal(await spawned.exit, 0);
    const bad = await until('unhealthy', 10_000, () => (readJson<Health>(x.plan.files.health)?.Status === 'unhealthy' ? readJson<Health>(x.plan.files.health) : undefined));
    assert.equal(bad.FailingStreak, 2);
    assert.equal(bad.Log.at(-1)!.ExitCode, 1);
    process.kill(started.pid, 'SIGKILL');
    await waitExit(x.plan);
    await waitGone(started.monitorPid); // the exit record comes before the on-exit delete
    assert.deepEqual(leftovers(x.b), []);
  } finally {
    x.cleanup();
  }
});

test('on-failure:2: the monitor runs the container three times, run.json and the exit record count the restarts', { skip }, async () => {
  const x = box(['sh', '-c', 'echo run; exit 4'], { restart: { policy: 'on-failure', max: 2 } });
  try {
    const m = await startMonitor(x.plan);
    const r = await waitExit(x.plan, 20_000);
    await waitGone(m.monitorPid);
    assert.equal(exitCode(r), 4);
    assert.equal(r.restartCount, 2);
    const runs = readTextSync(x.plan.files.log!).split('\n').filter((l) => l.includes('"run\\n"'));
    assert.equal(runs.length, 3);
    assert.deepEqual(leftovers(x.b), [], 'the last on-exit delete removed the runtime state and cgroups');
  } finally {
    x.cleanup();
  }
});

test('always: restarted until the stop marker is there, then not', { skip }, async () => {
  const x = box(['sh', '-c', 'sleep 0.1; exit 0'], { restart: { policy: 'always', max: 0 } });
  try {
    const m = await startMonitor(x.plan);
    await until('two restarts', 15_000, () => {
      const run = readJson<RunRecord>(x.plan.files.run);
      return run && run.restartCount >= 2 ? true : undefined;
    });
    writeFileSync(x.plan.files.stopped, '');
    const r = await waitExit(x.plan, 10_000);
    await waitGone(m.monitorPid);
    assert.equal(exitCode(r), 0);
    assert.ok((r.restartCount ?? 0) >= 2);
    assert.deepEqual(leftovers(x.b), []);
  } finally {
    x.cleanup();
  }
});

test('OOM: a container its memory cgroup kills is recorded with its OOM kills, exit code 137 (v1 and v2)', { skip }, async () => {
  const x = box(['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], {
    oom: true,
    edit: (s) => (s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } }),
  });
  try {
    await startMonitor(x.plan);
    const r = await waitExit(x.plan, 30_000);
    assert.equal(r.signal, 9);
    assert.equal(exitCode(r), 137);
    assert.ok(r.oomKills >= 1, JSON.stringify(r));
    assert.deepEqual(readExitRecord(x.plan), r);
  } finally {
    x.cleanup();
  }
});
