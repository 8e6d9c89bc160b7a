/**
 * The cgroup managers against the real kernel, with ordinary processes: v1/hybrid on this
 * project's machines, v2 inside the VM (tests/vm/run-cgroup-v2.sh). The same tests, the
 * same assertions; only the manager the factory picks differs.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  allGone,
  cgroupHost,
  eventually,
  type Made,
  newManager,
  skip,
  sleep,
  spawnWaiting,
} from './support.js';

const made: Made[] = [];
async function fresh(): Promise<Made> {
  const m = await newManager();
  made.push(m);
  return m;
}
after(async () => {
  for (const m of made) await m.cleanup().catch(() => {});
});

describe('cgroup manager on the real kernel', { skip }, () => {
  test('reports the layout it manages', async () => {
    const host = await cgroupHost();
    const { manager } = await fresh();
    assert.equal(manager.version, host.layout === 'unified' ? 'v2' : 'v1');
    process.stderr.write(`# layout: ${host.layout}, manager ${manager.version}\n`);
  });

  test('apply moves the process in; pids lists it; destroy kills it and removes every directory', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('sleep 60');
    await manager.apply(w.pid);
    assert.ok(manager.state().created.length > 0);
    w.go();
    assert.ok(await eventually(async () => (await manager.pids()).length >= 1));
    assert.ok((await manager.pids()).includes(w.pid));
    await manager.destroy();
    const { signal } = await w.exited;
    assert.equal(signal, 'SIGKILL');
    assert.deepEqual(allGone(manager), []);
  });

  test('memory limit: a process allocating past it is OOM-killed and the OOM watch reports it', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('exec tail /dev/zero');
    await manager.apply(w.pid);
    await manager.set({ memory: { limit: 32 << 20 } });
    const stats = await manager.stats();
    assert.equal(stats.memory.usage.limit, 32 << 20);
    const abort = new AbortController();
    const seen = (async () => {
      for await (const e of manager.watchOom({ signal: abort.signal, intervalMs: 50 })) return e;
      return undefined;
    })();
    w.go();
    const { signal } = await w.exited;
    assert.equal(signal, 'SIGKILL');
    const event = await Promise.race([seen, sleep(5000).then(() => undefined)]);
    abort.abort();
    assert.ok(event && event.count >= 1, 'an OOM event arrives');
    assert.ok((await manager.oomKillCount()) >= 1);
    await manager.destroy();
    assert.deepEqual(allGone(manager), []);
  });

  test('pids limit stops a fork loop', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo done; wait');
    await manager.apply(w.pid);
    await manager.set({ pids: { limit: 8 } });
    assert.equal((await manager.stats()).pids.limit, 8);
    w.go();
    // Give the loop time to try all 40 forks.
    await eventually(async () => w.output().includes('done') || w.child.exitCode !== null, 5000);
    const pids = await manager.pids();
    assert.ok(pids.length <= 8, `${pids.length} tasks, limit 8`);
    assert.ok(pids.length >= 2, 'some forks succeeded');
    assert.ok(((await manager.stats()).pids.current ?? 0) <= 8);
    await manager.destroy();
    assert.deepEqual(allGone(manager), []);
  });

  test('cpu quota throttles (nr_throttled grows)', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('while :; do :; done');
    await manager.apply(w.pid);
    await manager.set({ cpu: { quota: 10_000, period: 100_000 } });
    w.go();
    const throttled = await eventually(
      async () => ((await manager.stats()).cpu.throttling.throttledPeriods ?? 0) > 2,
      8000,
    );
    const s = await manager.stats();
    assert.ok(throttled, `throttling ${JSON.stringify(s.cpu.throttling)}`);
    assert.ok((s.cpu.usage.total ?? 0) > 0);
    await manager.destroy();
  });

  test('freeze stops progress, thaw resumes it', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('while :; do :; done');
    await manager.apply(w.pid);
    w.go();
    await sleep(200);
    await manager.freeze();
    assert.equal(await manager.freezerState(), 'frozen');
    const a = (await manager.stats()).cpu.usage.total ?? 0;
    await sleep(500);
    const b = (await manager.stats()).cpu.usage.total ?? 0;
    assert.equal(b, a, 'no CPU time while frozen');
    await manager.thaw();
    assert.equal(await manager.freezerState(), 'thawed');
    assert.ok(
      await eventually(async () => ((await manager.stats()).cpu.usage.total ?? 0) > b, 5000),
      'runs again',
    );
    await manager.destroy();
  });

  test('set on a live cgroup changes its limits (update)', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('sleep 60');
    await manager.apply(w.pid);
    w.go();
    await manager.set({ memory: { limit: 256 << 20 }, pids: { limit: 100 } });
    await manager.set({ memory: { limit: 128 << 20 } });
    await manager.set({ pids: { limit: 50 } });
    const s = await manager.stats();
    assert.equal(s.memory.usage.limit, 128 << 20);
    assert.equal(s.pids.limit, 50);
    await manager.destroy();
    assert.deepEqual(allGone(manager), []);
  });

  test('a denied device cannot be opened, an allowed one can; update replaces the rules', async () => {
    const { manager } = await fresh();
    const probe =
      'if echo x > /dev/null; then echo null-ok; else echo null-denied; fi; if head -c1 /dev/zero | wc -c | grep -q 1; then echo zero-ok; else echo zero-denied; fi';
    const w = spawnWaiting(probe);
    await manager.apply(w.pid);
    const zeroOnly = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
    ];
    await manager.set({ devices: zeroOnly });
    w.go();
    await w.exited;
    assert.match(w.output(), /null-denied/);
    assert.match(w.output(), /zero-ok/);
    // Live update (v1: a diff against devices.list; v2: the new program replaces the old).
    await manager.set({
      devices: [...zeroOnly, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    });
    const again = spawnWaiting(probe);
    await manager.apply(again.pid);
    again.go();
    await again.exited;
    assert.match(again.output(), /null-ok/);
    assert.match(again.output(), /zero-ok/);
    await manager.destroy();
  });

  test('destroy of a cgroup whose processes fork children as they die leaves nothing', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('while :; do sleep 30 & done');
    await manager.apply(w.pid);
    await manager.set({ pids: { limit: 64 } });
    w.go();
    await sleep(300);
    await manager.destroy();
    assert.deepEqual(allGone(manager), []);
  });

  test('a limit the host cannot apply is an error naming the controller, never a no-op', async () => {
    const { manager } = await fresh();
    const w = spawnWaiting('sleep 60');
    await manager.apply(w.pid);
    const host = await cgroupHost();
    // v1 here has no net_cls mount; v2 has no realtime budget. Either way: CGROUP_UNSUPPORTED.
    const request =
      host.layout === 'unified' ? { cpu: { realtimeRuntime: 1000 } } : { network: { classID: 1 } };
    await assert.rejects(manager.set(request), (e: unknown) => {
      const err = e as { code?: string; message?: string };
      assert.equal(err.code, 'CGROUP_UNSUPPORTED');
      assert.match(err.message ?? '', host.layout === 'unified' ? /^cpu:/ : /^net_cls:/);
      return true;
    });
    await manager.destroy();
  });
});
