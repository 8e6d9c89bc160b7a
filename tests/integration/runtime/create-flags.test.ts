/**
 * runc's create/run flags beyond the basics, on real containers: --preserve-fds,
 * --no-pivot, --no-new-keyring (and the session keyring it turns off), and the
 * `features` document the binary prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { type Bundle, brigRuntime, leftovers, makeBundle, RUNTIME_BIN } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

function withBundle(args: string[], edit: (s: Spec) => void, fn: (b: Bundle) => void): void {
  const b = makeBundle(args, edit);
  try {
    fn(b);
  } finally {
    const left = leftovers(b);
    b.cleanup();
    assert.deepEqual(left, []);
  }
}

/** Runs the runtime with `extra` as fds 3.. (spawnSync's stdio array maps index to fd). */
function runWithFds(b: Bundle, args: string[], extra: number[]) {
  const r = spawnSync(RUNTIME_BIN, ['--root', b.stateRoot, ...args], {
    cwd: b.dir,
    stdio: ['ignore', 'pipe', 'pipe', ...extra],
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--preserve-fds N passes fds 3..3+N-1 to the program, and no others', { skip }, () => {
  withBundle(['sh', '-c', 'cat <&3; cat <&4; echo $(ls /proc/self/fd)'], () => {}, (b) => {
    writeFileSync(path.join(b.dir, 'a'), 'three\n');
    writeFileSync(path.join(b.dir, 'b'), 'four\n');
    const fa = openSync(path.join(b.dir, 'a'), 'r');
    const fb = openSync(path.join(b.dir, 'b'), 'r');
    try {
      const r = runWithFds(b, ['run', '--preserve-fds', '2', 'pf'], [fa, fb]);
      assert.equal(r.code, 0, r.stderr);
      const [three, four, fds] = r.stdout.split('\n');
      assert.equal(three, 'three');
      assert.equal(four, 'four');
      // 0-2, the two preserved, and the one ls opens for /proc/self/fd.
      assert.deepEqual(fds!.trim().split(' ').map(Number), [0, 1, 2, 3, 4, 5]);
      // Without the flag the same open fds stay outside.
      const none = runWithFds(b, ['run', 'pf2'], [fa, fb]);
      assert.equal(none.code, 0, none.stderr);
      assert.deepEqual(none.stdout.trim().split(' ').map(Number), [0, 1, 2, 3], 'only stdio (and ls\'s own fd 3) without --preserve-fds');
      assert.match(none.stderr, /bad file descriptor/i);
    } finally {
      closeSync(fa);
      closeSync(fb);
    }
  });
});

test('--no-pivot runs the container under chroot with the same view of its root', { skip }, () => {
  withBundle(['sh', '-c', 'echo $(ls /); test -e /bin/busybox && echo ok'], () => {}, (b) => {
    const r = brigRuntime(b, ['run', '--no-pivot', 'np']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok$/m);
    // The host's root is not what the container sees: no /work, /usr or /home of the host.
    assert.doesNotMatch(r.stdout, /\busr\b|\bhome\b|\bwork\b/);
  });
});

test('each container gets its own session keyring _ses.<id>; --no-new-keyring keeps the caller\'s', { skip }, () => {
  // /proc/keys is masked by default; unmask it to look.
  const unmask = (s: Spec) => {
    s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
  };
  withBundle(['cat', '/proc/keys'], unmask, (b) => {
    const own = brigRuntime(b, ['run', 'kr-own']);
    assert.equal(own.code, 0, own.stderr);
    // Possessor all, user view/read/search (runc's mask): 3f1b0000.
    assert.match(own.stdout, /perm 3f1b0000 .* keyring\s+_ses\.kr-own: empty/);
    const kept = brigRuntime(b, ['run', '--no-new-keyring', 'kr-kept']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.doesNotMatch(kept.stdout, /_ses\.kr-kept/);
  });
});

test('exec joins the container\'s session keyring, with and without a user namespace', { skip: skip || requires('userns') }, () => {
  const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
  for (const userns of [false, true]) {
    const id = userns ? 'kx-userns' : 'kx';
    withBundle(['sleep', '30'], (s) => {
      s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
      if (userns) {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = MAP;
        s.linux!.gidMappings = MAP;
      }
    }, (b) => {
      try {
        const r = brigRuntime(b, ['run', '-d', id]);
        assert.equal(r.code, 0, r.stderr);
        const e = brigRuntime(b, ['exec', id, 'cat', '/proc/keys']);
        assert.equal(e.code, 0, e.stderr);
        // One _ses.<id> keyring, now held by init and the exec'd process (usage count 2+).
        const lines = e.stdout.split('\n').filter((l) => l.includes(`_ses.${id}:`));
        assert.equal(lines.length, 1, e.stdout);
        assert.ok(Number(lines[0]!.split(/\s+/)[2]) >= 2, lines[0]);
      } finally {
        brigRuntime(b, ['delete', '--force', id]);
      }
    });
  }
});

test('features prints the OCI features document for this build and host', { skip: requires('helper') }, () => {
  const r = spawnSync(RUNTIME_BIN, ['features'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  assert.equal(f.ociVersionMin, '1.0.0');
  assert.match(f.ociVersionMax, /^1\.2\./);
  assert.ok(f.hooks.includes('createContainer') && f.hooks.includes('poststop'));
  assert.ok(f.linux.namespaces.includes('user') && f.linux.namespaces.includes('time'));
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.equal(f.linux.seccomp.enabled, true);
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.ok(f.linux.seccomp.archs.includes('SCMP_ARCH_X86_64'));
  assert.equal(f.linux.cgroup.v1, true);
});
