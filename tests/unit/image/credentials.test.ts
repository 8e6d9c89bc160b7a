import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerConfigCredentials } from '../../../src/image/registry/credentials.js';
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
