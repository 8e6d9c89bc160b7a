/**
 * Resource control through brig-runtime, on whatever cgroup layout the machine has (this
 * project's hosts are hybrid v1; CI runs the same file on cgroup v2 in a VM): limits set at
 * start, OOM kills reported by events, fork bombs stopped, cpu throttled, devices denied,
 * pause/resume, update of a running container, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { spawn, spawnSync } from 'node:child_process';
import { brigRuntime, brigRuntimeAsync, leftovers, makeBundle, RUNTIME_BIN, runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function detached(args: string[], edit: (s: Spec) => void, id: string) {
  const b = makeBundle(args, edit);
  const r = brigRuntime(b, ['run', '-d', id]);
  assert.equal(r.code, 0, r.stderr);
  const stats = () => JSON.parse(brigRuntime(b, ['events', '--stats', id]).stdout).data;
  return {
    b,
    stats,
    done() {
      brigRuntime(b, ['delete', '--force', id]);
      const left = leftovers(b);
      b.cleanup();
      assert.deepEqual(left, []);
    },
  };
}

test('limits are in place before the program runs', { skip }, () => {
  const r = runIn(['sh', '-c', 'cat /proc/self/cgroup | grep -c /brig/; echo ok'], (s) => {
    s.linux!.resources = { pids: { limit: 20 }, memory: { limit: 128 << 20 } };
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok/);
  assert.deepEqual(r.leftovers, []);
});

test('a process allocating past the memory limit is OOM-killed and events reports it', { skip }, async () => {
  const c = detached(['sh', '-c', 'sleep 1; tail /dev/zero; sleep 30'], (s) => {
    s.linux!.resources = { memory: { limit: 32 << 20, swap: 32 << 20 } };
  }, 'oom');
  try {
    const child = spawn(RUNTIME_BIN, ['--root', c.b.stateRoot, 'events', '--interval', '200ms', 'oom'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 100 && !out.includes('"type":"oom"'); i++) await sleep(100);
    child.kill();
    assert.match(out, /\{"type":"oom","id":"oom"\}/);
    assert.match(out, /\{"type":"stats","id":"oom","data":\{/);
  } finally {
    c.done();
  }
});

test('a fork bomb stops at the pids limit and the host stays responsive', { skip }, async () => {
  // The classic bomb, in shell: every function call forks two more. init starts it and
  // becomes sleep by exec: a fork of its own could fail at the limit and end the container.
  const c = detached(['sh', '-c', 'b() { b | b & }; b & exec sleep 30'], (s) => {
    s.linux!.resources = { pids: { limit: 16 } };
  }, 'bomb');
  try {
    await sleep(1000);
    const pids = c.stats().pids;
    assert.ok(pids.current <= 16 && pids.current >= 8, JSON.stringify(pids));
    const t0 = Date.now();
    assert.equal(spawnSync('true').status, 0);
    assert.ok(Date.now() - t0 < 1000, 'the host is slow to fork');
  } finally {
    c.done(); // delete --force must kill every process of the bomb and remove the cgroup
  }
});

test('cpu quota throttles (throttled periods grow)', { skip }, async () => {
  const c = detached(['sh', '-c', 'while :; do :; done'], (s) => {
    s.linux!.resources = { cpu: { quota: 10000, period: 100000 } };
  }, 'cpu');
  try {
    await sleep(1200);
    const t = c.stats().cpu.throttling;
    assert.ok(t.throttledPeriods > 0, JSON.stringify(t));
  } finally {
    c.done();
  }
});

test('a device outside the allowed set cannot be created or opened, even by root', { skip }, () => {
  const caps = ['CAP_MKNOD', 'CAP_DAC_OVERRIDE', 'CAP_SYS_ADMIN'];
  // In /dev (a tmpfs without nodev), so only the cgroup stands in the way.
  const r = runIn(['sh', '-c', 'mknod /dev/xmem c 1 1 && echo MADE-MEM; mknod /dev/xnull c 1 3 && echo MADE-NULL; cat /dev/xnull && echo READ-NULL'], (s) => {
    s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
  });
  assert.doesNotMatch(r.stdout, /MADE-MEM/);
  assert.match(r.stdout, /MADE-NULL/);
  assert.match(r.stdout, /READ-NULL/);
});

test('pause stops progress, resume continues it, state says paused', { skip }, async () => {
  const c = detached(['sh', '-c', 'while :; do :; done'], () => {}, 'pz');
  const cpu = () => c.stats().cpu.usage.total as number;
  try {
    await sleep(200);
    assert.equal(brigRuntime(c.b, ['pause', 'pz']).code, 0);
    assert.equal(JSON.parse(brigRuntime(c.b, ['state', 'pz']).stdout).status, 'paused');
    const a = cpu();
    await sleep(400);
    assert.equal(cpu(), a, 'cpu time grew while paused');
    assert.notEqual(brigRuntime(c.b, ['pause', 'pz']).code, 0, 'pausing twice is an error');
    assert.equal(brigRuntime(c.b, ['resume', 'pz']).code, 0);
    await sleep(300);
    assert.ok(cpu() > a, 'no progress after resume');
    assert.equal(JSON.parse(brigRuntime(c.b, ['state', 'pz']).stdout).status, 'running');
  } finally {
    c.done();
  }
});

test('update changes the limits of a running container; ps lists its pids', { skip }, async () => {
  const c = detached(['sleep', '30'], (s) => {
    s.linux!.resources = { pids: { limit: 10 } };
  }, 'up');
  try {
    assert.equal(c.stats().pids.limit, 10);
    const r = brigRuntime(c.b, ['update', '--pids-limit', '33', '--memory', '96m', 'up']);
    assert.equal(r.code, 0, r.stderr);
    const s = c.stats();
    assert.equal(s.pids.limit, 33);
    assert.equal(s.memory.usage.limit, 96 << 20);
    const viaFile = brigRuntime(c.b, ['update', '-r', '-', 'up'], { input: '{"pids": {"limit": 44}}' });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.equal(c.stats().pids.limit, 44);
    const pids = JSON.parse(brigRuntime(c.b, ['ps', '--format', 'json', 'up']).stdout);
    const state = JSON.parse(brigRuntime(c.b, ['state', 'up']).stdout);
    assert.deepEqual(pids, [state.pid]);
    const table = brigRuntime(c.b, ['ps', 'up', '-o', 'pid,comm']).stdout;
    assert.match(table, /^\s*PID\s+COMMAND\n\s*\d+ sleep\n$/);
    const bad = brigRuntime(c.b, ['update', '--memory', 'lots', 'up']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--memory: "lots" is not a size/);
  } finally {
    c.done();
  }
});

test('verbs on a stopped container are clear errors', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    for (const verb of ['pause', 'resume', 'update --pids-limit 5']) {
      const r = brigRuntime(b, [...verb.split(' '), 'nope']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /container "nope" does not exist/);
    }
  } finally {
    b.cleanup();
  }
});

test('with a cgroup namespace the container sees its own cgroup as the root', { skip }, () => {
  const r = runIn(['cat', '/proc/self/cgroup'], (s) => {
    if (!s.linux!.namespaces!.some((n) => n.type === 'cgroup')) s.linux!.namespaces!.push({ type: 'cgroup' });
  });
  assert.equal(r.code, 0, r.stderr);
  for (const line of r.stdout.trim().split('\n')) {
    if (line.includes('name=systemd')) continue; // a hierarchy brig does not manage
    assert.match(line, /:\/$/, `not its own root: ${line}`);
  }
  const without = runIn(['cat', '/proc/self/cgroup'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  });
  assert.match(without.stdout, /\/brig\//);
});

/** /proc/<pid>/cgroup, one line per hierarchy, without the one brig does not manage. */
function cgroupLines(pid: number): string[] {
  return readTextSync(`/proc/${pid}/cgroup`).trim().split('\n').filter((l) => !l.includes('name=systemd'));
}

