/**
 * bin/brig-runtime's launcher (native/launch): it forks stage 0 ahead of Node for run,
 * create and exec. Shown here: Node uses that stage 0 and gets the program's exit status
 * through it; Node run directly spawns its own, with the same result; nothing the launcher
 * passes reaches a hook; a forged hand-over is ignored; an unused stage 0 never lingers;
 * a copy or a symlink of the launcher finds its installation, and when nothing is found
 * the error lists every place it looked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type Bundle, leftovers, makeBundle, RUNTIME_BIN } from '../../support/bundle.js';
import { repoRoot, requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const NODE = path.join(repoRoot, 'node_modules', 'node', 'bin', 'node');
const BUNDLE_JS = path.join(repoRoot, 'dist', 'brig-runtime.cjs');

function runVia(how: 'launcher' | 'node', b: Bundle, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const argv = ['--root', b.stateRoot, '--debug', ...args];
  const [cmd, cmdArgs] = how === 'launcher' ? [RUNTIME_BIN, argv] : [NODE, [BUNDLE_JS, ...argv]];
  const r = spawnSync(cmd, cmdArgs, { cwd: b.dir, encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stderr: r.stderr };
}

test('run through the launcher uses its stage 0; Node run directly spawns one; both return the exit status', { skip }, () => {
  const b = makeBundle(['sh', '-c', 'exit 7']);
  try {
    for (const [how, origin] of [
      ['launcher', 'forked by the launcher'],
      ['node', 'spawned'],
    ] as const) {
      const r = runVia(how, b, ['run', `l-${how}`]);
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, new RegExp(`stage 0 \\d+ \\(${origin}\\)`), r.stderr);
      assert.deepEqual(leftovers(b), [], how);
    }
  } finally {
    b.cleanup();
  }
});

/** This process's descriptors that any child inherits (not close-on-exec): the caller's leaks. */
function inheritableFds(): number[] {
  const O_CLOEXEC = 0o2000000;
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd').map(Number)) {
    try {
      const flags = /flags:\s+([0-7]+)/.exec(readTextSync(`/proc/self/fdinfo/${fd}`))?.[1];
      if (flags !== undefined && (Number.parseInt(flags, 8) & O_CLOEXEC) === 0) out.push(fd);
    } catch {}
  }
  return out;
}

test('a hook inherits nothing from the launcher or the stage 0 channel: only its stdio', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-launch-'));
  const log = path.join(dir, 'fds');
  const b = makeBundle(['true'], (s) => {
    // The shell's own descriptors, listed by a child (a $(...) would add its own pipe).
    const list = `exec > ${log}; ls -l /proc/$$/fd/`;
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', list] }] };
  });
  try {
    const r = runVia('launcher', b, ['run', 'l-hook']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /forked by the launcher/);
    const text = readTextSync(log);
    const fds = [...text.matchAll(/ (\d+) -> /g)].map((m) => Number(m[1]));
    assert.ok(fds.includes(0) && fds.includes(1), text);
    // What this test process leaks to every child reaches the hook with any runtime.
    const allowed = new Set([0, 1, 2, ...inheritableFds()]);
    assert.deepEqual(fds.filter((fd) => !allowed.has(fd)), [], text);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hand-over forged in the environment is not trusted', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    // fds that exist but are not the launcher's pipes, and a pid that is not a child.
    const env = { ...process.env, _BRIG_STAGE0: `1,0,1,2,0,1,2` };
    for (const how of ['launcher', 'node'] as const) {
      const r = runVia(how, b, ['run', `l-forged-${how}`], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, how === 'launcher' ? /forked by the launcher/ : /\(spawned\)/, r.stderr);
      assert.deepEqual(leftovers(b), [], how);
    }
  } finally {
    b.cleanup();
  }
});

test('a stage 0 the verb does not use is let go at once', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    // "run" in argv makes the launcher fork a stage 0; `state` releases it. Bad configs and
    // unknown containers end before any launch: nothing may wait for a plan that never comes.
    for (const args of [['state', 'run'], ['delete', 'run'], ['run', '--bundle', '/nonexistent', 'x']]) {
      const t0 = Date.now();
      const r = runVia('launcher', b, args);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(Date.now() - t0 < 5000);
      assert.deepEqual(leftovers(b), [], args.join(' '));
    }
  } finally {
    b.cleanup();
  }
});

