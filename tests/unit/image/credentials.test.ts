import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { convertToHostname, CredentialStore, dockerConfigCredentials, HUB_SERVER, registryOf, serverKey } from '../../../src/image/registry/credentials.js';
import { tempDir } from '../../support/image-tmp.js';

test('docker config.json: auth, username/password, hub keys, identity tokens, helpers', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const helperDir = join(dir, 'bin');
  await fs.mkdir(helperDir);
  await fs.writeFile(
    join(helperDir, 'docker-credential-fake'),
    '#!/bin/sh\nread host\nif [ "$host" = "helped.example" ]; then echo \'{"Username":"h","Secret":"hs"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n',
    { mode: 0o755 },
  );
  const config = join(dir, 'config.json');
  await fs.writeFile(
    config,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pw').toString('base64') },
        'https://ghcr.io': { username: 'g', password: 'gp' },
        'quay.io': { identitytoken: 'refresh-me' },
        'broken.example': { auth: Buffer.from('nocolon').toString('base64') },
      },
      credHelpers: { 'helped.example': 'fake', 'nohelper.example': 'fake' },
    }),
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${helperDir}:${oldPath}`;
  t.after(() => {
    process.env.PATH = oldPath;
  });
  const get = dockerConfigCredentials(config);
  assert.deepEqual(await get('docker.io'), { username: 'hubuser', password: 'hub:pw' });
  assert.deepEqual(await get('ghcr.io'), { username: 'g', password: 'gp' });
  assert.deepEqual(await get('quay.io'), { identityToken: 'refresh-me' });
  assert.equal(await get('other.example'), undefined);
  assert.deepEqual(await get('helped.example'), { username: 'h', password: 'hs' });
  assert.equal(await get('nohelper.example'), undefined);
  await assert.rejects(
    get('broken.example'),
    (e: Error) => /auth/.test(e.message) && !e.message.includes('nocolon'),
  );
  assert.equal(await dockerConfigCredentials(join(dir, 'missing.json'))('docker.io'), undefined);
  await fs.writeFile(join(dir, 'bad.json'), '{');
  await assert.rejects(dockerConfigCredentials(join(dir, 'bad.json'))('docker.io'), {
    code: 'INVALID_CONFIG',
  });
});

test('server keys as docker makes them: Docker Hub URL, else the host', () => {
  assert.equal(serverKey(undefined), HUB_SERVER);
  assert.equal(serverKey('docker.io'), HUB_SERVER);
  assert.equal(serverKey('https://index.docker.io/v1/'), HUB_SERVER);
  assert.equal(serverKey('https://reg.example:5000/v2/'), 'reg.example:5000');
  assert.equal(serverKey('reg.example/path'), 'reg.example');
  assert.equal(convertToHostname('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(registryOf(HUB_SERVER), 'docker.io');
  assert.equal(registryOf('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('CredentialStore: auths written 0600 and atomically, other keys kept, unchanged not rewritten; erase', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const config = join(dir, 'sub', 'config.json');
  const store = new CredentialStore(config);
  assert.deepEqual(await store.store('reg:5000', { username: 'u', password: 'p:w' }), { plaintext: config });
  assert.equal((await fs.stat(config)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(join(dir, 'sub'))).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(await fs.readFile(config, 'utf8')), { auths: { 'reg:5000': { auth: Buffer.from('u:p:w').toString('base64') } } });
  assert.deepEqual(await store.get('reg:5000'), { username: 'u', password: 'p:w' });
  await fs.writeFile(config, JSON.stringify({ ...JSON.parse(await fs.readFile(config, 'utf8')), detachKeys: 'ctrl-x' }), { mode: 0o644 });
  const before = (await fs.stat(config)).mtimeMs;
  assert.deepEqual(await store.store('reg:5000', { username: 'u', password: 'p:w' }), {}, 'unchanged: no write');
  assert.equal((await fs.stat(config)).mtimeMs, before);
  await store.store('other', { username: 'o', identityToken: 'tok' });
  const c = JSON.parse(await fs.readFile(config, 'utf8'));
  assert.equal(c.detachKeys, 'ctrl-x');
  assert.deepEqual(c.auths.other, { auth: Buffer.from('o:').toString('base64'), identitytoken: 'tok' });
  assert.equal((await fs.stat(config)).mode & 0o777, 0o600, 'a looser file is tightened');
  assert.deepEqual(await store.erase('reg:5000'), {});
  assert.deepEqual(await store.erase('reg:5000'), {}, 'erasing what is not there is no error');
  assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(config, 'utf8')).auths), ['other']);
  assert.deepEqual((await fs.readdir(join(dir, 'sub'))).sort(), ['config.json']);
  await fs.writeFile(config, '[1]');
  await assert.rejects(store.store('x', { username: 'a', password: 'b' }), { code: 'INVALID_CONFIG' });
});

test('CredentialStore through a helper: store, get, erase by its protocol; the file keeps an empty entry', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const bin = join(dir, 'bin');
  await fs.mkdir(bin);
  const log = join(dir, 'helper.log');
  // Remembers one secret; logs each call (verb and stdin) so the protocol can be checked.
  await fs.writeFile(
    join(bin, 'docker-credential-rec'),
    `#!/bin/sh\nin=$(cat)\nprintf '%s %s\\n' "$1" "$in" >> ${log}\ncase $1 in\nstore) printf '%s' "$in" > ${dir}/secret ;;\nget) if [ -f ${dir}/secret ]; then cat ${dir}/secret; else echo "credentials not found in native keychain"; exit 1; fi ;;\nerase) if [ -f ${dir}/secret ]; then rm ${dir}/secret; else echo "credentials not found in native keychain"; exit 1; fi ;;\nesac\n`,
    { mode: 0o755 },
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath}`;
  t.after(() => {
    process.env.PATH = oldPath;
  });
  const config = join(dir, 'config.json');
  await fs.writeFile(config, JSON.stringify({ credHelpers: { 'reg:5000': 'rec' } }));
  const store = new CredentialStore(config);
  assert.deepEqual(await store.store('reg:5000', { username: 'u', password: 'pw' }), {});
  assert.deepEqual(JSON.parse(await fs.readFile(config, 'utf8')).auths, { 'reg:5000': {} });
  assert.deepEqual(await store.get('reg:5000'), { username: 'u', password: 'pw' });
  await store.store('reg:5000', { username: 'u', identityToken: 'refresh' });
  assert.deepEqual(await store.get('reg:5000'), { identityToken: 'refresh' });
  assert.deepEqual(await store.erase('reg:5000'), {});
  assert.match((await store.erase('reg:5000')).error ?? '', /^error erasing credentials - err: exit status 1, out: `credentials not found in native keychain`$/);
  assert.equal(
    await fs.readFile(log, 'utf8'),
    'store {"ServerURL":"reg:5000","Username":"u","Secret":"pw"}\nget reg:5000\nstore {"ServerURL":"reg:5000","Username":"<token>","Secret":"refresh"}\nget reg:5000\nerase reg:5000\nerase reg:5000\n',
  );
  assert.deepEqual(await store.store('elsewhere', { username: 'x', password: 'y' }), { plaintext: config }, 'no helper for that host: the file');
});