test('init is born in its cgroups, which hold the container\'s processes and never the runtime\'s', { skip }, async () => {
  const b = makeBundle(['sleep', '3']);
  try {
    // Foreground: stage 0 waits for init all along, so a stage 0 in the cgroups would show here.
    const run = brigRuntimeAsync(b, ['run', 'born']);
    let initPid = 0;
    for (let i = 0; i < 100 && initPid === 0; i++) {
      await sleep(50);
      const st = brigRuntime(b, ['state', 'born']);
      if (st.code === 0 && JSON.parse(st.stdout).status === 'running') initPid = JSON.parse(st.stdout).pid;
    }
    assert.ok(initPid > 0, 'the container did not start');
    assert.deepEqual(JSON.parse(brigRuntime(b, ['ps', '--format', 'json', 'born']).stdout), [initPid]);
    // Every hierarchy: init in the container's cgroup, stage 0 (its parent) in none of them.
    const stage0 = Number(readTextSync(`/proc/${initPid}/stat`).split(') ')[1]!.split(' ')[1]);
    for (const line of cgroupLines(initPid)) assert.match(line, /:\/brig\/born$/, line);
    for (const line of cgroupLines(stage0)) assert.doesNotMatch(line, /\/brig\/born/, line);
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'born']);
    b.cleanup();
  }
});

