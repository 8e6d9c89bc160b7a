/**
 * Identity and privileges as the config asks: capability sets, no_new_privs, uid/gid,
 * supplementary groups, umask, rlimits — seen from inside in /proc/self/status and by the probe.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAPABILITIES } from '../../../src/runtime/linux/constants.js';
import { runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

function mask(names: string[]): string {
  const m = names.reduce((a, c) => a | (1n << BigInt(CAPABILITIES.indexOf(c as never))), 0n);
  return m.toString(16).padStart(16, '0');
}

function statusField(stdout: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout);
  assert.ok(m, `${name} missing in:\n${stdout}`);
  return m[1]!.trim();
}

test('the Cap* lines of /proc/self/status equal what the config asks', { skip }, () => {
  const caps = {
    bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SYS_CHROOT'],
    effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
    inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
    ambient: ['CAP_NET_BIND_SERVICE'],
  };
  // cat replaces sh (exec), so the status is that of a fresh exec with these sets.
  const r = runIn(['cat', '/proc/self/status'], (s) => {
    s.process!.capabilities = caps;
    s.process!.user = { uid: 1000, gid: 1000 };
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusField(r.stdout, 'CapBnd'), mask(caps.bounding));
  assert.equal(statusField(r.stdout, 'CapInh'), mask(caps.inheritable));
  assert.equal(statusField(r.stdout, 'CapAmb'), mask(caps.ambient));
  // After execve as non-root: P' = (P(inh) & F(inh)) | ambient, E' = ambient.
  assert.equal(statusField(r.stdout, 'CapPrm'), mask(caps.ambient));
  assert.equal(statusField(r.stdout, 'CapEff'), mask(caps.ambient));
});

// For uid 0 the kernel's execve rule makes E' = P' = P(bnd) ∩ (F(perm) = all): effective
// follows permitted (runc gives the same), so only bounding and permitted are the config's.
test('as root in the container, permitted is the config set and effective follows it', { skip }, () => {
  const caps = {
    bounding: ['CAP_KILL', 'CAP_CHOWN'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL', 'CAP_CHOWN'],
  };
  const r = runIn(['cat', '/proc/self/status'], (s) => {
    s.process!.capabilities = caps;
    s.process!.noNewPrivileges = false;
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusField(r.stdout, 'CapBnd'), mask(caps.bounding));
  assert.equal(statusField(r.stdout, 'CapPrm'), mask(caps.permitted));
  assert.equal(statusField(r.stdout, 'CapEff'), mask(caps.permitted));
  assert.equal(statusField(r.stdout, 'NoNewPrivs'), '0');
});

test('noNewPrivileges sets NoNewPrivs', { skip }, () => {
  const r = runIn(['cat', '/proc/self/status'], (s) => {
    s.process!.noNewPrivileges = true;
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusField(r.stdout, 'NoNewPrivs'), '1');
});

test('uid, gid, supplementary groups and umask are the config values', {
  skip: skip || requires('helper'),
}, () => {
  const r = runIn(['sh', '-c', 'probe groups; probe umask'], (s) => {
    s.process!.user = { uid: 1234, gid: 5678, additionalGids: [11, 22], umask: 0o027 };
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1234 5678 11 22\n0027\n');
});

test('without additionalGids the caller groups do not leak in', { skip }, () => {
  const r = runIn(['probe', 'groups'], (s) => {
    s.process!.user = { uid: 0, gid: 0 };
  });
  assert.equal(r.stdout, '0 0\n');
});

test('rlimits are applied (soft and hard)', { skip }, () => {
  const r = runIn(['cat', '/proc/self/limits'], (s) => {
    s.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 321, hard: 654 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    ];
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Max open files\s+321\s+654\s+files/m);
  assert.match(r.stdout, /^Max core file size\s+0\s+0\s+bytes/m);
});

test('an rlimit above the host hard limit is refused with a clear error, nothing left behind', {
  skip,
}, () => {
  const r = runIn(['true'], (s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1 << 30 }];
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /process\.rlimits\[0\].*RLIMIT_NOFILE hard limit .* above this host's hard limit/);
  assert.deepEqual(r.leftovers, []);
});

test('oomScoreAdj is applied', { skip }, () => {
  const r = runIn(['cat', '/proc/self/oom_score_adj'], (s) => {
    s.process!.oomScoreAdj = 500;
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '500');
});
