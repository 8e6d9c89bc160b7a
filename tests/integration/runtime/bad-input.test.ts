/**
 * Bad input: every malformed config or argument exits non-zero with one line naming the
 * problem, and leaves no state directory, mount or helper process behind.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { brigRuntime, leftovers, makeBundle } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

type Case = [name: string, edit: (s: Spec & Record<string, unknown>) => void, expected: RegExp];

const CASES: Case[] = [
  [
    'wrong type for process.args',
    (s) => ((s.process as unknown as Record<string, unknown>).args = 'sh'),
    /^brig-runtime: process\.args: expected an array, got string$/,
  ],
  ['missing process.args', (s) => delete s.process!.args, /^brig-runtime: process\.args: is required/],
  ['empty process.args', (s) => (s.process!.args = []), /^brig-runtime: process\.args: must name a program/],
  [
    'unknown namespace',
    (s) => s.linux!.namespaces!.push({ type: 'bogus' as never }),
    /^brig-runtime: linux\.namespaces\[6\]\.type: unknown namespace type "bogus"/,
  ],
  [
    'duplicate namespace',
    (s) => s.linux!.namespaces!.push({ type: 'pid' }),
    /linux\.namespaces\[6\]\.type: namespace "pid" is listed twice/,
  ],
  [
    'negative uid',
    (s) => (s.process!.user.uid = -1),
    /^brig-runtime: process\.user\.uid: -1 is out of range/,
  ],
  [
    'negative rlimit',
    (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 10 }]),
    /process\.rlimits\[0\]\.soft: expected a non-negative integer/,
  ],
  [
    'soft above hard',
    (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 20, hard: 10 }]),
    /process\.rlimits\[0\]: soft limit 20 is above hard limit 10/,
  ],
  [
    'unknown rlimit',
    (s) => (s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]),
    /process\.rlimits\[0\]\.type: unknown rlimit "RLIMIT_BOGUS"/,
  ],
  [
    'non-namespaced sysctl',
    (s) => (s.linux!.sysctl = { 'kernel.panic': '1' }),
    /^brig-runtime: linux\.sysctl\.kernel\.panic: is not namespaced: it would change the host$/,
  ],
  [
    'net sysctl without netns',
    (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    },
    /linux\.sysctl\.net\.ipv4\.ip_forward: needs a network namespace/,
  ],
  [
    'unknown capability',
    (s) => (s.process!.capabilities!.bounding = ['CAP_FLY']),
    /process\.capabilities\.bounding\[0\]: unknown capability "CAP_FLY"/,
  ],
  ['relative cwd', (s) => (s.process!.cwd = 'tmp'), /process\.cwd: "tmp" must be an absolute path/],
  ['missing root', (s) => delete s.root, /^brig-runtime: root: is required on Linux$/],
  [
    'root path missing on disk',
    (s) => (s.root!.path = 'nowhere'),
    /root\.path: .*nowhere is not a directory/,
  ],
  [
    'user namespace without mappings',
    (s) => s.linux!.namespaces!.push({ type: 'user' }),
    /linux\.uidMappings: a new user namespace needs uid mappings/,
  ],
  [
    'mappings without user namespace',
    (s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    /linux\.uidMappings: mappings need a new user namespace/,
  ],
  [
    'hostname without uts namespace',
    (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')),
    /^brig-runtime: hostname: setting a hostname needs a uts namespace in linux.namespaces$/,
  ],
  [
    'no mount namespace',
    (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount')),
    /linux\.namespaces: a new mount namespace is required/,
  ],
  [
    'bad mount type',
    (s) => s.mounts!.push({ destination: '/x', type: 'no such fs' }),
    /mounts\[8\]\.type: "no such fs" is not a filesystem type/,
  ],
  [
    'unknown filesystem',
    (s) => s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'x' }),
    /mounts\[8\]: mount of nosuchfs on \/x failed: fsopen .*No such device|ENODEV/,
  ],
  [
    'bad tmpfs option value',
    (s) => s.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'x', options: ['size=lots'] }),
    /mounts\[8\]: mount of tmpfs on \/x failed: fsconfig.*(Invalid argument|Bad value)/,
  ],
  [
    'bind source missing',
    (s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/dir', options: ['rbind'] }),
    /mounts\[8\]\.source: \/no\/such\/dir does not exist/,
  ],
  [
    'mount over /proc/self',
    (s) => s.mounts!.push({ destination: '/proc/self/x', type: 'tmpfs', source: 't' }),
    /mounts\[8\]\.destination: mounting over \/proc\/self\/x is not allowed/,
  ],
  [
    'program not found',
    (s) => (s.process!.args = ['no-such-program']),
    /^brig-runtime: process\.args\[0\]: exec: "no-such-program": executable file not found in \$PATH$/,
  ],
  [
    'cwd missing in container',
    (s) => (s.process!.cwd = '/no/such/dir'),
    /process\.cwd: changing directory to \/no\/such\/dir failed: chdir .* \(ENOENT\)/,
  ],
  ['bad ociVersion', (s) => (s.ociVersion = '2.0'), /ociVersion: "2\.0" is not a 1\.x runtime-spec version/],
  ['windows section', (s) => (s.windows = {}), /^brig-runtime: windows: brig runs Linux containers only$/],
  [
    'time offsets without time ns',
    (s) => (s.linux!.timeOffsets = { monotonic: { secs: 1 } }),
    /linux\.timeOffsets: time offsets need a new time namespace/,
  ],
  [
    'device outside /dev',
    (s) => (s.linux!.devices = [{ type: 'c', path: '/etc/null', major: 1, minor: 3 }]),
    /linux\.devices\[0\]\.path: "\/etc\/null" must be below \/dev/,
  ],
  [
    'oomScoreAdj out of range',
    (s) => (s.process!.oomScoreAdj = 5000),
    /process\.oomScoreAdj: 5000 is out of range/,
  ],
];

for (const [name, edit, expected] of CASES) {
  test(`bad config: ${name}`, { skip }, () => {
    const b = makeBundle(['true'], edit as (s: Spec) => void);
    try {
      const r = brigRuntime(b, ['run', 'bad']);
      assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
      const lines = r.stderr
        .trimEnd()
        .split('\n')
        .filter((l) => !l.startsWith('hint: '));
      assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
      assert.match(lines[0]!, expected);
      assert.deepEqual(leftovers(b), []);
    } finally {
      b.cleanup();
    }
  });
}

test('bad config: invalid JSON names the file and position', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    writeFileSync(path.join(b.dir, 'config.json'), '{"ociVersion": "1.2.0", "process": ');
    const r = brigRuntime(b, ['run', 'bad']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^brig-runtime: ${b.dir}/config.json: invalid JSON: .*(position|end)`));
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('bad ids are refused before anything is created', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    for (const id of ['../evil', 'a/b', '..', '.', '-flag', 'a b', 'x'.repeat(1025)]) {
      const r = brigRuntime(b, ['run', '--', id]);
      assert.equal(r.code, 1, id);
      assert.match(r.stderr, /invalid container id/, id);
    }
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('missing bundle and unknown flags are clear errors', { skip }, () => {
  const b = makeBundle(['true']);
  try {
    const r = brigRuntime(b, ['run', '--bundle', '/no/such/bundle', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/no\/such\/bundle\/config\.json: no such file/);
    const f = brigRuntime(b, ['run', '--bogus', 'x']);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /unknown flag --bogus/);
  } finally {
    b.cleanup();
  }
});