test('a pids limit of 1 leaves room for init, in the foreground too (as runc)', { skip }, () => {
  for (const fg of [true, false]) {
    const b = makeBundle(['true'], (s) => {
      s.linux!.resources = { pids: { limit: 1 } };
    });
    try {
      const r = brigRuntime(b, fg ? ['run', 'pid1'] : ['run', '-d', 'pid1']);
      assert.equal(r.code, 0, r.stderr);
      if (!fg) assert.equal(brigRuntime(b, ['delete', '--force', 'pid1']).code, 0);
      assert.deepEqual(leftovers(b), []);
    } finally {
      b.cleanup();
    }
  }
});

test('joining a cgroup namespace by path: the runtime moves init into its cgroups before it runs anything', { skip }, () => {
  const owner = detached(['sleep', '30'], (s) => {
    if (!s.linux!.namespaces!.some((n) => n.type === 'cgroup')) s.linux!.namespaces!.push({ type: 'cgroup' });
  }, 'cgowner');
  try {
    const ownerPid = JSON.parse(brigRuntime(owner.b, ['state', 'cgowner']).stdout).pid as number;
    const joining = (s: Spec) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
      s.linux!.namespaces.push({ type: 'cgroup', path: `/proc/${ownerPid}/ns/cgroup` });
    };
    // A pids limit of 1 holds init alone: stage 0 is never moved in.
    const fg = runIn(['true'], (s) => {
      joining(s);
      s.linux!.resources = { pids: { limit: 1 } };
    });
    // The owner is still there: only what the joining containers leave counts.
    const theirs = (left: string[]) => left.filter((l) => !l.includes('cgowner'));
    assert.equal(fg.code, 0, fg.stderr);
    assert.deepEqual(theirs(fg.leftovers), []);
    const b = makeBundle(['sleep', '30'], joining);
    try {
      assert.equal(brigRuntime(b, ['run', '-d', 'cgjoin']).code, 0);
      const pid = JSON.parse(brigRuntime(b, ['state', 'cgjoin']).stdout).pid as number;
      assert.equal(readlinkSync(`/proc/${pid}/ns/cgroup`), readlinkSync(`/proc/${ownerPid}/ns/cgroup`));
      for (const line of cgroupLines(pid)) assert.match(line, /:\/brig\/cgjoin$/, line);
      assert.equal(brigRuntime(b, ['delete', '--force', 'cgjoin']).code, 0);
      assert.deepEqual(theirs(leftovers(b)), []);
    } finally {
      brigRuntime(b, ['delete', '--force', 'cgjoin']);
      b.cleanup();
    }
  } finally {
    owner.done();
  }
});

test('exec\'s process is born in the container\'s cgroups', { skip }, () => {
  const c = detached(['sleep', '30'], () => {}, 'execcg');
  try {
    const pidFile = `${c.b.dir}/exec.pid`;
    const e = brigRuntime(c.b, ['exec', '-d', '--pid-file', pidFile, 'execcg', 'sleep', '5']);
    assert.equal(e.code, 0, e.stderr);
    const pid = Number(readTextSync(pidFile));
    // Seen from the host, outside any cgroup namespace the container has.
    for (const line of cgroupLines(pid)) assert.match(line, /:\/brig\/execcg$/, line);
  } finally {
    c.done();
  }
});
