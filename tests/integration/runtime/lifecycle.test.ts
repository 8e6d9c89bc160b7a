/**
 * The verbs around a running container: run --detach, state, list, kill, delete, pid files,
 * and their edge cases (unknown id, taken id, running container).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { brigRuntime, leftovers, makeBundle, RUNTIME_BIN } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms; t += 20) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('timed out');
}

test('run --detach, state, list, kill, delete', { skip }, async () => {
  const b = makeBundle(['sleep', '30']);
  try {
    const pidFile = path.join(b.dir, 'init.pid');
    const r = brigRuntime(b, ['run', '--detach', '--pid-file', pidFile, 'c1']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(readTextSync(pidFile));
    assert.ok(pid > 1);

    const st = JSON.parse(brigRuntime(b, ['state', 'c1']).stdout);
    assert.equal(st.status, 'running');
    assert.equal(st.pid, pid);
    assert.equal(st.id, 'c1');
    assert.equal(st.bundle, b.dir);
    assert.equal(st.ociVersion, '1.2.0');

    const list = JSON.parse(brigRuntime(b, ['list', '--format', 'json']).stdout);
    assert.deepEqual(
      list.map((c: { id: string }) => c.id),
      ['c1'],
    );
    assert.equal(brigRuntime(b, ['list', '-q']).stdout, 'c1\n');

    // A second container with the same id is refused, and the first is untouched.
    const dup = brigRuntime(b, ['run', '--detach', 'c1']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /container "c1" already exists/);

    const del = brigRuntime(b, ['delete', 'c1']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /is running/);

    assert.equal(brigRuntime(b, ['kill', 'c1', 'KILL']).code, 0);
    await waitFor(() => JSON.parse(brigRuntime(b, ['state', 'c1']).stdout).status === 'stopped');
    assert.equal(brigRuntime(b, ['delete', 'c1']).code, 0);
    assert.equal(existsSync(path.join(b.stateRoot, 'c1')), false);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'c1']);
    b.cleanup();
  }
});

test('delete --force kills a running container', { skip }, () => {
  const b = makeBundle(['sleep', '30']);
  try {
    assert.equal(brigRuntime(b, ['run', '-d', 'c2']).code, 0);
    const pid = JSON.parse(brigRuntime(b, ['state', 'c2']).stdout).pid;
    assert.equal(brigRuntime(b, ['delete', '--force', 'c2']).code, 0);
    assert.equal(
      existsSync(`/proc/${pid}/cmdline`) && readTextSync(`/proc/${pid}/cmdline`).includes('sleep'),
      false,
    );
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('deleting the container that made the shared /brig parent leaves the other containers\' cgroups alone', { skip }, () => {
  const b = makeBundle(['sleep', '30']);
  const hierarchies = () => readdirSync('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}/brig/sib-b`));
  try {
    // The first container creates /brig (an empty one left by anything earlier goes first),
    // the second lives in it too.
    removeEmptyBrigParents();
    assert.equal(brigRuntime(b, ['run', '-d', 'sib-a']).code, 0);
    assert.equal(brigRuntime(b, ['run', '-d', 'sib-b']).code, 0);
    const before = hierarchies();
    assert.ok(before.length > 0);
    const t0 = Date.now();
    const d = brigRuntime(b, ['delete', '--force', 'sib-a']);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(Date.now() - t0 < 5000, 'delete must not wait on the sibling');
    assert.deepEqual(hierarchies(), before, "the sibling's cgroups are intact");
    assert.equal(JSON.parse(brigRuntime(b, ['state', 'sib-b']).stdout).status, 'running');
    assert.equal(brigRuntime(b, ['delete', '--force', 'sib-b']).code, 0);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'sib-a']);
    brigRuntime(b, ['delete', '--force', 'sib-b']);
    b.cleanup();
    // The parent outlived its maker while shared; it is brig's own and empty: tidy up.
    removeEmptyBrigParents();
  }
});

function removeEmptyBrigParents(): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      rmdirSync(`/sys/fs/cgroup/${h}/brig`); // fails, harmlessly, unless empty
    } catch {}
  }
}

test('kill accepts signal names with or without SIG, and numbers', { skip }, async () => {
  const b = makeBundle(['sleep', '30']);
  try {
    for (const sig of ['TERM', 'SIGKILL', '9']) {
      assert.equal(brigRuntime(b, ['run', '-d', 'k']).code, 0);
      // sleep as pid 1 ignores TERM (no handler): only KILL stops it
      const r = brigRuntime(b, ['kill', 'k', sig]);
      assert.equal(r.code, 0, r.stderr);
      brigRuntime(b, ['delete', '--force', 'k']);
    }
    const bad = brigRuntime(b, ['kill', 'k', 'NOPE']);
    assert.notEqual(bad.code, 0);
  } finally {
    b.cleanup();
  }
});

test('unknown ids are clear errors for state, kill and delete', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    for (const verb of [['state'], ['kill'], ['delete']]) {
      const r = brigRuntime(b, [...verb, 'nope']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.split('\n')[0], 'brig-runtime: container "nope" does not exist');
    }
  } finally {
    b.cleanup();
  }
});

test('spec writes a default config that runs as is', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    rmSync(path.join(b.dir, 'config.json'));
    assert.equal(brigRuntime(b, ['spec']).code, 0);
    const spec = JSON.parse(readTextSync(path.join(b.dir, 'config.json')));
    assert.deepEqual(spec.process.args, ['sh']);
    // a second spec refuses to overwrite
    assert.notEqual(brigRuntime(b, ['spec']).code, 0);
    const r = brigRuntime(b, ['run', 'from-spec'], { input: 'echo spec-ok\n' });
    assert.equal(r.stdout, 'spec-ok\n', r.stderr);
    assert.equal(r.code, 0);
  } finally {
    b.cleanup();
  }
});

test('create leaves the program waiting; start runs it; state follows created → running → stopped', { skip }, async () => {
  const b = makeBundle(['sh', '-c', 'echo ran > /tmp/marker; sleep 1'], (s) => {
    s.mounts = s.mounts!.filter((m) => m.destination !== '/tmp');
  });
  try {
    const c = brigRuntime(b, ['create', '--pid-file', path.join(b.dir, 'p'), 'cs']);
    assert.equal(c.code, 0, c.stderr);
    const st = JSON.parse(brigRuntime(b, ['state', 'cs']).stdout);
    assert.equal(st.status, 'created');
    assert.equal(st.pid, Number(readTextSync(path.join(b.dir, 'p'))));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(path.join(b.rootfs, 'tmp/marker')), false, 'the program ran before start');
    const s1 = brigRuntime(b, ['start', 'cs']);
    assert.equal(s1.code, 0, s1.stderr);
    await waitFor(() => existsSync(path.join(b.rootfs, 'tmp/marker')));
    assert.equal(JSON.parse(brigRuntime(b, ['state', 'cs']).stdout).status, 'running');
    const again = brigRuntime(b, ['start', 'cs']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not created/);
    await waitFor(() => JSON.parse(brigRuntime(b, ['state', 'cs']).stdout).status === 'stopped', 5000);
    assert.equal(brigRuntime(b, ['delete', 'cs']).code, 0);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'cs']);
    b.cleanup();
  }
});

test('a created container can be deleted without --force, and its init is gone', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    assert.equal(brigRuntime(b, ['create', 'cd']).code, 0);
    const pid = JSON.parse(brigRuntime(b, ['state', 'cd']).stdout).pid;
    const d = brigRuntime(b, ['delete', 'cd']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(existsSync(`/proc/${pid}/status`) && !readTextSync(`/proc/${pid}/status`).includes('State:\tZ'), false);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('a runtime killed while creating leaves a state with its cgroups, stopped once its maker is gone; delete removes it all (and signals no process group)', { skip }, async () => {
  const marker = `/tmp/brig-hook-${process.pid}-${Date.now()}`;
  // The createRuntime hook holds the launch after init is cloned and in its cgroups.
  const b = makeBundle(['true'], (s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 30`] }] };
  });
  try {
    const child = spawn(RUNTIME_BIN, ['--root', b.stateRoot, 'create', 'ck'], { cwd: b.dir, stdio: 'ignore' });
    await waitFor(() => existsSync(marker), 10_000);
    const creating = JSON.parse(brigRuntime(b, ['state', 'ck']).stdout) as { status: string };
    assert.equal(creating.status, 'creating', 'while its maker works on it');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const st = JSON.parse(brigRuntime(b, ['state', 'ck']).stdout) as { status: string };
    assert.equal(st.status, 'stopped', 'its maker gone, it will never be created: an engine sweeps it');
    assert.notDeepEqual(leftovers(b), [], 'its cgroups and state are there');
    const d = brigRuntime(b, ['delete', 'ck']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(leftovers(b), []);
  } finally {
    rmSync(marker, { force: true });
    spawnSync('pkill', ['-f', marker]);
    b.cleanup();
  }
});

test('create with a non-root process user: init, unprivileged by then, still opens the FIFO', { skip }, () => {
  const b = makeBundle(['true'], (s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
  });
  try {
    assert.equal(brigRuntime(b, ['create', 'cu']).code, 0);
    const r = brigRuntime(b, ['start', 'cu']);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    brigRuntime(b, ['delete', '--force', 'cu']);
    b.cleanup();
  }
});

test('kill --all signals every process of the container, not only init', { skip }, async () => {
  const b = makeBundle(['sh', '-c', 'sleep 100 & sleep 100 & wait']);
  try {
    assert.equal(brigRuntime(b, ['run', '-d', 'ka']).code, 0);
    await waitFor(() => JSON.parse(brigRuntime(b, ['ps', '--format', 'json', 'ka']).stdout).length === 3);
    assert.equal(brigRuntime(b, ['kill', '--all', 'ka', 'KILL']).code, 0);
    await waitFor(() => JSON.parse(brigRuntime(b, ['ps', '--format', 'json', 'ka']).stdout).length === 0);
    assert.equal(brigRuntime(b, ['delete', 'ka']).code, 0);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'ka']);
    b.cleanup();
  }
});
