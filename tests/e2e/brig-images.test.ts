/**
 * The image verbs as a docker user runs them, through the real bin/brig on a data root of
 * its own: save to stdout or -o, load from stdin or -i, import FILE or -, all streamed
 * (brig's peak RSS measured against a 512 MiB image); rmi of an image a container uses
 * (docker's conflicts, -f rules, a running container's image kept); image prune (the
 * prompt and what stdin answers, -f, -a, filters, images in use kept, the space freed
 * measured on disk); images --filter/-q/--digests; pull with docker's lines and statuses,
 * -q, -a, bad references. Every failure: docker's message, its exit code, nothing left.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { busyboxLayer, dockerArchive, fileLayer, writeBigArchive } from '../support/image-archive.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { registryMissing, startRegistry, type TestRegistry } from '../support/image-registry.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-images-'));
const data = path.join(root, 'data');
const { env, brig, ok } = brigCli(data);
const DRIVER = path.join(repoRoot, 'tests', 'support', 'pty-driver.py');

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

/** brig with binary stdout (an archive). */
function brigBytes(args: string[], input?: Buffer) {
  const r = spawnSync(BRIG, args, { env, input: input ?? Buffer.alloc(0), timeout: 120_000, maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** brig with stdout on a terminal (script(1) gives it a pty); what it printed and its status. */
function onTerminal(args: string[]) {
  const r = spawnSync('script', ['-qec', [BRIG, ...args].join(' '), '/dev/null'], { env, encoding: 'utf8', input: '', timeout: 60_000 });
  return { code: r.status, out: r.stdout.replace(/\r/g, '') };
}

const idOf = (name: string) => ok(['image', 'inspect', '-f', '{{.Id}}', name]).trim();
const blobs = () => readdirSync(path.join(data, 'images/store/blobs/sha256')).sort();
const ingest = () => readdirSync(path.join(data, 'images/store/ingest'));
const diskUsage = (dir: string) => Number(spawnSync('du', ['-s', '-B1', dir], { encoding: 'utf8' }).stdout.split('\t')[0]);
/** docker's units back to bytes: "1.05MB" → 1050000. */
const bytesOf = (human: string) => {
  const m = /^([\d.]+)(B|kB|MB|GB)$/.exec(human)!;
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B']!;
};

const L1 = busyboxLayer();
const L2 = fileLayer('etc/two', 'two\n');
const CONFIG = { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] };
const ARCHIVE = path.join(root, 'bb.tar');
let rootfsTar = '';

before(async () => {
  if (skip) return;
  writeFileSync(
    ARCHIVE,
    dockerArchive([
      { tags: ['bb:1'], layers: [L1], config: { created: '2024-01-01T00:00:00Z', config: CONFIG } },
      { tags: ['bb:2'], layers: [L1, L2], config: { created: '2024-02-01T00:00:00Z', config: { ...CONFIG, Labels: { tier: 'two' } } } },
    ]),
  );
  const rootfs = await makeBusyboxRootfs(root);
  rootfsTar = path.join(root, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', rootfsTar, '.']).status, 0);
});

test('save to stdout or -o FILE (0600, renamed into place), load from stdin or -i, never a terminal', { skip }, () => {
  assert.equal(ok(['load', '-i', ARCHIVE]), 'Loaded image: bb:1\nLoaded image: bb:2\n');
  const saved = brigBytes(['save', 'bb:1']);
  assert.equal(saved.code, 0, saved.stderr);
  const tarFile = path.join(root, 'stdout.tar');
  writeFileSync(tarFile, saved.stdout);
  assert.match(spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout, /^manifest\.json$/m);
  assert.match(ok(['rmi', 'bb:1']), /^Untagged: bb:1$/m);
  assert.equal(ok(['load'], saved.stdout), 'Loaded image: bb:1\n');
  assert.equal(ok(['load', '-q'], saved.stdout), 'Loaded image: bb:1\n');

  const outDir = mkdtempSync(path.join(root, 'out-'));
  ok(['save', '-o', path.join(outDir, 'both.tar'), 'bb:1', 'bb:2']);
  assert.deepEqual(readdirSync(outDir), ['both.tar']);
  assert.equal(statSync(path.join(outDir, 'both.tar')).mode & 0o777, 0o600);
  assert.equal(ok(['load', '-i', path.join(outDir, 'both.tar')]), 'Loaded image: bb:1\nLoaded image: bb:2\n');

  const tty = onTerminal(['save', 'bb:1']);
  assert.equal(tty.code, 1);
  assert.equal(tty.out, 'cowardly refusing to save to a terminal. Use the -o flag or redirect\n');
  const ttyIn = onTerminal(['load']);
  assert.equal(ttyIn.code, 1);
  assert.equal(ttyIn.out, 'requested load from stdin, but stdin is empty\n');
});

test("save, load and import failures: docker's words, exit 1, nothing written or stored", { skip }, () => {
  const outDir = mkdtempSync(path.join(root, 'fail-'));
  const before = blobs();
  const missing = brig(['save', '-o', path.join(outDir, 'x.tar'), 'bb:1', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error response from daemon: No such image: nosuch:latest$/m);
  assert.deepEqual(readdirSync(outDir), [], 'no file, no temporary file');
  const noDir = brig(['save', '-o', path.join(outDir, 'no/such/dir.tar'), 'bb:1']);
  assert.equal(noDir.code, 1);
  assert.match(noDir.stderr, /^failed to save image: invalid output path: stat .*no\/such: no such file or directory$/m);
  const noFile = brig(['load', '-i', path.join(outDir, 'nosuch.tar')]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /^open .*nosuch\.tar: no such file or directory$/m);
  const garbage = brig(['load'], Buffer.from('this is not an archive\n'.repeat(100)));
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /^Error response from daemon: /m);
  const badImport = brig(['import', path.join(outDir, 'nosuch.tar')]);
  assert.equal(badImport.code, 1);
  assert.match(badImport.stderr, /^open .*nosuch\.tar: no such file or directory$/m);
  const url = brig(['import', 'https://example.com/rootfs.tar']);
  assert.equal(url.code, 1);
  assert.match(url.stderr, /^importing from a URL is not supported/m);
  const change = brig(['import', '-c', 'BOGUS x', rootfsTar]);
  assert.equal(change.code, 1);
  assert.match(change.stderr, /bogus is not a valid change command/);
  const notTar = brig(['import', '-', 'junk:1'], Buffer.alloc(4096, 7));
  assert.equal(notTar.code, 1);
  assert.match(notTar.stderr, /^Error response from daemon: Error processing tar file: /m);
  assert.deepEqual(blobs(), before, 'no blob stays from a failed save, load or import');
  assert.deepEqual(ingest(), []);
  assert.doesNotMatch(ok(['images']), /junk/);
  const tooMany = brig(['import', rootfsTar, 'a:1', 'b:1']);
  assert.equal(tooMany.code, 125);
  assert.match(tooMany.stderr, /requires at least 1 and at most 2 arguments/);
});

test('import FILE or - (stdin) with -c/--change, -m/--message and --platform; the image runs', { skip }, () => {
  const fromStdin = ok(['import', '-c', 'CMD ["/bin/sh", "-c", "echo imported"]', '-c', 'ENV GREETING=hi', '-m', 'from stdin', '-', 'imp:1'], readFileSync(rootfsTar));
  assert.match(fromStdin, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(ok(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{index .Config.Env 0}} {{.Comment}}', 'imp:1']), '["/bin/sh","-c","echo imported"] GREETING=hi from stdin\n');
  assert.equal(ok(['run', '--rm', 'imp:1']), 'imported\n');
  const arm = ok(['import', '--platform', 'linux/arm64', rootfsTar, 'imp:arm']).trim();
  assert.equal(ok(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', arm]), 'linux/arm64\n');
  const dangling = ok(['import', rootfsTar]).trim();
  assert.match(ok(['images', '--filter', 'dangling=true', '-q', '--no-trunc']), new RegExp(dangling));
  ok(['rmi', 'imp:1', 'imp:arm', dangling]);
});

test('a 512 MiB image streams through load, save to a pipe and import -: brig never holds it in memory', { skip }, async () => {
  const big = path.join(root, 'big.tar.gz');
  await writeBigArchive(big, 'big:1', 512 << 20);
  const rss = path.join(root, 'rss');
  const run = (script: string) => {
    // Zeros compress 1000-fold: let the load take them (the point here is memory).
    const r = spawnSync('sh', ['-c', script], { env: { ...env, BRIG: BRIG, RSS: rss, BRIG_MAX_EXPANSION_RATIO: '100000' }, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, peakMiB: Number(readTextSync(rss).trim().split('\n').pop()) / 1024 };
  };
  const load = run(`/usr/bin/time -f %M -o "$RSS" "$BRIG" load < ${big}`);
  assert.equal(load.out, 'Loaded image: big:1\n');
  const save = run(`/usr/bin/time -f %M -o "$RSS" "$BRIG" save big:1 | wc -c`);
  assert.ok(Number(save.out) > 512 << 20, `saved ${save.out} bytes`);
  const layer = JSON.parse(ok(['image', 'inspect', 'big:1']))[0].RootFS.Layers[0].slice(7);
  const imp = run(`"$BRIG" save big:1 | tar -xOf - ${layer}/layer.tar | /usr/bin/time -f %M -o "$RSS" "$BRIG" import - bigimp:1`);
  assert.match(imp.out, /^sha256:/);
  for (const [what, r] of [['load', load], ['save', save], ['import', imp]] as const) {
    console.log(`  ${what} of a 512 MiB image: brig's peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    assert.ok(r.peakMiB < 200, `${what}: peak RSS ${r.peakMiB} MiB`);
  }
  ok(['rmi', 'big:1', 'bigimp:1']);
  rmSync(big);
});

describe('rmi of an image a container uses', { skip }, () => {
  test("a kept container, stopped: refused without -f (by name and by ID), docker's words", () => {
    ok(['load', '-i', ARCHIVE]);
    const id = idOf('bb:1');
    const cid = ok(['create', '--name', 'user1', 'bb:1', 'true']).trim();
    const byName = brig(['rmi', 'bb:1']);
    assert.equal(byName.code, 1);
    assert.match(byName.stderr, new RegExp(`^Error response from daemon: conflict: unable to remove repository reference "bb:1" \\(must force\\) - container ${cid.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}$`, 'm'));
    const byId = brig(['rmi', id.slice(7, 19)]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, new RegExp(`conflict: unable to delete ${id.slice(7, 19)} \\(must be forced\\) - image is being used by stopped container ${cid.slice(0, 12)}`));
    ok(['tag', 'bb:1', 'bb:other']);
    // Two names: by name only that name goes, container or not.
    assert.equal(ok(['rmi', 'bb:other']), 'Untagged: bb:other\n');
    // -f by name with a stopped container: docker deletes it.
    assert.match(ok(['rmi', '-f', 'bb:1']), new RegExp(`^Untagged: bb:1\\nDeleted: ${id}\\n`));
    ok(['rm', 'user1']);
  });

  test('a running container: -f untags but keeps the image; by ID it cannot be forced; then it goes', async () => {
    ok(['load', '-i', ARCHIVE]);
    const id = idOf('bb:2');
    const cid = ok(['run', '-d', '--name', 'user2', 'bb:2', 'busybox', 'sleep', '300']).trim();
    const byId = brig(['rmi', '-f', id]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, new RegExp(`conflict: unable to delete ${id.slice(7, 19)} \\(cannot be forced\\) - image is being used by running container ${cid.slice(0, 12)}`));
    assert.equal(ok(['rmi', '-f', 'bb:2']), 'Untagged: bb:2\n');
    assert.match(ok(['images', '-a']), new RegExp(`^<none>\\s+<none>\\s+${id.slice(7, 19)}`, 'm'));
    ok(['rm', '-f', 'user2']);
    assert.match(ok(['rmi', id.slice(7, 19)]), new RegExp(`^Deleted: ${id}$`, 'm'));
  });

  test('a foreground `run --rm` container (no record) holds its image too, while it runs', async () => {
    ok(['load', '-i', ARCHIVE]);
    ok(['tag', 'bb:2', 'fg:1']);
    const id = idOf('fg:1');
    // sh traps TERM (init ignores it otherwise): the SIGTERM below, passed on by brig, ends it.
    const child: ChildProcess = spawn(BRIG, ['run', '--rm', 'fg:1', 'sh', '-c', 'trap "exit 0" TERM; busybox sleep 300 & wait'], { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 200 && ok(['images', '--filter', 'reference=fg', '--format', '{{.Containers}}']).trim() !== '1'; i++) await sleep(50);
      const r = brig(['rmi', '-f', id]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\(cannot be forced\) - image is being used by running container [0-9a-f]{12}/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.match(ok(['rmi', '-f', id]), /^Untagged: bb:2$/m);
  });

  test('rmi: docker exit codes (-f and a missing image: message, status 0)', () => {
    const missing = brig(['rmi', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
    const forced = brig(['rmi', '-f', 'nosuch']);
    assert.equal(forced.code, 0);
    assert.match(forced.stderr, /No such image: nosuch:latest/);
    const builtin = brig(['rmi', 'host']);
    assert.equal(builtin.code, 1);
  });
});

describe('image prune', { skip }, () => {
  const DANGLING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ';
  const ALL = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ';

  test('asks first; "n", an empty answer or end of input leave everything (exit 0); y, -f go on', () => {
    const dangling = ok(['import', rootfsTar]).trim();
    for (const input of ['n\n', '', '\n', 'yes\n']) {
      const r = brig(['image', 'prune'], input);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, DANGLING, JSON.stringify(input));
    }
    assert.equal(ok(['image', 'prune', '-a'], 'N\n'), ALL);
    assert.match(ok(['images', '-q', '--no-trunc']), new RegExp(dangling));
    const yes = ok(['image', 'prune'], 'Y\n');
    assert.match(yes, new RegExp(`^${DANGLING.replace(/[?[\]]/g, '\\$&')}Deleted Images:\\ndeleted: ${dangling}\\n(deleted: sha256:[0-9a-f]{64}\\n)*\\nTotal reclaimed space: [\\d.]+[kM]?B\\n$`));
    assert.doesNotMatch(ok(['images', '-q', '--no-trunc']), new RegExp(dangling));
    assert.equal(ok(['image', 'prune', '-f']), 'Total reclaimed space: 0B\n');
  });

  test('on a terminal the answer is typed', { skip: requires('python3') }, () => {
    const dangling = ok(['import', rootfsTar]).trim();
    const r = spawnSync('python3', [DRIVER, JSON.stringify([{ expect: '\\[y/N\\] ' }, { send: 'y\n' }]), BRIG, 'image', 'prune'], { env, encoding: 'utf8', timeout: 60_000 });
    const res = JSON.parse(r.stdout) as { out: string; status: number };
    assert.equal(res.status, 0);
    assert.match(res.out, new RegExp(`deleted: ${dangling}`));
  });

  test('-a keeps images containers use; the space reported is what the disk got back', (t) => {
    ok(['load', '-i', ARCHIVE]);
    ok(['import', '-c', 'LABEL keep=yes', rootfsTar, 'fresh:1']);
    const used = idOf('bb:1');
    ok(['create', '--name', 'keeper', 'bb:1', 'true']);
    t.after(() => brig(['rm', '-f', 'keeper']));
    ok(['run', '--rm', 'bb:2', 'true']); // unpacked: its snapshots are freed too
    const before = diskUsage(data);
    const r = ok(['image', 'prune', '-a', '-f', '--filter', 'until=24h']);
    const after = diskUsage(data);
    assert.match(r, /^Deleted Images:\nuntagged: bb:2\ndeleted: sha256:/);
    assert.doesNotMatch(r, new RegExp(used), 'the container keeps its image');
    const reported = bytesOf(/Total reclaimed space: (\S+)/.exec(r)![1]!);
    const freed = before - after;
    assert.ok(freed > 0);
    assert.ok(Math.abs(reported - freed) <= Math.max(freed * 0.02, 64 << 10), `reported ${reported}, du says ${freed}`);
    // until=24h spared the image made now; a label filter picks it.
    assert.match(ok(['images']), /^fresh\s/m);
    assert.match(ok(['image', 'prune', '-a', '-f', '--filter', 'label=keep=no']), /^Total reclaimed space: 0B$/m);
    assert.match(ok(['image', 'prune', '-a', '-f', '--filter', 'label!=keep']), /^Total reclaimed space: 0B$/m);
    assert.match(ok(['image', 'prune', '-a', '-f', '--filter', 'label=keep']), /untagged: fresh:1/);
    assert.match(ok(['images']), /^bb\s+1\s/m);
  });

  test("bad filters: docker's messages and exit codes", () => {
    const format = brig(['image', 'prune', '-f', '--filter', 'foo']);
    assert.equal(format.code, 125);
    assert.match(format.stderr, /invalid argument "foo" for "--filter" flag: bad format of filter \(expected name=value\)/);
    const unknown = brig(['image', 'prune', '-f', '--filter', 'foo=1']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "Error response from daemon: invalid filter 'foo'\n");
    const until = brig(['image', 'prune', '-f', '--filter', 'until=xyz']);
    assert.equal(until.code, 1);
    assert.match(until.stderr, /failed to parse value as time or duration/);
  });
});

test('images: --filter dangling/reference/label/before/since, -q a line per row, -a', { skip }, () => {
  ok(['load', '-i', ARCHIVE]);
  ok(['tag', 'bb:1', 'other/bb:x']);
  const dangling = ok(['import', rootfsTar]).trim().slice(7, 19);
  const rows = (args: string[]) => ok(['images', '--format', '{{.Repository}}:{{.Tag}}', ...args]).trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(rows(['-f', 'dangling=true']), ['<none>:<none>']);
  assert.ok(!rows(['-f', 'dangling=false']).includes('<none>:<none>'));
  assert.deepEqual(rows(['-f', 'reference=bb']), ['bb:1', 'bb:2']);
  assert.deepEqual(rows(['-f', 'reference=*/bb']), ['other/bb:x']);
  assert.deepEqual(rows(['bb:2']), ['bb:2']);
  assert.deepEqual(rows(['-f', 'reference=docker.io/library/bb:*']), ['bb:1', 'bb:2']);
  assert.deepEqual(rows(['-f', 'label=tier=two']), ['bb:2']);
  assert.deepEqual(rows(['-f', 'label=tier']), ['bb:2']);
  assert.deepEqual(rows(['-f', 'before=bb:2']), ['bb:1', 'other/bb:x']);
  assert.deepEqual(rows(['-f', 'since=bb:1', '-f', 'reference=bb']), ['bb:2']);
  assert.deepEqual(rows(['-a', '-f', 'reference=bb']), ['bb:1', 'bb:2']);
  assert.equal(ok(['images', 'nosuch']), 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
  const id1 = idOf('bb:1').slice(7, 19);
  assert.equal(ok(['images', '-q', '-f', 'reference=bb:[1x]', '-f', 'reference=other/bb:x']), `${id1}\n${id1}\n`);
  assert.match(ok(['images', '-q']), new RegExp(dangling));
  const bad = brig(['images', '-f', 'dangling=maybe']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "Error response from daemon: invalid filter 'dangling=[maybe]'\n");
  const noImage = brig(['images', '-f', 'before=nosuch']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /No such image: nosuch:latest/);
  assert.equal(brig(['images', '--filter', 'nope']).code, 125);
  ok(['rmi', 'other/bb:x', dangling]);
});

describe('pull', { skip: skip || registryMissing() }, () => {
  let reg: TestRegistry;
  let host = '';
  before(async () => {
    reg = await startRegistry();
    host = reg.host;
    ok(['load', '-i', ARCHIVE]);
    for (const t of ['1', '2']) {
      ok(['tag', `bb:${t}`, `${host}/e2e/bb:${t}`]);
      ok(['push', `${host}/e2e/bb:${t}`]);
      ok(['rmi', `${host}/e2e/bb:${t}`]);
    }
    // Nothing of them left here: the pulls download.
    ok(['rmi', '-f', 'bb:1', 'bb:2']);
  });
  after(async () => reg?.stop());
  const short = (layer: Buffer) => spawnSync('sha256sum', { input: layer, encoding: 'utf8' }).stdout.slice(0, 12);

  test('a first download, then up to date; layers a pull already has "Already exists"', () => {
    const ref = `${host}/e2e/bb:1`;
    const first = ok(['pull', ref]);
    const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(first)?.[1];
    assert.ok(digest, first);
    assert.equal(
      first,
      `1: Pulling from e2e/bb\n${short(L1)}: Pulling fs layer\n${short(L1)}: Verifying Checksum\n${short(L1)}: Download complete\n${short(L1)}: Pull complete\nDigest: ${digest}\nStatus: Downloaded newer image for ${ref}\n${ref}\n`,
    );
    assert.equal(ok(['pull', ref]), `1: Pulling from e2e/bb\nDigest: ${digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`);
    const second = ok(['pull', `${host}/e2e/bb:2`]);
    assert.match(second, new RegExp(`^${short(L1)}: Already exists$`, 'm'));
    assert.match(second, new RegExp(`^${short(L2)}: Pull complete$`, 'm'));
    assert.doesNotMatch(second, new RegExp(`^${short(L1)}: Pull complete$`, 'm'));
    assert.match(second, new RegExp(`^Status: Downloaded newer image for ${host}/e2e/bb:2$`, 'm'));
    assert.equal(ok(['pull', '-q', ref]), `${ref}\n`);
    // --digests shows what the registry served; rmi takes the name's digest with it, as docker.
    assert.match(ok(['images', '--digests', `${host}/e2e/bb`]), new RegExp(`^${host}/e2e/bb\\s+1\\s+${digest}\\s`, 'm'));
    assert.equal(ok(['rmi', ref]).split('\n').slice(0, 2).join('\n'), `Untagged: ${ref}\nUntagged: ${host}/e2e/bb@${digest}`);
  });

  test('-a pulls every tag; a digest pull names the digest', () => {
    const r = ok(['pull', '-a', `${host}/e2e/bb`]);
    assert.match(r, /^1: Pulling from e2e\/bb$/m);
    assert.match(r, /^2: Pulling from e2e\/bb$/m);
    assert.match(r, new RegExp(`Status: Downloaded newer image for ${host}/e2e/bb\\n${host}/e2e/bb\\n$`));
    assert.match(ok(['pull', '--all-tags', `${host}/e2e/bb`]), new RegExp(`Status: Image is up to date for ${host}/e2e/bb\\n`));
    const digest = /^Digest: (\S+)$/m.exec(r)![1];
    const byDigest = ok(['pull', `${host}/e2e/bb@${digest}`]);
    assert.match(byDigest, new RegExp(`^${host}/e2e/bb@${digest}: Pulling from e2e/bb$`, 'm'));
  });

  test("bad references and missing tags: docker's words, exit 1, nothing stored", () => {
    const before = blobs();
    const images = ok(['images', '-q']);
    const cases: [string[], string, string][] = [
      [['pull', 'Bad/Name'], '', 'invalid reference format: repository name (Name) must be lowercase\n'],
      [['pull', 'a:B:c'], '', 'invalid reference format\n'],
      [['pull', '-a', `${host}/e2e/bb:1`], '', "tag can't be used with --all-tags/-a\n"],
      [['pull', `${host}/e2e/bb`], 'Using default tag: latest\n', `Error response from daemon: manifest for ${host}/e2e/bb:latest not found: manifest unknown: manifest unknown\n`],
      [['pull', '-q', `${host}/e2e/nosuch:1`], '', `Error response from daemon: manifest for ${host}/e2e/nosuch:1 not found: `],
      [['pull', '--platform', 'a/b/c/d', `${host}/e2e/bb:1`], '', 'Error response from daemon: invalid platform "a/b/c/d"\n'],
    ];
    for (const [args, stdout, stderr] of cases) {
      const r = brig(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, stdout, args.join(' '));
      assert.ok(r.stderr.startsWith(stderr), `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(blobs(), before);
    assert.equal(ok(['images', '-q']), images);
    assert.deepEqual(ingest(), []);
    const noArg = brig(['pull']);
    assert.equal(noArg.code, 125);
    assert.match(noArg.stderr, /"brig pull" requires exactly 1 argument/);
  });
});

test('the data root holds nothing of a run that ended (no leftovers in ingest or leases)', { skip }, () => {
  assert.deepEqual(ingest(), []);
  assert.deepEqual(readdirSync(path.join(data, 'images/store/leases')), []);
  assert.ok(existsSync(path.join(data, 'images/store/index.json')));
  mkdirSync(path.join(root, 'end'), { recursive: true });
});
