/**
 * Volumes and mounts through the real bin/brig: named volumes that outlive their containers,
 * anonymous ones for `-v /path` and image VOLUMEs, seeding from the image, binds both ways,
 * :ro enforced by the kernel, tmpfs sizes, --mount, --volumes-from, the volume verbs with
 * docker's output and rules (in use, prune, rm -v), and bad input leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readTextSync } from '../../src/util/read-text.js';
import { brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-volumes-'));
const data = path.join(root, 'data');
const { brig, ok, traces } = brigCli(data);
const IMAGE = 'localhost/vol:1';

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'test', 'touch', 'stat', 'dd', 'mkdir', 'df', 'rm']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  // Content at a path the image declares a VOLUME, owned by app (1000) with mode 0750.
  mkdirSync(path.join(rootfs, 'srv', 'seed', 'sub'), { recursive: true });
  writeFileSync(path.join(rootfs, 'srv', 'seed', 'hello.txt'), 'from the image\n');
  writeFileSync(path.join(rootfs, 'srv', 'seed', 'sub', 'deep.txt'), 'deep\n');
  spawnSync('chown', ['-R', '1000:1000', path.join(rootfs, 'srv', 'seed')]);
  spawnSync('chmod', ['0750', path.join(rootfs, 'srv', 'seed')]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'vol.tar'), '.']);
  ok(['import', '--change', 'ENV PATH=/bin', '--change', 'VOLUME /srv/seed', path.join(root, 'vol.tar'), IMAGE]);
});

after(() => {
  if (!skip) {
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
    for (const v of brig(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['volume', 'rm', '-f', v]);
  }
  rmSync(root, { recursive: true, force: true });
});

const volumesDir = () => path.join(data, 'volumes');

function mountsOf(name: string): { Type: string; Name?: string; Source: string; Destination: string; RW: boolean; Mode: string; Propagation: string; Driver?: string }[] {
  return JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', name])) as never;
}

test('a named volume keeps its data for the next container; inspect, ls and docker\'s output', { skip }, () => {
  assert.equal(ok(['volume', 'create', '--label', 'team=db', 'keep']), 'keep\n');
  const v = JSON.parse(ok(['volume', 'inspect', 'keep']))[0] as Record<string, unknown>;
  assert.deepEqual({ ...v, CreatedAt: '' }, { Name: 'keep', Driver: 'local', Mountpoint: path.join(volumesDir(), 'keep', '_data'), CreatedAt: '', Labels: { team: 'db' }, Options: null, Scope: 'local' });
  assert.match(String(v.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  ok(['run', '--rm', '-v', 'keep:/data', IMAGE, 'sh', '-c', 'echo persisted > /data/f']);
  assert.equal(ok(['run', '--rm', '-v', 'keep:/data', IMAGE, 'cat', '/data/f']), 'persisted\n');
  assert.equal(readTextSync(path.join(volumesDir(), 'keep', '_data', 'f')), 'persisted\n');
  assert.match(ok(['volume', 'ls']), /^DRIVER {4}VOLUME NAME\nlocal {5}keep\n/);
  assert.equal(ok(['volume', 'ls', '--filter', 'label=team=db', '--format', '{{.Name}} {{.Labels}}']), 'keep team=db\n');
  // A volume named in -v that does not exist is made on the way, as docker does, and kept after --rm.
  ok(['run', '--rm', '-v', 'madehere:/x', IMAGE, 'true']);
  assert.equal(ok(['volume', 'ls', '-q', '--filter', 'name=madehere']), 'madehere\n');
  assert.equal(ok(['volume', 'rm', 'keep', 'madehere']), 'keep\nmadehere\n');
  // docker's volume events: create (also for one made on the way) and destroy.
  const events = ok(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}']);
  assert.deepEqual(events.trim().split('\n').filter((l) => / (keep|madehere) /.test(l)), ['create keep local', 'create madehere local', 'destroy keep local', 'destroy madehere local']);
});

test(':ro is enforced by the kernel; --mount readonly too', { skip }, () => {
  ok(['volume', 'create', 'ro1']);
  const r = brig(['run', '--rm', '-v', 'ro1:/data:ro', IMAGE, 'sh', '-c', 'echo x > /data/f']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Read-only file system/);
  const r2 = brig(['run', '--rm', '--mount', 'type=volume,src=ro1,dst=/data,readonly', IMAGE, 'touch', '/data/g']);
  assert.match(r2.stderr, /Read-only file system/);
  ok(['volume', 'rm', 'ro1']);
});

test('a new volume is seeded from the image (ownership and modes kept), unless nocopy; a used one is not', { skip }, () => {
  ok(['run', '--rm', '-v', 'seeded:/srv/seed', IMAGE, 'true']);
  const dir = path.join(volumesDir(), 'seeded', '_data');
  assert.equal(readTextSync(path.join(dir, 'hello.txt')), 'from the image\n');
  assert.equal(readTextSync(path.join(dir, 'sub', 'deep.txt')), 'deep\n');
  const st = statSync(dir);
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o750]);
  assert.equal(statSync(path.join(dir, 'hello.txt')).uid, 1000);
  // Not seeded again once it has content: the container's change stays.
  ok(['run', '--rm', '-v', 'seeded:/srv/seed', IMAGE, 'rm', '/srv/seed/hello.txt']);
  ok(['run', '--rm', '-v', 'seeded:/srv/seed', IMAGE, 'true']);
  assert.deepEqual(readdirSync(dir), ['sub']);
  ok(['run', '--rm', '-v', 'bare:/srv/seed:nocopy', IMAGE, 'true']);
  assert.deepEqual(readdirSync(path.join(volumesDir(), 'bare', '_data')), []);
  ok(['volume', 'rm', 'seeded', 'bare']);
});

test('an image VOLUME gets an anonymous volume, seeded; rm -v removes it, rm without -v keeps it; volume prune takes anonymous ones', { skip }, () => {
  ok(['create', '--name', 'anon', IMAGE, 'true']);
  const m = mountsOf('anon');
  assert.equal(m.length, 1);
  assert.equal(m[0]!.Type, 'volume');
  assert.match(m[0]!.Name!, /^[0-9a-f]{64}$/);
  assert.equal(m[0]!.Destination, '/srv/seed');
  assert.equal(m[0]!.Driver, 'local');
  const anon = m[0]!.Name!;
  assert.equal(readTextSync(path.join(volumesDir(), anon, '_data', 'hello.txt')), 'from the image\n');
  assert.deepEqual(JSON.parse(ok(['volume', 'inspect', '-f', '{{json .Labels}}', anon])), { 'com.docker.volume.anonymous': '' });
  // In use by a (stopped) container: refused, with docker's message; -f does not force it.
  const r = brig(['volume', 'rm', '-f', anon]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`remove ${anon}: volume is in use - \\[${field('anon', '{{.Id}}')}\\]`));
  assert.equal(ok(['volume', 'ls', '-q', '--filter', 'dangling=true']).includes(anon), false);
  ok(['rm', '-v', 'anon']);
  assert.equal(brig(['volume', 'inspect', anon]).code, 1, 'rm -v took the anonymous volume');
  // Without -v it stays, dangling, until a prune.
  ok(['create', '--name', 'anon2', '-v', '/scratch', IMAGE, 'true']);
  const names = mountsOf('anon2').map((x) => x.Name!);
  assert.equal(names.length, 2, 'the -v /scratch volume and the image\'s');
  ok(['volume', 'create', 'named-unused']);
  ok(['rm', 'anon2']);
  for (const n of names) assert.ok(ok(['volume', 'ls', '-q', '--filter', 'dangling=true']).includes(n));
  const pruned = ok(['volume', 'prune', '-f']);
  assert.match(pruned, /^Deleted Volumes:\n/);
  for (const n of names) assert.ok(pruned.includes(`${n}\n`));
  assert.ok(!pruned.includes('named-unused'), 'prune without -a keeps named volumes');
  assert.match(ok(['volume', 'prune', '-f', '-a']), /named-unused/);
  // --rm takes its anonymous volumes along.
  const before = ok(['volume', 'ls', '-q']);
  ok(['run', '--rm', '-v', '/tmpvol', IMAGE, 'true']);
  assert.equal(ok(['volume', 'ls', '-q']), before);
});

function field(name: string, t: string): string {
  return ok(['inspect', '-f', t, name]).trim();
}

test('bind mounts both ways, a missing -v source made, a missing --mount source refused; inspect shows them as docker', { skip }, () => {
  const host = path.join(root, 'bind');
  mkdirSync(host);
  writeFileSync(path.join(host, 'in.txt'), 'host side\n');
  ok(['run', '--name', 'b1', '-v', `${host}:/mnt`, IMAGE, 'sh', '-c', 'cat /mnt/in.txt > /mnt/out.txt; echo container >> /mnt/out.txt']);
  assert.equal(readTextSync(path.join(host, 'out.txt')), 'host side\ncontainer\n');
  // Beside the image's VOLUME (an anonymous volume), the bind as docker shows it.
  assert.deepEqual(mountsOf('b1').filter((m) => m.Type === 'bind'), [{ Type: 'bind', Source: host, Destination: '/mnt', Mode: '', RW: true, Propagation: 'rprivate' }]);
  const made = path.join(root, 'made', 'here');
  ok(['run', '--rm', '-v', `${made}:/m:ro`, IMAGE, 'true']);
  assert.ok(statSync(made).isDirectory(), '-v makes a missing host directory');
  const r = brig(['run', '--rm', '--mount', `type=bind,src=${path.join(root, 'nope')},dst=/m`, IMAGE, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /bind source path does not exist: .*nope/);
  removeQuiet('b1');
  ok(['volume', 'prune', '-f']);
});

function removeQuiet(...names: string[]): void {
  const ids = names.map((n) => field(n, '{{.Id}}'));
  ok(['rm', '-f', ...names]);
  for (const id of ids) assert.deepEqual(traces(id), [], `rm -f of ${id} left nothing`);
}

test('tmpfs mounts: --tmpfs and --mount type=tmpfs, their size enforced', { skip }, () => {
  const out = ok(['run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/t/big bs=1024 count=2048 2>&1; echo rc=$?']);
  assert.match(out, /No space left on device/);
  assert.match(out, /rc=1/);
  const mounts = readTextSync('/proc/self/mounts');
  assert.ok(!mounts.includes(' /t tmpfs'), 'nothing on the host');
  assert.match(ok(['run', '--rm', '--tmpfs', '/t:size=2m', IMAGE, 'df', '-k', '/t']), /\s2048\s/);
});

test('--volumes-from: another container\'s volumes and binds, :ro applied', { skip }, () => {
  ok(['volume', 'create', 'shared']);
  ok(['create', '--name', 'holder', '-v', 'shared:/shared', IMAGE, 'true']);
  ok(['run', '--rm', '--volumes-from', 'holder', IMAGE, 'sh', '-c', 'echo via-from > /shared/f']);
  assert.equal(readTextSync(path.join(volumesDir(), 'shared', '_data', 'f')), 'via-from\n');
  const r = brig(['run', '--rm', '--volumes-from', 'holder:ro', IMAGE, 'touch', '/shared/g']);
  assert.match(r.stderr, /Read-only file system/);
  const nope = brig(['run', '--rm', '--volumes-from', 'no-such-container', IMAGE, 'true']);
  assert.equal(nope.code, 125);
  assert.match(nope.stderr, /No such container: no-such-container/);
  removeQuiet('holder');
  ok(['volume', 'rm', 'shared']);
});

test('bad volume and mount specs: docker\'s messages, exit 125, nothing created', { skip }, () => {
  const containers = brig(['ps', '-aq']).stdout;
  const volumes = brig(['volume', 'ls', '-q']).stdout;
  const bad: [string[], RegExp][] = [
    [['-v', 'bad name!:/x'], /includes invalid characters for a local volume name/],
    [['-v', 'vol:relative'], /invalid mount path: 'relative' mount path must be absolute/],
    [['-v', 'vol:/'], /destination can't be '\/'/],
    [['-v', 'vol:/x:rw,ro'], /invalid mode: rw,ro/],
    [['-v', '/a:/x:nocopy'], /invalid mode: nocopy/],
    [['-v', 'v1:/x', '-v', 'v2:/x'], /Duplicate mount point: \/x/],
    [['--mount', 'type=floppy,dst=/x'], /mount type unknown: "floppy"/],
    [['--mount', 'type=volume,dst=/x,color=red'], /unexpected key 'color' in 'color=red'/],
    [['--mount', 'type=bind,dst=/x,volume-nocopy'], /cannot mix 'volume-\*' options with mount type 'bind'/],
    [['--mount', 'type=tmpfs,src=x,dst=/x'], /field Source must not be specified/],
    [['--mount', 'type=volume,src=ok'], /field Target must not be empty/],
    [['--volumes-from', 'a:rx'], /invalid volumes-from specification/],
  ];
  for (const [flags, msg] of bad) {
    const r = brig(['run', '-d', ...flags, IMAGE, 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, flags.join(' '));
  }
  assert.equal(brig(['ps', '-aq']).stdout, containers, 'no container');
  assert.equal(brig(['volume', 'ls', '-q']).stdout, volumes, 'no volume: v1 made for the duplicate went again');
  const unknown = brig(['volume', 'inspect', 'no-such-volume']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such volume/);
  const opt = brig(['volume', 'create', '-o', 'colour=red', 'xx']);
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /invalid option key: "colour"/);
});

test('a volume with local driver options: a tmpfs volume of a set size, mounted when used', { skip }, () => {
  ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tv']);
  const out = ok(['run', '--rm', '-v', 'tv:/t', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/t/big bs=1024 count=2048 2>&1; echo rc=$?']);
  assert.match(out, /No space left on device/);
  const mp = path.join(volumesDir(), 'tv', '_data');
  assert.ok(readTextSync('/proc/self/mountinfo').includes(` ${mp} `), 'mounted on its _data');
  ok(['volume', 'rm', 'tv']);
  assert.ok(!readTextSync('/proc/self/mountinfo').includes(` ${mp} `), 'unmounted with the volume');
});
