/**
 * The brig CLI as a user runs it: the built-in image, and an image round trip through a
 * local registry (import → push → rmi → pull → run → save → load → run). BRIG_ROOT keeps
 * the test's engine data in a temp dir.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { registryMissing, startRegistry, type TestRegistry } from '../support/image-registry.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const BRIG = path.join(repoRoot, 'bin', 'brig');
const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-e2e-'));

function brig(args: string[], input?: string) {
  const r = spawnSync(BRIG, args, { env: { ...process.env, BRIG_ROOT: path.join(root, 'data') }, encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mountsUnder(dir: string): string[] {
  return readTextSync('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

after(() => rmSync(root, { recursive: true, force: true }));

test('brig run on the built-in host image: output, exit code, nothing left', { skip }, () => {
  const r = brig(['run', '--rm', 'host', 'sh', '-c', 'echo hello from brig; id -u; hostname; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /^hello from brig\n0\n[0-9a-f]{12}\n$/);
  assert.deepEqual(mountsUnder(root), []);
});

test('brig run: a missing program exits 127 with the name; an unknown image is a clear error', { skip }, () => {
  const r = brig(['run', '--rm', 'host', 'no-such-program']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /exec: "no-such-program": executable file not found in \$PATH/);
  const i = brig(['run', '--rm', 'nosuchimage', 'true']);
  assert.equal(i.code, 125);
  assert.match(i.stderr, /nosuchimage/);
});

test('brig images lists the built-in host image; inspect has docker\'s shape', { skip }, () => {
  assert.match(brig(['images']).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nhost\s+latest\s+[0-9a-f]{12}/);
  const [img] = JSON.parse(brig(['image', 'inspect', 'host']).stdout);
  assert.deepEqual(img.RepoTags, ['host:latest']);
  assert.equal(img.Os, 'linux');
});

let registry: TestRegistry | undefined;
const regSkip = skip || registryMissing();
before(async () => {
  if (!regSkip) registry = await startRegistry();
});
after(async () => registry?.stop());

test('image round trip through a local registry, then run it', { skip: regSkip }, async () => {
  const ref = `127.0.0.1:${registry!.port}/e2e/bb:1`;
  const rootfs = await makeBusyboxRootfs(root);
  const tar = path.join(root, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status, 0);

  const imp = brig(['import', tar, ref]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const push = brig(['push', ref]);
  assert.equal(push.code, 0, push.stderr);
  // docker's daemon's words, as its CLI prints them without a terminal.
  const lines = push.stdout.trim().split('\n');
  assert.equal(lines[0], `The push refers to repository [127.0.0.1:${registry!.port}/e2e/bb]`);
  assert.match(lines[1]!, /^[0-9a-f]{12}: Preparing$/);
  assert.match(lines[2]!, /^[0-9a-f]{12}: Pushed$/);
  assert.match(lines.at(-1)!, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/);
  const again = brig(['push', ref]);
  assert.match(again.stdout, /^[0-9a-f]{12}: Layer already exists$/m);
  const json = brig(['push', '--json', ref]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { aux?: { Tag: string; Digest: string; Size: number } });
  assert.equal(json.at(-1)!.aux!.Tag, '1');
  assert.match(json.at(-1)!.aux!.Digest, /^sha256:/);
  assert.equal(brig(['push', '-q', ref]).stdout, `${ref}\n`);
  assert.equal(brig(['rmi', ref]).code, 0);
  assert.doesNotMatch(brig(['images']).stdout, /e2e\/bb/);

  const pull = brig(['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(brig(['images']).stdout, new RegExp(`127.0.0.1:${registry!.port}/e2e/bb\\s+1\\s+[0-9a-f]{12}`));

  const run = brig(['run', '--rm', ref, 'sh', '-c', 'echo from-image; ls /bin/busybox; echo x > /made && echo writable']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'from-image\n/bin/busybox\nwritable\n');
  assert.deepEqual(mountsUnder(root), []);

  const archive = path.join(root, 'saved.tar');
  assert.equal(brig(['save', '-o', archive, ref]).code, 0);
  assert.equal(brig(['rmi', ref]).code, 0);
  const load = brig(['load', '-i', archive]);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /Loaded image: /);
  assert.equal(brig(['run', '--rm', ref, 'sh', '-c', 'exit 0']).code, 0);
  const hist = brig(['history', ref]);
  assert.equal(hist.code, 0, hist.stderr);
  assert.deepEqual(mountsUnder(root), []);
});

test("brig info: docker's report, the fast path on this host (overlayfs, no host tool needed), and why each part was chosen", { skip }, () => {
  const r = brig(['info']);
  assert.equal(r.code, 0, r.stderr);
  for (const line of [/^ Storage Driver: overlayfs$/m, /^ Cgroup Driver: cgroupfs$/m, /^ Default Runtime: brig$/m, /^ Security Options:\n {2}seccomp\n {3}Profile: builtin$/m, /^ Docker Root Dir: /m, /^ Choices \(brig\):$/m, /^ {2}network: brig-bridge\+netavark$/m]) {
    assert.match(r.stdout, line);
  }
  const info = JSON.parse(brig(['info', '--format', 'json']).stdout) as { Driver: string; Choices: { part: string; choice: string; why: string }[]; ID: string; NCPU: number };
  assert.equal(info.Driver, 'overlayfs', 'the first run must not fall back to copying images');
  assert.deepEqual(info.Choices.map((c) => c.part), ['snapshotter', 'cgroups', 'runtime', 'network', 'logging', 'init']);
  for (const c of info.Choices) assert.ok(c.why.length > 10, `${c.part} says why`);
  assert.equal(brig(['info', '-f', '{{.ID}}']).stdout.trim(), info.ID, 'a stable engine id');
  assert.equal(brig(['info', '-f', '{{.NCPU}}']).stdout.trim(), String(info.NCPU));
});

test('a host with many mounts and a mount line over 8 KiB (deep mount points, many-layer overlays) does not crash brig: Node 24 readFileSync(utf8) did', { skip }, () => {
  // In a mount namespace of the test's own: 300 mounts, one of them 45 directories of 200
  // characters deep (its mountinfo line is over 9 kB); they vanish with the namespace.
  const dirs = path.join(root, 'many');
  const script = [
    'set -e',
    `mkdir -p ${dirs}`,
    `mount -t tmpfs many ${dirs}`,
    `for i in $(seq 300); do mkdir ${dirs}/$i; mount -t tmpfs m$i ${dirs}/$i; done`,
    `cd ${dirs}`,
    'seg=$(printf "d%.0s" $(seq 200))',
    'for i in $(seq 45); do mkdir $seg; cd $seg; done',
    'mkdir m; mount -t tmpfs deep m; cd /',
    "awk 'length($0) > 8192' /proc/self/mountinfo | wc -l >&2",
    'exec "$@"',
  ].join('; ');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script, 'bash', BRIG, 'run', '--rm', 'host', 'echo', 'ok'], { env: { ...process.env, BRIG_ROOT: path.join(root, 'data') }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim().split('\n')[0], '1', `one mountinfo line over 8 KiB: ${r.stderr}`);
  assert.equal(r.stdout, 'ok\n');
});
