/** X-Registry-Auth as moby's DecodeAuthConfig takes it. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { registryAuth } from '../../../src/api/registry-auth.js';

const req = (header?: string) => ({ headers: header === undefined ? {} : { 'x-registry-auth': header } }) as unknown as IncomingMessage;
const enc = (v: unknown, how: 'base64' | 'base64url' = 'base64url') => Buffer.from(JSON.stringify(v)).toString(how);

test('X-Registry-Auth: base64url or standard base64 JSON, with or without padding; auth is user:password', () => {
  const creds = { username: 'tess', password: 'p+/?=x' };
  assert.deepEqual(registryAuth(req(enc({ ...creds, serveraddress: '127.0.0.1:5000' }))), creds);
  assert.deepEqual(registryAuth(req(enc(creds, 'base64'))), creds);
  assert.deepEqual(registryAuth(req(enc(creds).replace(/=+$/, ''))), creds);
  assert.deepEqual(registryAuth(req(enc({ auth: Buffer.from('tess:a:b').toString('base64') }))), { username: 'tess', password: 'a:b' });
  assert.deepEqual(registryAuth(req(enc({ identitytoken: 'tok' }))), { identityToken: 'tok' });
});

test('X-Registry-Auth: absent, empty ({}, as docker\'s CLI sends without a login) or undecodable means none, as moby ignores it', () => {
  for (const h of [undefined, '', '   ', enc({}), enc({ username: '' }), 'not base64 json!', enc('a string'), enc(null)]) assert.equal(registryAuth(req(h)), undefined, String(h));
});
