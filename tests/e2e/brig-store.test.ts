/**
 * The image store against hostile images, through the brig CLI, checked from the host:
 * store permissions (no setuid binary of an image reachable by another host user), deep
 * layer stacks, oversized records, and what failures leave behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyboxLayer, dockerArchive, fileLayer, writeBigArchive } from '../support/image-archive.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

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

test('a first `brig images` creates the data root 0700; an open root is tightened, one another user owns refused', { skip }, () => {
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

  const theirs = path.join(base, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 65534, 65534);
  const r2 = brig(theirs, ['images']);
  // docker's CLI exits 1 when the daemon refuses.
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /theirs is owned by uid 65534, not by this user \(0\)/);
});

test("an image's setuid-root binary and device node in the store are out of another host user's reach", { skip }, () => {
  const root = path.join(base, 'suid');
  const archive = path.join(base, 'suid.tar');
  writeFileSync(
    archive,
    dockerArchive([
      {
        tags: ['suid:1'],
        // coreutils' id (busybox drops setuid privileges itself) reports an effective uid.
        // A world-writable device node (1:3 is /dev/null's numbers: harmless if it leaked).
        layers: [
          busyboxLayer([
            { name: 'bin/sid', data: readFileSync('/usr/bin/id'), mode: 0o4755, uid: 0, gid: 0 },
            { name: 'dev/', type: 'dir', mode: 0o755 },
            { name: 'dev/anyone', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
          ]),
        ],
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
  const [dev] = find(root, (p) => p.endsWith('/fs/dev/anyone'));
  assert.ok(dev && statSync(dev).isCharacterDevice());
  assert.match(asNobody(['/bin/sh', '-c', `echo x > ${dev}`]).stderr, /Permission denied/);
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
  assert.equal(load.code, 1);
  assert.match(load.stderr, /image docker.io\/library\/deep:501 has 501 layers; the overlayfs snapshotter stacks at most 500/);
  assert.doesNotMatch(brig(root, ['images']).stdout, /deep/);
  assert.deepEqual(readdirSync(path.join(root, 'images', 'store', 'blobs', 'sha256')), []);
});

/** Polls `cond` every 20 ms until it holds (or fails the test after `ms`). */
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function ls(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

function snapshotKeys(root: string): string[] {
  try {
    return Object.keys(JSON.parse(readTextSync(path.join(root, 'snapshots/overlayfs/metadata.json'))).snapshots);
  } catch {
    return [];
  }
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

function killed(child: ChildProcess): Promise<unknown> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  return exited;
}

describe('kill -9 in the middle of a command', { skip }, () => {
  const root = path.join(base, 'killed');
  const archive = path.join(base, 'big.tar.gz');
  // Zeros compress far past any expansion-ratio limit: this test is about kills, not bombs.
  const env = { ...process.env, BRIG_ROOT: root, BRIG_MAX_EXPANSION_RATIO: '1000000' };
  before(async () => writeBigArchive(archive, 'big:1', 512 << 20));

  test('during a load: the next command removes its partial blob and lease', async () => {
    const ingest = path.join(root, 'images/store/ingest');
    const child = spawn(BRIG, ['load', '-i', archive], { env, stdio: 'ignore' });
    await until('the layer blob to be half written', () => ls(ingest).some((n) => sizeOf(path.join(ingest, n)) > 64 << 20));
    await killed(child);
    assert.equal(ls(path.join(root, 'images/store/leases')).length, 1, 'the load left its lease');
    assert.ok(ls(ingest).length >= 1, 'and its partial blob');

    const r = brig(root, ['images']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ls(ingest), []);
    assert.deepEqual(ls(path.join(root, 'images/store/leases')), []);
    assert.deepEqual(ls(path.join(root, 'images/store/blobs/sha256')), []);
  });

  test('during an unpack: the next command removes the work snapshot and container dir, not a live one', async () => {
    const load = spawnSync(BRIG, ['load', '-i', archive], { env, encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
    const snaps = path.join(root, 'snapshots/overlayfs/snapshots');
    const unpacking = () => snapshotKeys(root).some((k) => k.startsWith('extract-')) && ls(snaps).some((n) => sizeOf(path.join(snaps, n, 'fs/big')) > 64 << 20);

    const child = spawn(BRIG, ['run', '--rm', 'big:1', 'true'], { env, stdio: 'ignore' });
    await until('the layer to be half unpacked', unpacking);
    await killed(child);
    const [deadId] = ls(path.join(root, 'containers'));
    const [deadKey] = snapshotKeys(root);
    assert.ok(deadId, 'the run left its container dir');
    assert.match(deadKey ?? '', /^extract-/, 'and its work snapshot');

    // The next command (another run) removes both; a command beside it leaves its live work alone.
    const live = spawn(BRIG, ['run', '--rm', 'big:1', 'true'], { env, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => live.once('exit', r));
    const liveWork = () => {
      const c = ls(path.join(root, 'containers'));
      const k = snapshotKeys(root);
      return c.length === 1 && c[0] !== deadId && k.length === 1 && k[0] !== deadKey && k[0]!.startsWith('extract-');
    };
    await until('the second run to be unpacking, the first one swept', liveWork);
    const r = brig(root, ['images']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(liveWork(), 'the live run keeps its container dir and work snapshot');
    assert.equal(await done, 127, 'the live run unpacked and ran (the image has no `true`)');
    assert.deepEqual(ls(path.join(root, 'containers')), []);
    assert.deepEqual(ls(path.join(root, 'snapshots/overlayfs/trash')), []);
    assert.deepEqual(snapshotKeys(root).length, 1, 'only the committed layer');
    assert.equal(brig(root, ['rmi', 'big:1']).code, 0);
    assert.deepEqual(ls(snaps), []);
  });
});

test('an over-limit record already in the store does not brick images, run, rmi or prune', { skip }, () => {
  const root = path.join(base, 'bricked');
  const archive = path.join(base, 'good.tar');
  writeFileSync(archive, dockerArchive([{ tags: ['good:1'], layers: [busyboxLayer()] }]));
  assert.equal(brig(root, ['load', '-i', archive]).code, 0);
  // What an older brig let in (a 5 MB config), written behind the store's back.
  const store = path.join(root, 'images/store');
  const put = (data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(path.join(store, 'blobs/sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const cfg = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { big: 'x'.repeat(5_000_000) } } })));
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const man = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [] })));
  const index = JSON.parse(readTextSync(path.join(store, 'index.json')));
  index.manifests.push({ mediaType, ...man, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/big:1' } });
  writeFileSync(path.join(store, 'index.json'), JSON.stringify(index));

  const images = brig(root, ['images']);
  assert.equal(images.code, 0, images.stderr);
  assert.match(images.stdout, /^big\s+1\s/m);
  assert.match(images.stdout, /^good\s+1\s/m);
  const bad = brig(root, ['run', '--rm', 'big:1', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /image big:1 cannot be used: blob sha256:[0-9a-f]{64} is 5000\d{3} bytes, over 4194304\nhint: remove it: brig rmi big:1/);
  assert.equal(brig(root, ['run', '--rm', 'good:1', 'true']).code, 0);
  const rmi = brig(root, ['rmi', 'big:1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.doesNotMatch(brig(root, ['images']).stdout, /^big/m);
  assert.equal(existsSync(path.join(store, 'blobs/sha256', cfg.digest.slice(7))), false, 'its 5 MB config is gone');
  const prune = brig(root, ['image', 'prune', '-a', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.doesNotMatch(brig(root, ['images']).stdout, /^good/m);
});

test('kill -9 of `brig run` while its container runs: kept while it runs, removed by the next command after', { skip }, async () => {
  const root = path.join(base, 'orphan');
  const archive = path.join(base, 'bb.tar');
  writeFileSync(archive, dockerArchive([{ tags: ['bb:1'], layers: [busyboxLayer()] }]));
  assert.equal(brig(root, ['load', '-i', archive]).code, 0);
  const child = spawn(BRIG, ['run', '--rm', 'bb:1', 'sh', '-c', 'while [ ! -e /.go ]; do sleep 0.05; done'], {
    env: { ...process.env, BRIG_ROOT: root },
    stdio: 'ignore',
  });
  const containers = path.join(root, 'containers');
  const status = (id: string) =>
    JSON.parse(spawnSync(`${BRIG}-runtime`, ['--root', path.join(root, 'run'), 'state', id], { encoding: 'utf8' }).stdout || '{}').status;
  await until('the container to run', () => ls(containers).length === 1 && status(ls(containers)[0]!) === 'running');
  await killed(child);
  assert.equal(brig(root, ['images']).code, 0);
  assert.equal(ls(containers).length, 1, 'a running container keeps its rootfs');
  // Its rootfs and, on the default bridge network, its network namespace.
  assert.deepEqual(mountsUnder(root).map((m) => (m.endsWith('/rootfs') ? 'rootfs' : m.includes('/netns/') ? 'netns' : m)).sort(), ['netns', 'rootfs']);
  // Let it finish: it polls for a file in its own rootfs.
  const [id] = ls(containers);
  writeFileSync(path.join(containers, id!, 'rootfs', '.go'), '');
  await until('the container to exit', () => status(id!) !== 'running');
  assert.equal(brig(root, ['images']).code, 0);
  assert.deepEqual(ls(containers), []);
  assert.deepEqual(mountsUnder(root), []);
  assert.deepEqual(ls(path.join(root, 'run')), []);
});

function mountsUnder(dir: string): string[] {
  return readTextSync('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}
