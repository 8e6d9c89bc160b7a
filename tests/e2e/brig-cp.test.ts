/**
 * A kept container's files through the real brig binary, as a docker user drives them: diff
 * after creating, changing and deleting files; export; cp out of a stopped container and
 * into it, directories and files, docker's rules for trailing slashes and existing or
 * missing destinations, `-` tar streams both ways, -a; a hostile symlink inside the
 * container pointing at the host's /etc (neither read nor written on the host); commit with
 * -c/-m/-a, then run the new image; bad input with docker's messages and nothing left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const BRIG = path.join(repoRoot, 'bin', 'brig');
const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-cp-'));
const data = path.join(root, 'data');
const env = { ...process.env, BRIG_ROOT: data };
const IMAGE = 'localhost/bb:1';

function brig(args: string[], input?: string | Buffer, cwd = root) {
  const r = spawnSync(BRIG, args, { env, cwd, input: input ?? '', timeout: 60_000, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function ok(args: string[], input?: string | Buffer): string {
  const r = brig(args, input);
  assert.equal(r.code, 0, `brig ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

function tarList(buf: Buffer): string[] {
  const r = spawnSync('tar', ['-tvf', '-', '--numeric-owner'], { input: buf });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().trim().split('\n');
}

const names = (list: string[]) => list.map((l) => l.split(/\s+/).slice(5).join(' ')).sort();

/** A container that ran `script` in the busybox image and exited 0. */
function ran(name: string, script: string): string {
  const id = ok(['run', '-d', '--name', name, IMAGE, 'sh', '-c', script]).trim();
  assert.equal(ok(['wait', name]), '0\n');
  return id;
}

