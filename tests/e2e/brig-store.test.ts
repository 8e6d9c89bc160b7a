/**
 * The image store against hostile images, through the brig CLI, checked from the host:
 * store permissions (no setuid binary of an image reachable by another host user), deep
 * layer stacks, oversized records, and what failures leave behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { busyboxLayer, dockerArchive, fileLayer } from '../support/image-archive.js';
import { repoRoot, requires } from '../support/requires.js';

const BRIG = path.join(repoRoot, 'bin', 'brig');
const skip = requires('root', 'helper', 'busybox');
// World-traversable, so what keeps other users out is the data root's own mode.
const base = mkdtempSync(path.join(tmpdir(), 'brig-store-'));
chmodSync(base, 0o755);
after(() => rmSync(base, { recursive: true, force: true }));

function brig(root: string, args: string[]) {
  const r = spawnSync(BRIG, args, { env: { ...process.env, BRIG_ROOT: root }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `args` as nobody through a shell: setpriv itself still holds root's capabilities when
 * it execs (they are dropped by that exec), so its own execve would pass any directory; the
 * shell's exec is an unprivileged user's.
 */
function asNobody(args: string[]) {
  return spawnSync(
    'setpriv',
    ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--', '/bin/sh', '-c', 'exec "$@"', 'sh', ...args],
    { encoding: 'utf8' },
  );
}

function find(dir: string, want: (p: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (want(p)) out.push(p);
    if (e.isDirectory() && !e.isSymbolicLink()) find(p, want, out);
  }
  return out;
}

const mode = (p: string) => statSync(p).mode & 0o7777;

test('a first `brig images` creates the data root 0700; an existing open root is tightened', { skip }, () => {
  const root = path.join(base, 'fresh');
  const r = brig(root, ['images']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(mode(root).toString(8), '700');
  for (const d of ['images', 'images/store', 'containers']) assert.equal(mode(path.join(root, d)) & 0o077, 0, d);

  const open = path.join(base, 'open');
  mkdirSync(open, { mode: 0o755 });
  chmodSync(open, 0o755);
  assert.equal(brig(open, ['images']).code, 0);
  assert.equal(mode(open).toString(8), '700');
});

test("an image's setuid-root binary in the store cannot be run by another host user", { skip }, () => {
  const root = path.join(base, 'suid');
  const archive = path.join(base, 'suid.tar');
  writeFileSync(
    archive,
    dockerArchive([
      {
        tags: ['suid:1'],
        // coreutils' id (busybox drops setuid privileges itself) reports an effective uid.
        layers: [busyboxLayer([{ name: 'bin/sid', data: readFileSync('/usr/bin/id'), mode: 0o4755, uid: 0, gid: 0 }])],
      },
    ]),
  );
  const load = brig(root, ['load', '-i', archive]);
  assert.equal(load.code, 0, load.stderr);
  // `run` unpacks the layer into the snapshotter.
  const run = brig(root, ['run', '--rm', 'suid:1', 'true']);
  assert.equal(run.code, 0, run.stderr);
  const [sbb] = find(root, (p) => p.endsWith('/fs/bin/sid'));
  assert.ok(sbb, 'the unpacked setuid binary is in the store');
  assert.equal(mode(sbb).toString(8), '4755', 'the image keeps its setuid bit (the test means something)');

  // Control: the same binary copied outside the store runs setuid for nobody.
  const outside = path.join(base, 'sid-outside');
  spawnSync('cp', ['-p', sbb, outside]);
  chmodSync(outside, 0o4755);
  assert.match(asNobody([outside]).stdout, /euid=0/);
  rmSync(outside);

  const r = asNobody([sbb]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Permission denied/);
  assert.doesNotMatch(r.stdout, /euid=0/);
  const ls = asNobody(['/bin/ls', root]);
  assert.match(ls.stderr, /Permission denied/);
  // Nothing below the root is group/other-writable either.
  for (const d of ['images/store', 'images/store/blobs', 'snapshots', 'snapshots/overlayfs', 'snapshots/overlayfs/snapshots']) {
    assert.equal(mode(path.join(root, d)) & 0o077, 0, d);
  }
});

test('a 128-layer image on a data root whose path is 200 bytes runs with every layer', { skip }, () => {
  const root = path.join(base, 'r'.repeat(200 - base.length - 1));
  assert.equal(root.length, 200);
  const layers = [busyboxLayer([{ name: 'bottom', data: 'from the bottom layer\n' }])];
  for (let i = 2; i <= 128; i++) layers.push(fileLayer(`layer-${i}`, `${i}\n`));
  const archive = path.join(base, 'deep.tar');
  writeFileSync(archive, dockerArchive([{ tags: ['deep:128'], layers }]));
  const load = brig(root, ['load', '-i', archive]);
  assert.equal(load.code, 0, load.stderr);
  const r = brig(root, ['run', '--rm', 'deep:128', 'sh', '-c', 'cat /bottom /layer-2 /layer-64 /layer-128; ls / | grep -c "^layer-"']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the bottom layer\n2\n64\n128\n127\n');
});

test('an image of more than 500 layers is refused at load, naming the count and the limit', { skip }, () => {
  const root = path.join(base, 'toodeep');
  const layers = [busyboxLayer()];
  for (let i = 2; i <= 501; i++) layers.push(fileLayer(`layer-${i}`, `${i}\n`));
  const archive = path.join(base, 'toodeep.tar');
  writeFileSync(archive, dockerArchive([{ tags: ['deep:501'], layers }]));
  const load = brig(root, ['load', '-i', archive]);
  assert.equal(load.code, 125);
  assert.match(load.stderr, /image docker.io\/library\/deep:501 has 501 layers; the overlayfs snapshotter stacks at most 500/);
  assert.doesNotMatch(brig(root, ['images']).stdout, /deep/);
  assert.deepEqual(readdirSync(path.join(root, 'images', 'store', 'blobs', 'sha256')), []);
});
