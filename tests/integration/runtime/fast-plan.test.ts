/**
 * The launcher's fast start and delete (src/runtime/fast-plan.ts, native/launch/fastpath.c):
 * plans create wrote, carried out without Node while they hold. A launcher whose Node
 * cannot be found (BRIG_HOME pointing nowhere) shows which way a command went: the fast
 * path succeeds without Node; a command that must go to Node exits 127 saying it cannot
 * find the installation. Shown here: start and delete leave exactly what Node's would
 * (state.json byte for byte, no state dir, no cgroup, no process); every case where a plan
 * no longer holds or does not apply goes to Node; a startContainer hook failing after the
 * release is worded by Node as before.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type Bundle, brigRuntime, leftovers, makeBundle, RUNTIME_BIN } from '../../support/bundle.js';
import { repoRoot, requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const NODE = path.join(repoRoot, 'node_modules', 'node', 'bin', 'node');
const BUNDLE_JS = path.join(repoRoot, 'dist', 'brig-runtime.cjs');

/** No Node reachable: only the fast path can succeed. */
const NO_NODE = { ...process.env, BRIG_HOME: '/nonexistent/brig-home' };

function fast(b: Bundle, args: string[]) {
  return brigRuntime(b, args, { env: NO_NODE });
}

function wentToNode(r: { code: number | null; stderr: string }, what: string): void {
  assert.equal(r.code, 127, `${what}: expected Node to be needed: ${r.stderr}`);
  assert.match(r.stderr, /cannot find brig's installation/, what);
}

function stateOf(b: Bundle, id: string): string {
  return JSON.parse(brigRuntime(b, ['state', id]).stdout).status;
}

/** Our own containers' cgroup directories (leftovers() would also see other tests' ones). */
function cgroupsOf(id: string): string[] {
  return readdirSync('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}/brig/${id}`));
}

test('fast start and delete: no Node, and the same state, files and cgroups as Node leaves', { skip }, () => {
  const b = makeBundle(['sleep', '600']);
  try {
    assert.equal(brigRuntime(b, ['create', 'fp1']).code, 0);
    const dir = path.join(b.stateRoot, 'fp1');
    const created = readTextSync(path.join(dir, 'state.json'));
    assert.deepEqual(readdirSync(dir).sort(), ['exec.fifo', 'fast-delete', 'fast-delete-force', 'fast-start', 'state.json']);
    const r = fast(b, ['start', 'fp1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    // What Runtime.start writes: the state as read, with status running; the FIFO is gone.
    assert.equal(readTextSync(path.join(dir, 'state.json')), JSON.stringify({ ...JSON.parse(created), status: 'running' }));
    assert.deepEqual(readdirSync(dir).sort(), ['fast-delete', 'fast-delete-force', 'state.json']);
    assert.equal(stateOf(b, 'fp1'), 'running');
    const pid = JSON.parse(created).pid as number;
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), 'sleep\u0000600\u0000');
    // A running container: delete without --force is Node's (it refuses); --force is fast.
    wentToNode(fast(b, ['delete', 'fp1']), 'delete of a running container');
    assert.match(brigRuntime(b, ['delete', 'fp1']).stderr, /is running: stop it first/);
    const d = fast(b, ['delete', '--force', 'fp1']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(existsSync(dir), false);
    let stat = '';
    try {
      stat = readTextSync(`/proc/${pid}/stat`);
    } catch {}
    assert.ok(stat === '' || /\) Z /.test(stat), `init ${pid} still runs: ${stat}`);
    assert.deepEqual(cgroupsOf('fp1'), []);
    assert.match(brigRuntime(b, ['state', 'fp1']).stderr, /does not exist/);
    // The same container through Node alone (run directly, no launcher) leaves the same.
    assert.equal(brigRuntime(b, ['create', 'fp2']).code, 0);
    const viaNode = (args: string[]) => spawnSync(NODE, [BUNDLE_JS, '--root', b.stateRoot, ...args], { cwd: b.dir, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    assert.equal(viaNode(['start', 'fp2']).status, 0);
    assert.deepEqual(readdirSync(path.join(b.stateRoot, 'fp2')).sort(), ['fast-delete', 'fast-delete-force', 'state.json']);
    assert.equal(viaNode(['delete', '--force', 'fp2']).status, 0);
    assert.deepEqual(cgroupsOf('fp2'), []);
    assert.deepEqual(readdirSync(b.stateRoot), []);
    // A stopped container: plain delete is fast.
    assert.equal(brigRuntime(b, ['create', 'fp3']).code, 0);
    assert.equal(fast(b, ['start', 'fp3']).code, 0);
    assert.equal(brigRuntime(b, ['kill', 'fp3', 'KILL']).code, 0);
    for (let i = 0; i < 100 && stateOf(b, 'fp3') !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    const d3 = fast(b, ['delete', 'fp3']);
    assert.equal(d3.code, 0, d3.stderr);
    assert.deepEqual(cgroupsOf('fp3'), []);
    assert.deepEqual(leftovers(b).filter((l) => /fp\d|state dir/.test(l)), []);
  } finally {
    for (const id of ['fp1', 'fp2', 'fp3']) brigRuntime(b, ['delete', '--force', id]);
    b.cleanup();
  }
});

test('a plan that no longer holds, or argv it does not cover, goes to Node', { skip }, () => {
  const b = makeBundle(['sleep', '600']);
  try {
    assert.equal(brigRuntime(b, ['create', 'fn1']).code, 0);
    const dir = path.join(b.stateRoot, 'fn1');
    // Flags the fast path does not know, or no explicit --root: Node.
    wentToNode(fast(b, ['--debug', 'start', 'fn1']), '--debug');
    wentToNode(fast(b, ['start', '--bogus', 'fn1']), 'an unknown flag');
    const noRoot = spawnSync(RUNTIME_BIN, ['start', 'fn1'], { cwd: b.dir, env: NO_NODE, encoding: 'utf8' });
    wentToNode({ code: noRoot.status, stderr: noRoot.stderr }, 'no --root');
    // state.json changed since create (whatever the change): Node.
    const state = readTextSync(path.join(dir, 'state.json'));
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ ...JSON.parse(state), annotations: { x: 'y' } }));
    wentToNode(fast(b, ['start', 'fn1']), 'state changed');
    writeFileSync(path.join(dir, 'state.json'), state);
    // A plan without its end line (torn, or not brig's) is not run at all, not even in part.
    const plan = readFileSync(path.join(dir, 'fast-start'));
    writeFileSync(path.join(dir, 'fast-start'), plan.subarray(0, plan.lastIndexOf('end\n')));
    wentToNode(fast(b, ['start', 'fn1']), 'a torn plan');
    assert.equal(readTextSync(path.join(dir, 'state.json')), state);
    assert.ok(existsSync(path.join(dir, 'exec.fifo')));
    writeFileSync(path.join(dir, 'fast-start'), plan);
    // --log and --log-format change nothing on success: still fast.
    const log = path.join(b.dir, 'log.json');
    const s = fast(b, ['--log', log, '--log-format', 'json', 'start', 'fn1']);
    assert.equal(s.code, 0, s.stderr);
    // Started already: Node, which says so.
    wentToNode(fast(b, ['start', 'fn1']), 'second start');
    assert.match(brigRuntime(b, ['start', 'fn1']).stderr, /running, not created|already started/);
    // A stopped container cannot be started; a plan for a recreated id is not the old one's.
    assert.equal(brigRuntime(b, ['delete', '--force', 'fn1']).code, 0);
    assert.equal(brigRuntime(b, ['create', 'fn2']).code, 0);
    const pid = JSON.parse(readTextSync(path.join(b.stateRoot, 'fn2', 'state.json'))).pid as number;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && stateOf(b, 'fn2') !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    wentToNode(fast(b, ['start', 'fn2']), 'start of a stopped container');
    assert.match(brigRuntime(b, ['start', 'fn2']).stderr, /stopped, not created/);
    // A directory inside the state directory: Node's rm -r. Plain files: fast.
    mkdirSync(path.join(b.stateRoot, 'fn2', 'extra'));
    wentToNode(fast(b, ['delete', 'fn2']), 'a directory in the state directory');
    rmdirSync(path.join(b.stateRoot, 'fn2', 'extra'));
    writeFileSync(path.join(b.stateRoot, 'fn2', 'extra'), '');
    assert.equal(fast(b, ['delete', 'fn2']).code, 0, 'plain files are removed');
    assert.deepEqual(cgroupsOf('fn2'), []);
    assert.deepEqual(readdirSync(b.stateRoot), []);
    // Unknown ids: Node words the error.
    wentToNode(fast(b, ['delete', 'nosuch']), 'unknown id');
    wentToNode(fast(b, ['delete', '--force', '../fn2']), 'a path for an id');
  } finally {
    for (const id of ['fn1', 'fn2']) brigRuntime(b, ['delete', '--force', id]);
    b.cleanup();
  }
});

test('with poststart or poststop hooks there is no plan for that verb: Node runs them', { skip }, () => {
  const logDir = mkdtempSync(path.join(tmpdir(), 'brig-fast-hooks-'));
  const log = path.join(logDir, 'hooks.log');
  const b = makeBundle(['true'], (s) => {
    s.hooks = {
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${log}`] }],
      poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }],
    };
  });
  try {
    assert.equal(brigRuntime(b, ['create', 'fh']).code, 0);
    assert.deepEqual(readdirSync(path.join(b.stateRoot, 'fh')).sort(), ['exec.fifo', 'state.json']);
    wentToNode(fast(b, ['start', 'fh']), 'poststart');
    assert.equal(brigRuntime(b, ['start', 'fh']).code, 0);
    wentToNode(fast(b, ['delete', '--force', 'fh']), 'poststop');
    assert.equal(brigRuntime(b, ['delete', '--force', 'fh']).code, 0);
    assert.deepEqual(readTextSync(log).trim().split('\n'), ['poststart', 'poststop']);
  } finally {
    brigRuntime(b, ['delete', '--force', 'fh']);
    b.cleanup();
    rmSync(logDir, { recursive: true, force: true });
  }
});

test('a startContainer hook failing after the fast release: start fails naming it, the container is stopped', { skip }, () => {
  const b = makeBundle(['true'], (s) => {
    s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] };
  });
  try {
    assert.equal(brigRuntime(b, ['create', 'fs']).code, 0);
    assert.ok(existsSync(path.join(b.stateRoot, 'fs', 'fast-start')));
    // The launcher releases init and hands what init sent back to Node, which words it.
    wentToNode(fast(b, ['start', 'fs']), 'an error record');
    assert.equal(stateOf(b, 'fs'), 'stopped');
    assert.equal(brigRuntime(b, ['create', 'fs2']).code, 0);
    const r = brigRuntime(b, ['start', 'fs2']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /hooks\.startContainer\[0\]/, r.stderr);
    assert.match(r.stderr, /exit status 3/, r.stderr);
    assert.equal(stateOf(b, 'fs2'), 'stopped');
    for (const id of ['fs', 'fs2']) assert.equal(fast(b, ['delete', id]).code, 0, id);
    assert.deepEqual(readdirSync(b.stateRoot), []);
  } finally {
    for (const id of ['fs', 'fs2']) brigRuntime(b, ['delete', '--force', id]);
    b.cleanup();
  }
});