test('the caller\'s signal state does not reach the container: exit status and masks as from a clean start', { skip: skip || requires('python3') }, () => {
  const b = makeBundle(['sh', '-c', 'grep -E "^Sig(Blk|Ign)" /proc/self/status; exit 7']);
  try {
    // A caller ignoring SIGCHLD (stage 0 could not wait for init) and blocking SIGTERM.
    const py = [
      'import os, signal, sys',
      'signal.signal(signal.SIGCHLD, signal.SIG_IGN)',
      'signal.signal(signal.SIGINT, signal.SIG_IGN)',
      'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})',
      'os.execv(sys.argv[1], sys.argv[1:])',
    ].join('\n');
    const r = spawnSync('python3', ['-c', py, RUNTIME_BIN, '--root', b.stateRoot, 'run', 'l-sig'], { cwd: b.dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stdout, /SigBlk:\s+0+\n/);
    assert.match(r.stdout, /SigIgn:\s+0+\n/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('stdio the caller closed is /dev/null in the container, not a closed slot', { skip }, () => {
  // The shell's own fds (pid 1), written out through a pipe so no redirection touches them.
  const b = makeBundle(['sh', '-c', 'ls -l /proc/1/fd/ | cat >&3']);
  const out = path.join(b.dir, 'fds');
  try {
    const sh = `exec 0<&- 1>&- 2>&-; exec ${RUNTIME_BIN} --root ${b.stateRoot} run --preserve-fds 1 l-closed 3>${out}`;
    const r = spawnSync('sh', ['-c', sh], { cwd: b.dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const text = readTextSync(out);
    for (const fd of [0, 1, 2]) assert.match(text, new RegExp(` ${fd} -> /dev/null`), text);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

/** The launcher's environment without a BRIG_HOME the test run itself may carry. */
function envWithout(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('BRIG_HOME' in extra)) delete env.BRIG_HOME;
  return env;
}

/** Output through files: a created container inherits the runtime's stdio and would hold a pipe. */
function runBinary(bin: string, b: Bundle, args: string[], env: NodeJS.ProcessEnv) {
  const out = path.join(b.dir, '.out');
  const fds = [openSync(`${out}.1`, 'w'), openSync(`${out}.2`, 'w')];
  try {
    const r = spawnSync(bin, ['--root', b.stateRoot, ...args], { cwd: b.dir, env, stdio: ['ignore', fds[0]!, fds[1]!], timeout: 20_000 });
    return { code: r.status, stdout: readTextSync(`${out}.1`), stderr: readTextSync(`${out}.2`) };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

test('a copy of brig-runtime elsewhere (install -m755 ...) runs containers: it finds the tree it was built in', { skip }, () => {
  const b = makeBundle(['sh', '-c', 'echo from-the-copy; exit 7']);
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-copy-'));
  try {
    const copy = path.join(dir, 'brig-runtime');
    copyFileSync(RUNTIME_BIN, copy); // follows bin/brig-runtime's link: the launcher itself
    const r = runBinary(copy, b, ['--debug', 'run', 'l-copy'], envWithout());
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, /from-the-copy/);
    assert.match(r.stderr, /forked by the launcher/, r.stderr);
    // create + start + delete through the copy too (what containerd and podman call).
    assert.equal(runBinary(copy, b, ['create', 'l-copy2'], envWithout()).code, 0);
    assert.equal(runBinary(copy, b, ['start', 'l-copy2'], envWithout()).code, 0);
    assert.equal(runBinary(copy, b, ['delete', '--force', 'l-copy2'], envWithout()).code, 0);
    // And with the installation named explicitly.
    const named = runBinary(copy, b, ['run', 'l-copy3'], envWithout({ BRIG_HOME: repoRoot }));
    assert.equal(named.code, 7, named.stderr);
    assert.deepEqual(leftovers(b), []);
  } finally {
    runBinary(RUNTIME_BIN, b, ['delete', '--force', 'l-copy2'], envWithout());
    b.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlink to brig-runtime (and a link to that link) runs containers', { skip }, () => {
  const b = makeBundle(['sh', '-c', 'exit 5']);
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-link-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    const link = path.join(dir, 'bin', 'brig-runtime');
    symlinkSync(RUNTIME_BIN, link);
    const link2 = path.join(dir, 'runc-compatible');
    symlinkSync('bin/brig-runtime', link2);
    for (const bin of [link, link2]) {
      const r = runBinary(bin, b, ['run', `l-link-${path.basename(bin)}`], envWithout());
      assert.equal(r.code, 5, `${bin}: ${r.stderr}`);
    }
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BRIG_HOME that is not an installation is an error naming it, with no fall-back', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    const r = runBinary(RUNTIME_BIN, b, ['run', 'l-badhome'], envWithout({ BRIG_HOME: '/nonexistent/brig' }));
    assert.equal(r.code, 127);
    assert.match(r.stderr, /cannot find brig's installation/);
    assert.match(r.stderr, /BRIG_HOME=\/nonexistent\/brig: \/nonexistent\/brig\/dist\/brig-runtime\.cjs: No such file or directory/);
    assert.match(r.stderr, /hint: set BRIG_HOME/);
    assert.doesNotMatch(r.stderr, /beside this program|built in/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('a launcher that finds no installation says where it looked', { skip: skip || requires('cc') }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-nohome-'));
  try {
    // The launcher as the Makefile builds it, but with a built-in path that does not exist.
    const bin = path.join(dir, 'brig-runtime');
    const cc = spawnSync('cc', ['-O2', '-static-pie', '-D_GNU_SOURCE', '-DBRIG_HOME_BUILTIN="/nonexistent/built-in"', '-o', bin, path.join(repoRoot, 'native', 'launch', 'launch.c'), path.join(repoRoot, 'native', 'launch', 'fastpath.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const r = spawnSync(bin, ['state', 'x'], { encoding: 'utf8', env: envWithout(), timeout: 20_000 });
    assert.equal(r.status, 127);
    assert.match(r.stderr, /cannot find brig's installation/);
    assert.match(r.stderr, /BRIG_HOME: not set/);
    assert.match(r.stderr, new RegExp(`beside this program: ${bin} is not in <home>/native/build/`));
    assert.match(r.stderr, /built in \(\/nonexistent\/built-in\): \/nonexistent\/built-in\/dist\/brig-runtime\.cjs: No such file or directory/);
    assert.match(r.stderr, /hint: set BRIG_HOME/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