before(() => {
  if (skip) return;
  return makeBusyboxRootfs(root).then((rootfs) => {
    for (const a of ['sleep', 'echo', 'sh', 'cat', 'true', 'rm', 'mkdir', 'ln', 'ls', 'stat']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
    spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
    ok(['import', path.join(root, 'bb.tar'), IMAGE]);
  });
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.toString().split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test('diff: A, C and D lines against the image, on a stopped and on a running container', { skip }, () => {
  ran('d1', 'mkdir /data && echo hi > /data/new && echo more >> /etc/group && rm /bin/true');
  // /etc is reported for the change below it, as dockerd's diff does here.
  assert.equal(ok(['diff', 'd1']), ['C /bin', 'D /bin/true', 'A /data', 'A /data/new', 'C /etc', 'C /etc/group', ''].join('\n'));
  ok(['run', '-d', '--name', 'd2', IMAGE, 'sleep', '60']);
  assert.equal(ok(['diff', 'd2']), '', 'the runtime-made mountpoints are not changes');
  ok(['exec', 'd2', 'sh', '-c', 'echo x > /etc/added']);
  assert.equal(ok(['container', 'diff', 'd2']), 'C /etc\nA /etc/added\n');
  ok(['rm', '-f', 'd1', 'd2']);
});

test('export: the whole filesystem as a tar on stdout or -o FILE; never to a terminal', { skip }, () => {
  ran('e1', 'echo exported > /etc/marker');
  const exported = brig(['export', 'e1']);
  assert.equal(exported.code, 0, exported.stderr);
  const list = names(tarList(exported.stdout));
  for (const n of ['bin/', 'bin/busybox', 'etc/', 'etc/marker', 'etc/passwd']) assert.ok(list.includes(n), `${n} in ${list.join(',')}`);
  ok(['export', '-o', path.join(root, 'e1.tar'), 'e1']);
  const x = spawnSync('tar', ['-xOf', path.join(root, 'e1.tar'), 'etc/marker']);
  assert.equal(x.stdout.toString(), 'exported\n');
  // stdout a terminal: docker's refusal (script(1) gives brig a pty).
  const tty = spawnSync('script', ['-qec', `${BRIG} export e1`, '/dev/null'], { env });
  assert.match(tty.stdout.toString(), /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
  assert.equal(tty.status, 1);
  ok(['rm', 'e1']);
});

test('cp out of a stopped container: directories, contents with /., files, renames, -L, `-` as a tar', { skip }, () => {
  ran('c1', 'mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b && ln -s a /data/link && ln -s /data/a /abslink');
  const out = mkdtempSync(path.join(root, 'out-'));
  ok(['cp', 'c1:/data', out]);
  assert.equal(readTextSync(path.join(out, 'data/sub/b')), 'b\n');
  assert.ok(lstatSync(path.join(out, 'data/link')).isSymbolicLink(), 'a symlink stays a symlink');
  ok(['cp', 'c1:/data/.', path.join(out, 'contents')]);
  assert.deepEqual(readdirSync(path.join(out, 'contents')).sort(), ['a', 'link', 'sub']);
  ok(['cp', 'c1:/data/.', path.join(out, 'data')]);
  assert.deepEqual(readdirSync(path.join(out, 'data')).sort(), ['a', 'link', 'sub']);
  ok(['cp', 'c1:data/a', path.join(out, 'renamed')]);
  assert.equal(readTextSync(path.join(out, 'renamed')), 'a\n');
  ok(['cp', 'c1:/data/a', `${out}/`]);
  assert.equal(readTextSync(path.join(out, 'a')), 'a\n');
  ok(['cp', 'c1:/abslink', path.join(out, 'nofollow')]);
  assert.ok(lstatSync(path.join(out, 'nofollow')).isSymbolicLink());
  ok(['cp', '-L', 'c1:/abslink', path.join(out, 'followed')]);
  assert.equal(readTextSync(path.join(out, 'followed')), 'a\n');
  // Errors as docker gives them.
  let r = brig(['cp', 'c1:/data/a', path.join(out, 'nodir') + '/']);
  assert.deepEqual([r.code, r.stderr], [1, 'no such directory\n']);
  r = brig(['cp', 'c1:/data', path.join(out, 'renamed')]);
  assert.deepEqual([r.code, r.stderr], [1, 'cannot copy directory\n']);
  ok(['cp', 'c1:/', path.join(out, 'whole')]);
  assert.equal(readTextSync(path.join(out, 'whole/data/sub/b')), 'b\n');
  const tar = brig(['cp', 'c1:/data', '-']);
  assert.equal(tar.code, 0, tar.stderr);
  assert.deepEqual(names(tarList(tar.stdout)), ['data/', 'data/a', 'data/link -> a', 'data/sub/', 'data/sub/b']);
  ok(['rm', 'c1']);
});

test('cp into a container (stopped and running): files, directories, `-` tar from stdin, -a keeps owners', { skip }, () => {
  ran('c2', 'mkdir /dst');
  const src = mkdtempSync(path.join(root, 'src-'));
  mkdirSync(path.join(src, 'tree/deep'), { recursive: true });
  writeFileSync(path.join(src, 'tree/deep/f'), 'deep\n');
  writeFileSync(path.join(src, 'one'), 'one\n');
  spawnSync('chown', ['4321:4321', path.join(src, 'one')]);
  ok(['cp', path.join(src, 'tree'), 'c2:/dst']);
  ok(['cp', path.join(src, 'tree'), 'c2:/newdir']);
  ok(['cp', path.join(src, 'one'), 'c2:/dst/renamed']);
  ok(['cp', '-a', path.join(src, 'one'), 'c2:/dst/kept']);
  const tree = names(tarList(brig(['cp', 'c2:/dst', '-']).stdout));
  assert.deepEqual(tree, ['dst/', 'dst/kept', 'dst/renamed', 'dst/tree/', 'dst/tree/deep/', 'dst/tree/deep/f']);
  const owners = tarList(brig(['cp', 'c2:/dst', '-']).stdout);
  assert.match(owners.find((l) => l.endsWith('dst/renamed'))!, / 0\/0 /, 'without -a: the container root owns it');
  assert.match(owners.find((l) => l.endsWith('dst/kept'))!, / 4321\/4321 /, 'with -a: the source owner');
  // A tar on stdin, into a directory; a file destination is refused as docker refuses it.
  const t = spawnSync('tar', ['-C', src, '-cf', '-', 'one', 'tree']).stdout;
  ok(['cp', '-', 'c2:/newdir'], t);
  assert.ok(names(tarList(brig(['cp', 'c2:/newdir', '-']).stdout)).includes('newdir/one'));
  const r = brig(['cp', '-', 'c2:/dst/renamed'], t);
  assert.deepEqual([r.code, r.stderr], [1, 'destination "c2:/dst/renamed" must be a directory\n']);
  // The copies are the container's: seen from inside when it runs.
  ok(['start', 'c2']);
  ok(['run', '-d', '--name', 'c3', IMAGE, 'sleep', '60']);
  ok(['cp', path.join(src, 'one'), 'c3:/one']);
  assert.equal(ok(['exec', 'c3', 'cat', '/one']), 'one\n');
  assert.match(ok(['ps']), /Up .*c3$/m, 'running again after the copy (it was paused during it)');
  ok(['rm', '-f', 'c2', 'c3']);
});

test('cp sees what the container sees: its /etc/hosts, volumes and tmpfs while it runs, its volumes when stopped; read-only mounts refuse', { skip }, () => {
  const src = mkdtempSync(path.join(root, 'mnt-'));
  writeFileSync(path.join(src, 'g'), 'from host\n');
  ok(['run', '-d', '--name', 'm1', '--network', 'none', '--add-host', 'probe.test:10.9.8.7', '-v', 'cpvol:/data', '--tmpfs', '/scratch', IMAGE, 'sh', '-c', 'ln -s /etc /hostetc; echo vol > /data/f; echo tmp > /scratch/t; echo ready > /ready; sleep 60']);
  for (let i = 0; i < 100 && brig(['exec', 'm1', 'cat', '/ready']).code !== 0; i++) spawnSync('sleep', ['0.05']);
  const out = mkdtempSync(path.join(root, 'mout-'));
  // /etc/hosts is the engine's file mounted over the image's: the container's view has --add-host's line.
  ok(['cp', 'm1:/etc/hosts', path.join(out, 'hosts')]);
  assert.match(readTextSync(path.join(out, 'hosts')), /^10\.9\.8\.7\tprobe\.test$/m);
  // An absolute link resolves in the container's root, never the host's.
  ok(['cp', 'm1:/hostetc/hosts', path.join(out, 'hosts2')]);
  assert.equal(readTextSync(path.join(out, 'hosts2')), readTextSync(path.join(out, 'hosts')));
  ok(['cp', 'm1:/data/f', path.join(out, 'f')]);
  assert.equal(readTextSync(path.join(out, 'f')), 'vol\n');
  ok(['cp', 'm1:/scratch/t', path.join(out, 't')]);
  assert.equal(readTextSync(path.join(out, 't')), 'tmp\n');
  ok(['cp', path.join(src, 'g'), 'm1:/data/']);
  assert.equal(ok(['exec', 'm1', 'cat', '/data/g']), 'from host\n');
  // Stopped: no mounts exist, the volume is still what cp reads and writes.
  ok(['kill', 'm1']);
  ok(['wait', 'm1']);
  ok(['cp', 'm1:/data/f', path.join(out, 'f2')]);
  assert.equal(readTextSync(path.join(out, 'f2')), 'vol\n');
  writeFileSync(path.join(src, 'h'), 'while stopped\n');
  ok(['cp', path.join(src, 'h'), 'm1:/data/']);
  assert.equal(ok(['run', '--rm', '--network', 'none', '-v', 'cpvol:/v', IMAGE, 'cat', '/v/h']), 'while stopped\n');
  // A read-only volume refuses, running or not; a read-only rootfs refuses outside its volumes only.
  ok(['create', '--name', 'm2', '--network', 'none', '-v', 'cpvol:/ro:ro', IMAGE, 'true']);
  const r = brig(['cp', path.join(src, 'g'), 'm2:/ro/']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /mounted volume is marked read-only/);
  ok(['create', '--name', 'm3', '--network', 'none', '--read-only', '-v', 'cpvol:/data', IMAGE, 'true']);
  ok(['cp', path.join(src, 'g'), 'm3:/data/g3']);
  const ro = brig(['cp', path.join(src, 'g'), 'm3:/']);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /read-only/);
  assert.equal(ok(['run', '--rm', '--network', 'none', '-v', 'cpvol:/v', IMAGE, 'cat', '/v/g3']), 'from host\n');
  ok(['rm', '-f', 'm1', 'm2', 'm3']);
  ok(['volume', 'rm', 'cpvol']);
});

test("a hostile symlink in the container never reaches the host's /etc, in either direction", { skip }, () => {
  const marker = `brig-cp-escape-${process.pid}`;
  ran('evil', `ln -s /etc /hostetc && ln -s ../../../../../../etc /climb && echo container > /etc/os-release && ln -s /etc/${marker} /etc/dangling`);
  const out = mkdtempSync(path.join(root, 'evil-'));
  // Reading through it gives the container's file, not the host's.
  ok(['cp', 'evil:/hostetc/os-release', path.join(out, 'h1')]);
  assert.equal(readTextSync(path.join(out, 'h1')), 'container\n');
  ok(['cp', 'evil:/climb/passwd', path.join(out, 'p1')]);
  assert.equal(readTextSync(path.join(out, 'p1')), readTextSync(path.join(root, readdirSync(root).find((d) => d.startsWith('rootfs-'))!, 'etc/passwd')));
  const r = brig(['cp', '-L', 'evil:/hostetc/shadow', path.join(out, 's1')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Could not find the file \/hostetc\/shadow in container evil/);
  assert.ok(!existsSync(path.join(out, 's1')));
  // Writing through it lands in the container's /etc, never the host's.
  const src = path.join(out, marker);
  writeFileSync(src, 'written\n');
  ok(['cp', src, 'evil:/hostetc/']);
  ok(['cp', src, 'evil:/climb/']);
  ok(['cp', src, 'evil:/etc/dangling']);
  ok(['cp', '-', 'evil:/climb'], spawnSync('tar', ['-C', out, '-cf', '-', marker]).stdout);
  assert.ok(!existsSync(`/etc/${marker}`), 'nothing written on the host');
  assert.equal(ok(['run', '--rm', IMAGE, 'true']), '');
  assert.match(ok(['diff', 'evil']), new RegExp(`A /etc/${marker}\\n`));
  // A tar that climbs out is refused and writes nothing.
  const bad = spawnSync('tar', ['-C', out, '-cf', '-', '-P', `--transform=s,^,../../../../tmp/,`, marker]).stdout;
  const b = brig(['cp', '-', 'evil:/'], bad);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /"\.\." component/);
  assert.ok(!existsSync(`/tmp/${marker}`));
  ok(['rm', 'evil']);
});

test('commit: a new image from the changes, with -c/-m/-a; run --rm sees the committed file; -p pauses a running one', { skip }, () => {
  ran('m1', 'mkdir /app && echo committed > /app/file');
  const id = ok(['commit', '-m', 'my message', '-a', 'Ann <ann@example.com>', '-c', 'CMD ["cat", "/app/file"]', '-c', 'ENV GREETING=hello', '-c', 'WORKDIR /app', '-c', 'LABEL k=v', '-c', 'EXPOSE 8080', 'm1', 'localhost/committed:1']).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(['run', '--rm', 'localhost/committed:1']), 'committed\n');
  assert.equal(ok(['run', '--rm', 'localhost/committed:1', 'sh', '-c', 'echo $GREETING; pwd']), 'hello\n/app\n');
  const [img] = JSON.parse(ok(['image', 'inspect', 'localhost/committed:1'])) as { Id: string; Author: string; Comment: string; Config: { Labels: Record<string, string>; ExposedPorts: Record<string, object>; WorkingDir: string } }[];
  assert.equal(img!.Id, id);
  assert.equal(img!.Author, 'Ann <ann@example.com>');
  assert.equal(img!.Config.Labels.k, 'v');
  assert.deepEqual(Object.keys(img!.Config.ExposedPorts), ['8080/tcp']);
  // A running container: paused for the commit (-p, the default), running after it.
  ok(['run', '-d', '--name', 'm2', IMAGE, 'sh', '-c', 'echo live > /live; sleep 60']);
  for (let i = 0; i < 100 && !ok(['diff', 'm2']).includes('A /live'); i++) spawnSync('sleep', ['0.05']);
  const dangling = ok(['commit', 'm2']).trim();
  assert.match(dangling, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(['run', '--rm', dangling, 'cat', '/live']), 'live\n');
  assert.match(ok(['ps']), /Up .*m2$/m);
  assert.doesNotMatch(ok(['ps']), /Paused/);
  ok(['commit', '--pause=false', 'm2', 'localhost/committed:2']);
  ok(['rm', '-f', 'm1', 'm2']);
});

test("bad input: docker's messages, exit codes, nothing left", { skip }, () => {
  ran('b1', 'true');
  const before = readdirSync(path.join(data, 'containers')).length;
  const images = ok(['images', '-q']);
  for (const [args, code, msg] of [
    [['cp', 'nosuch:/x', root], 1, /^Error response from daemon: No such container: nosuch\n$/],
    [['cp', 'b1:/nope', root], 1, /^Error response from daemon: Could not find the file \/nope in container b1\n$/],
    [['cp', path.join(root, 'nope'), 'b1:/'], 1, new RegExp(`^lstat ${root}/nope: no such file or directory\n$`)],
    [['cp', path.join(root, 'bb.tar'), 'b1:/no/such/dir/x'], 1, /Could not find the file \/no\/such\/dir in container b1/],
    [['cp', 'a', 'b'], 1, /^must specify at least one container source\n$/],
    [['cp', 'b1:/a', 'b1:/b'], 1, /^copying between containers is not supported\n$/],
    [['cp', 'b1:/a'], 125, /"brig cp" requires exactly 2 arguments/],
    [['diff', 'nosuch'], 1, /^Error response from daemon: No such container: nosuch\n$/],
    [['export', 'nosuch'], 1, /No such container: nosuch/],
    [['commit', 'nosuch'], 1, /No such container: nosuch/],
    [['commit', '-c', 'FROM scratch', 'b1'], 1, /from is not a valid change command/],
    [['commit', 'b1', 'Bad:Ref:x'], 1, /Bad:Ref:x|invalid reference/i],
    [['export', '--nope', 'b1'], 125, /unknown flag: --nope/],
  ] as [string[], number, RegExp][]) {
    const r = brig(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
  }
  assert.equal(readdirSync(path.join(data, 'containers')).length, before);
  assert.equal(ok(['images', '-q']), images, 'no image left by a failed commit');
  assert.ok(!existsSync(path.join(root, 'no')));
  assert.ok(statSync(root).isDirectory());
  ok(['rm', 'b1']);
});
