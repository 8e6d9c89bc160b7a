/**
 * OCI hooks: each kind runs at its point, in its namespace, with the state on stdin and
 * exactly its args and env; a failing create hook fails the operation and leaves nothing;
 * a timed-out hook is killed; poststart/poststop failures only warn.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Hook, Spec } from '../../../src/runtime/spec/types.js';
import { spawn } from 'node:child_process';
import { brigRuntime, leftovers, makeBundle, RUNTIME_BIN } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');

/** A hook that logs its kind (env), first extra arg, hostname and the state it was given. */
function logHook(kind: string, log: string, shell = '/bin/sh', before = ''): Hook {
  return {
    path: shell,
    args: ['sh', '-c', `${before}echo "$KIND $1 $(hostname) $(cat)" >> ${log}`, 'argv0', 'arg1'],
    env: [`KIND=${kind}`, 'PATH=/bin:/usr/bin'],
  };
}

function withLog(fn: (dir: string, log: string) => void) {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-hooks-'));
  chmodSync(dir, 0o777);
  try {
    fn(dir, path.join(dir, 'hooks.log'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every hook kind runs in order, in its namespace, with args, env and the state on stdin', { skip }, () => {
  withLog((dir, log) => {
    const b = makeBundle(['true'], (s: Spec) => {
      s.hostname = 'in-container';
      s.mounts!.push({ destination: '/hooklog', type: 'bind', source: dir, options: ['rbind'] });
      s.hooks = {
        prestart: [logHook('prestart', log)],
        createRuntime: [logHook('createRuntime', log)],
        createContainer: [logHook('createContainer', log)],
        // After the root switch: the container's own shell, the log through the bind mount.
        // Slow on purpose: start must wait for the program's exec before poststart runs.
        startContainer: [logHook('startContainer', '/hooklog/hooks.log', '/bin/sh', 'sleep 0.3; ')],
        poststart: [logHook('poststart', log)],
        poststop: [logHook('poststop', log)],
      };
    });
    try {
      assert.equal(brigRuntime(b, ['create', 'hk']).code, 0);
      assert.equal(brigRuntime(b, ['start', 'hk']).code, 0);
      for (let i = 0; i < 100 && JSON.parse(brigRuntime(b, ['state', 'hk']).stdout).status !== 'stopped'; i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
      assert.equal(brigRuntime(b, ['delete', 'hk']).code, 0);
      const lines = readTextSync(log).trim().split('\n');
      const kinds = lines.map((l) => l.split(' ')[0]);
      assert.deepEqual(kinds, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
      for (const l of lines) {
        const [kind, arg1, host, ...json] = l.split(' ');
        assert.equal(arg1, 'arg1', l);
        // Runtime-namespace hooks see the host's name, container-namespace ones the container's.
        const inContainer = kind === 'createContainer' || kind === 'startContainer';
        assert.equal(host, inContainer ? 'in-container' : hostname(), l);
        const state = JSON.parse(json.join(' '));
        assert.equal(state.id, 'hk');
        assert.equal(state.bundle, b.dir);
        if (kind !== 'poststop') assert.ok(state.pid > 0, l);
      }
      assert.equal(JSON.parse(lines[5]!.split(' ').slice(3).join(' ')).status, 'stopped');
      assert.deepEqual(leftovers(b), []);
    } finally {
      brigRuntime(b, ['delete', '--force', 'hk']);
      b.cleanup();
    }
  });
});

test('a failing create hook fails create, names the hook and leaves nothing', { skip }, () => {
  for (const kind of ['prestart', 'createRuntime', 'createContainer', 'startContainer'] as const) {
    const b = makeBundle(['true'], (s) => {
      s.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] };
    });
    try {
      const r = brigRuntime(b, ['run', 'hf']);
      assert.equal(r.code, 1, kind);
      assert.match(r.stderr, new RegExp(`hooks\\.${kind}\\[0\\]`), r.stderr);
      assert.match(r.stderr, /exit status 3/);
      assert.deepEqual(leftovers(b), [], kind);
    } finally {
      b.cleanup();
    }
  }
});

test('a failing startContainer hook fails start: the program never runs, poststart is skipped, delete runs poststop', { skip }, () => {
  // Also with init outside a pid namespace of its own, where SIGPIPE is not ignored for it.
  for (const ownPidNs of [true, false]) withLog((dir, log) => {
    const b = makeBundle(['sh', '-c', `echo program >> /hooklog/hooks.log`], (s: Spec) => {
      if (!ownPidNs) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      s.mounts!.push({ destination: '/hooklog', type: 'bind', source: dir, options: ['rbind'] });
      s.hooks = {
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }],
        poststart: [logHook('poststart', log)],
        poststop: [logHook('poststop', log)],
      };
    });
    try {
      assert.equal(brigRuntime(b, ['create', 'hs']).code, 0);
      const r = brigRuntime(b, ['start', 'hs']);
      assert.equal(r.code, 1, `pid ns ${ownPidNs}: ${r.stderr}`);
      assert.match(r.stderr, /hooks\.startContainer\[0\]/, r.stderr);
      assert.match(r.stderr, /exit status 3/, r.stderr);
      assert.equal(JSON.parse(brigRuntime(b, ['state', 'hs']).stdout).status, 'stopped');
      assert.equal(brigRuntime(b, ['start', 'hs']).code, 1);
      assert.equal(brigRuntime(b, ['delete', 'hs']).code, 0);
      const kinds = readTextSync(log).trim().split('\n').map((l) => l.split(' ')[0]);
      assert.deepEqual(kinds, ['poststop']);
      assert.deepEqual(leftovers(b), []);
    } finally {
      brigRuntime(b, ['delete', '--force', 'hs']);
      b.cleanup();
    }
  });
});

test('a hook past its timeout is killed and the operation fails', { skip }, () => {
  const b = makeBundle(['true'], (s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 10'], timeout: 1 }] };
  });
  try {
    const t0 = Date.now();
    const r = brigRuntime(b, ['run', 'ht']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hooks\.createRuntime\[0\].*timed out after 1s/);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('poststart and poststop failures only warn', { skip }, () => {
  const b = makeBundle(['true'], (s) => {
    s.hooks = { poststart: [{ path: '/bin/false' }], poststop: [{ path: '/no/such/hook' }] };
  });
  try {
    const r = brigRuntime(b, ['run', 'hw']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /level=warning msg=".*hooks\.poststart\[0\]/);
    assert.match(r.stderr, /level=warning msg=".*hooks\.poststop\[0\]/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('start interrupted while startContainer hooks run leaves the container recorded as running', { skip }, async () => {
  const b = makeBundle(['sleep', '30'], (s: Spec) => {
    s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 1'] }] };
  });
  try {
    assert.equal(brigRuntime(b, ['create', 'hi']).code, 0);
    const start = spawn(RUNTIME_BIN, ['--root', b.stateRoot, 'start', 'hi'], { cwd: b.dir, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 400));
    start.kill('SIGKILL');
    await new Promise((r) => start.once('exit', r));
    // init was released: it runs its hook, then the program, whatever happened to start.
    assert.equal(JSON.parse(brigRuntime(b, ['state', 'hi']).stdout).status, 'running');
    const t0 = Date.now();
    const again = brigRuntime(b, ['start', 'hi']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /running, not created|already started/, again.stderr);
    assert.ok(Date.now() - t0 < 2000, 'a second start must fail at once');
    assert.equal(brigRuntime(b, ['delete', '--force', 'hi']).code, 0);
    assert.deepEqual(leftovers(b), []);
  } finally {
    brigRuntime(b, ['delete', '--force', 'hi']);
    b.cleanup();
  }
});
