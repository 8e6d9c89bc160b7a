import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ImageConfig } from '../../../src/image/manifest.js';
import { imageToRuntimeConfig, parseStopSignal, readFileInRoot } from '../../../src/image/runtime-config.js';
import { tempDir } from '../../support/image-tmp.js';

async function rootfs(t: { after: (fn: () => Promise<void>) => void }) {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const root = join(dir, 'rootfs');
  await fs.mkdir(join(root, 'etc'), { recursive: true });
  await fs.writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\n# comment\nbroken\nwww:x:33:33:www:/var/www:/bin/false\napp:x:1000:1001::/home/app:/bin/sh\n',
  );
  await fs.writeFile(
    join(root, 'etc/group'),
    'root:x:0:\nwww:x:33:\napp:x:1001:\nwheel:x:10:app,www\naudio:x:29:app\n',
  );
  return { dir, root };
}

const image = (config: ImageConfig['config']): ImageConfig => ({
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-02T03:04:05Z',
  config,
  rootfs: { type: 'layers', diff_ids: [] },
});

test('entrypoint + cmd, env merge, workdir, user lookup, annotations', async (t) => {
  const { root } = await rootfs(t);
  const r = await imageToRuntimeConfig(
    image({
      Entrypoint: ['/entry.sh'],
      Cmd: ['serve', '--port', '80'],
      Env: ['PATH=/opt/bin:/usr/bin', 'A=1', 'B=2'],
      WorkingDir: 'srv/app',
      User: 'app',
      Labels: { 'org.example.team': 'x' },
      StopSignal: 'SIGQUIT',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
    }),
    root,
    { env: ['B=3', 'C=4'] },
  );
  assert.deepEqual(r.spec.process.args, ['/entry.sh', 'serve', '--port', '80']);
  assert.deepEqual(r.spec.process.env, ['PATH=/opt/bin:/usr/bin', 'HOME=/home/app', 'A=1', 'B=3', 'C=4']);
  assert.equal(r.spec.process.cwd, '/srv/app');
  assert.deepEqual(r.spec.process.user, { uid: 1000, gid: 1001, additionalGids: [10, 29] });
  assert.equal(r.stopSignal, 'SIGQUIT');
  assert.deepEqual(r.exposedPorts, ['53/udp', '80/tcp']);
  assert.deepEqual(r.volumes, ['/data']);
  assert.equal(r.spec.annotations['org.example.team'], 'x');
  assert.equal(r.spec.annotations['org.opencontainers.image.stopSignal'], 'SIGQUIT');
  assert.equal(r.spec.annotations['org.opencontainers.image.exposedPorts'], '53/udp,80/tcp');
  assert.equal(r.spec.root.path, root);
});

test('docker override rules for entrypoint and cmd; defaults', async (t) => {
  const { root } = await rootfs(t);
  const img = image({ Entrypoint: ['/e'], Cmd: ['c'] });
  assert.deepEqual((await imageToRuntimeConfig(img, root, { cmd: ['x'] })).spec.process.args, ['/e', 'x']);
  assert.deepEqual((await imageToRuntimeConfig(img, root, { entrypoint: ['/bin/sh'] })).spec.process.args, [
    '/bin/sh',
  ]);
  assert.deepEqual(
    (await imageToRuntimeConfig(img, root, { entrypoint: [], cmd: ['ls'] })).spec.process.args,
    ['ls'],
  );
  const d = await imageToRuntimeConfig(image({ Cmd: ['sh'] }), root);
  assert.deepEqual(d.spec.process.user, { uid: 0, gid: 0 });
  assert.equal(d.spec.process.cwd, '/');
  assert.equal(d.stopSignal, 'SIGTERM');
  assert.ok(d.spec.process.env.includes('HOME=/root'));
  assert.ok(d.spec.process.env.some((e) => e.startsWith('PATH=/usr/local/sbin')));
  await assert.rejects(imageToRuntimeConfig(image({}), root), { code: 'INVALID_CONFIG' });
});

test('user forms: uid, uid:gid, name:group, unknown names, group-add', async (t) => {
  const { root } = await rootfs(t);
  const user = async (u: string, groupAdd?: string[]) =>
    (await imageToRuntimeConfig(image({ Cmd: ['x'], User: u }), root, { groupAdd })).spec.process.user;
  assert.deepEqual(await user('33'), { uid: 33, gid: 33, additionalGids: [10] });
  assert.deepEqual(await user('4242'), { uid: 4242, gid: 0 });
  assert.deepEqual(await user('1000:10'), { uid: 1000, gid: 10 });
  assert.deepEqual(await user('www:audio'), { uid: 33, gid: 29 });
  assert.deepEqual(await user('root', ['wheel', '77']), { uid: 0, gid: 0, additionalGids: [10, 77] });
  await assert.rejects(user('nobody'), (e: Error) => /unable to find user nobody/.test(e.message));
  await assert.rejects(user('app:nogroup'), (e: Error) => /unable to find group nogroup/.test(e.message));
});

test('passwd lookups stay inside the rootfs even through hostile symlinks', async (t) => {
  const { dir, root } = await rootfs(t);
  await fs.writeFile(join(dir, 'host-passwd'), 'evil:x:0:0::/:/bin/sh\n');
  await fs.rm(join(root, 'etc/passwd'));
  await fs.symlink('../../host-passwd', join(root, 'etc/passwd'));
  assert.equal(await readFileInRoot(root, '/etc/passwd'), undefined);
  await assert.rejects(
    imageToRuntimeConfig(image({ Cmd: ['x'], User: 'evil' }), root),
    /unable to find user evil/,
  );
  // An absolute symlink resolves inside the rootfs.
  await fs.writeFile(join(root, 'real-passwd'), 'evil:x:7:7::/:/bin/sh\n');
  await fs.rm(join(root, 'etc/passwd'));
  await fs.symlink('/real-passwd', join(root, 'etc/passwd'));
  assert.deepEqual(
    (await imageToRuntimeConfig(image({ Cmd: ['x'], User: 'evil' }), root)).spec.process.user,
    { uid: 7, gid: 7 },
  );
});

test('stop signals', () => {
  assert.equal(parseStopSignal('TERM'), 'SIGTERM');
  assert.equal(parseStopSignal('sigint'), 'SIGINT');
  assert.equal(parseStopSignal('9'), 'SIGKILL');
  assert.equal(parseStopSignal('SIGRTMIN+3'), 'SIGRTMIN+3');
  assert.throws(() => parseStopSignal('SIGNOPE'), { code: 'INVALID_CONFIG' });
});
