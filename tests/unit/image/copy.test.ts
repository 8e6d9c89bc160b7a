/**
 * docker cp's archive rules (src/image/layers/copy.ts), --change instructions
 * (src/image/changes.ts) and FollowSymlinkInScope (src/image/fs-util.ts), without root.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { applyChanges } from '../../../src/image/changes.js';
import { hostPathIn, resolveInContainer, resolveInScope } from '../../../src/image/fs-util.js';
import { archiveResource, extractArchive, prepareArchiveCopy, splitPathDirEntry } from '../../../src/image/layers/copy.js';
import { readTar } from '../../../src/image/layers/tar-reader.js';
import { readTextSync } from '../../../src/util/read-text.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-copy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function names(tar: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(tar)) out.push(e.header.name);
  return out;
}

test('splitPathDirEntry keeps "/." as the base', () => {
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('b'), ['.', 'b']);
});

test("prepareArchiveCopy: docker's cases for existing and missing destinations", async () => {
  const src = path.join(tmp, 'srcdir');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'sub', 'f'), 'x');
  const dirInfo = { path: src, exists: true, isDir: true };
  const archive = () => archiveResource(src, 'srcdir');
  // Into an existing directory: as it is.
  let r = prepareArchiveCopy(archive(), dirInfo, { path: '/dst', exists: true, isDir: true });
  assert.equal(r.dir, '/dst');
  assert.deepEqual(await names(r.content), ['srcdir/', 'srcdir/sub/', 'srcdir/sub/f']);
  // To a missing path: renamed to it, into its parent.
  r = prepareArchiveCopy(archive(), dirInfo, { path: '/dst/new', exists: false, isDir: false });
  assert.equal(r.dir, '/dst');
  assert.deepEqual(await names(r.content), ['new/', 'new/sub/', 'new/sub/f']);
  // A directory onto a file, a file to a missing "dir/": docker's errors.
  assert.throws(() => prepareArchiveCopy(archive(), dirInfo, { path: '/f', exists: true, isDir: false }), /cannot copy directory/);
  const fileInfo = { path: path.join(src, 'sub', 'f'), exists: true, isDir: false };
  assert.throws(() => prepareArchiveCopy(archiveResource(fileInfo.path, 'f'), fileInfo, { path: '/nodir/', exists: false, isDir: false }), /no such directory/);
  // "dir/." into a missing path: the contents under the new name.
  const dot = { path: `${src}/.`, exists: true, isDir: true };
  r = prepareArchiveCopy(archiveResource(src, '.'), dot, { path: '/dst/copy', exists: false, isDir: false });
  assert.deepEqual(await names(r.content), ['copy/', 'copy/sub/', 'copy/sub/f']);
});

test('extractArchive puts everything under the directory, through symlinks only inside the root', async () => {
  const root = path.join(tmp, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  symlinkSync('/etc', path.join(root, 'hostetc'));
  const src = path.join(tmp, 'payload');
  writeFileSync(src, 'payload');
  await extractArchive(archiveResource(src, 'payload'), root, 'hostetc', { owner: 'none' });
  assert.equal(readTextSync(path.join(root, 'etc', 'payload')), 'payload');
  assert.equal(resolveInScope(root, '/hostetc/../../../x'), path.join(root, 'x'));
  assert.equal(resolveInScope(root, 'hostetc/passwd'), path.join(root, 'etc', 'passwd'));
});

test("resolveInScope with a stopped container's binds: a path below a destination is read in the source, links resolve as the container sees them", () => {
  const root = path.join(tmp, 'binds-root');
  const vol = path.join(tmp, 'binds-vol');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  mkdirSync(path.join(vol, 'sub'), { recursive: true });
  writeFileSync(path.join(tmp, 'binds-hosts'), 'hosts');
  symlinkSync('/etc', path.join(vol, 'up'));
  symlinkSync('/data/sub', path.join(root, 'short'));
  const mounts = [
    { destination: '/data', source: vol },
    { destination: '/data/sub/deeper/', source: path.join(tmp, 'binds-deeper') },
    { destination: '/etc/hosts', source: path.join(tmp, 'binds-hosts') },
  ];
  assert.equal(resolveInScope(root, '/data/sub/x', { mounts }), path.join(vol, 'sub', 'x'));
  assert.equal(resolveInScope(root, '/data', { mounts }), vol);
  assert.equal(resolveInScope(root, '/data/sub/deeper/y', { mounts }), path.join(tmp, 'binds-deeper', 'y'), 'the deepest mount wins');
  assert.equal(resolveInScope(root, '/short/x', { mounts }), path.join(vol, 'sub', 'x'), "a rootfs link into a mount");
  assert.equal(resolveInScope(root, '/data/up/hosts', { mounts }), path.join(tmp, 'binds-hosts'), "a mount's link back into a file mount");
  assert.equal(resolveInContainer(root, '/data/up/../../../etc', { mounts }), '/etc');
  assert.equal(resolveInScope(root, '/datax/f', { mounts }), path.join(root, 'datax', 'f'), 'a sibling name is no mount');
  assert.equal(hostPathIn(root, '/'), root);
});

test('applyChanges: the instructions docker takes, and its refusal of the others', () => {
  const c = applyChanges({ Cmd: ['sh'], Entrypoint: null, Env: ['A=1'], WorkingDir: '/srv' }, [
    'CMD ["run", "it"]',
    'ENV A=2 B="two words"',
    'ENV C three words',
    'EXPOSE 80 53/udp',
    'LABEL a=b',
    'USER app',
    'WORKDIR sub',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(c.Cmd, ['run', 'it']);
  assert.deepEqual(c.Env, ['A=2', 'B=two words', 'C=three words']);
  assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '53/udp']);
  assert.deepEqual([c.Labels, c.User, c.WorkingDir, c.Volumes, c.StopSignal], [{ a: 'b' }, 'app', '/srv/sub', { '/data': {} }, 'SIGINT']);
  assert.deepEqual(applyChanges({ Cmd: ['sh'] }, ['ENTRYPOINT /app --flag']), { Cmd: null, Entrypoint: ['/bin/sh', '-c', '/app --flag'] });
  assert.throws(() => applyChanges({}, ['RUN true']), /run is not a valid change command/);
});
