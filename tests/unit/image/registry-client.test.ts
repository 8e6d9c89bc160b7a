/**
 * The registry client against a small fake registry on loopback: Bearer token flow with
 * Basic credentials, retries on 429/503, error mapping, digest checks, redaction.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { sha256 } from '../../../src/image/digest.js';
import { MediaType } from '../../../src/image/manifest.js';
import { parseReference } from '../../../src/image/reference.js';
import { parseChallenge } from '../../../src/image/registry/auth.js';
import { plainHttpAllowed, RegistryClient } from '../../../src/image/registry/client.js';
import { staticCredentials } from '../../../src/image/registry/credentials.js';
import { BlobStore } from '../../../src/image/store/blob-store.js';
import { tempDir } from '../../support/image-tmp.js';

const blob = Buffer.alloc(200_000, 3);
const blobDigest = sha256(blob);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: blobDigest, size: blob.length },
    layers: [],
  }),
);
const stats = { token: 0, tokenAuth: [] as string[], blobHits: 0, scopes: [] as string[] };
let server: Server;
let host: string;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', `http://${host}`);
  const auth = req.headers.authorization ?? '';
  if (url.pathname === '/token' && req.method === 'POST') {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      stats.scopes.push(form.get('scope') ?? '');
      const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-xyz';
      if (!ok) res.writeHead(401).end();
      else res.writeHead(200).end(JSON.stringify({ access_token: 'tok-123', expires_in: 60 }));
    });
    return;
  }
  if (url.pathname === '/token') {
    stats.token++;
    stats.tokenAuth.push(auth);
    stats.scopes.push(...url.searchParams.getAll('scope'));
    if (auth !== `Basic ${Buffer.from('user:pa55word').toString('base64')}`) {
      res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad creds"}]}');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ token: 'tok-123', expires_in: 300 }));
    return;
  }
  if (auth !== 'Bearer tok-123') {
    res
      .writeHead(401, {
        'WWW-Authenticate': `Bearer realm="http://${host}/token",service="fake",scope="repository:x:pull"`,
      })
      .end();
    return;
  }
  if (url.pathname === '/v2/') {
    res.writeHead(200).end('{}');
  } else if (url.pathname === '/v2/lib/app/manifests/v1') {
    res
      .writeHead(200, { 'Content-Type': MediaType.OciManifest, 'Docker-Content-Digest': sha256(manifest) })
      .end(manifest);
  } else if (url.pathname === '/v2/lib/app/manifests/lying') {
    res
      .writeHead(200, { 'Content-Type': MediaType.OciManifest, 'Docker-Content-Digest': sha256('other') })
      .end(manifest);
  } else if (url.pathname === `/v2/lib/app/blobs/${blobDigest}`) {
    stats.blobHits++;
    if (stats.blobHits === 1) res.writeHead(429, { 'Retry-After': '0' }).end();
    else if (stats.blobHits === 2) res.writeHead(503).end();
    else res.writeHead(200, { 'Content-Length': blob.length }).end(blob);
  } else if (url.pathname === `/v2/lib/bad/blobs/${blobDigest}`) {
    res.writeHead(200).end(Buffer.alloc(blob.length, 9));
  } else if (url.pathname.startsWith('/v2/secret/')) {
    res
      .writeHead(403)
      .end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
  } else if (url.pathname.startsWith('/v2/limited/')) {
    res.writeHead(429, { 'Retry-After': '0' }).end();
  } else {
    res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  }
}

before(async () => {
  server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

test('WWW-Authenticate parsing', () => {
  assert.deepEqual(
    parseChallenge('Bearer realm="https://a/token",service="reg",scope="repository:a/b:pull,push"'),
    {
      scheme: 'bearer',
      params: { realm: 'https://a/token', service: 'reg', scope: 'repository:a/b:pull,push' },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
});

test('token flow with basic credentials; token cached; retries on 429 and 503', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const client = new RegistryClient({
    credentials: staticCredentials({ [host]: { username: 'user', password: 'pa55word' } }),
    retry: fast,
  });
  const ref = parseReference(`${host}/lib/app:v1`);
  const m = await client.getManifest(ref);
  assert.equal(m.digest, sha256(manifest));
  assert.equal(m.mediaType, MediaType.OciManifest);
  const blobs = new BlobStore({ root: dir });
  await blobs.init();
  const events: string[] = [];
  await client.fetchBlob(
    ref,
    { mediaType: MediaType.OciConfig, digest: blobDigest, size: blob.length },
    blobs,
    {
      onProgress: (e) => events.push(e.status),
    },
  );
  assert.equal(stats.token, 1, 'one token for one scope');
  assert.ok(stats.scopes.includes('repository:lib/app:pull'));
  assert.ok(stats.blobHits >= 3);
  assert.deepEqual((await blobs.read(blobDigest)).length, blob.length);
  assert.ok(events.includes('done'));
});

test('errors: 401 (bad creds), 403, 404, 429, digest mismatches; no secret in any message', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const blobs = new BlobStore({ root: dir });
  await blobs.init();
  const bad = new RegistryClient({
    credentials: staticCredentials({ [host]: { username: 'user', password: 'WRONGpw' } }),
    retry: fast,
  });
  const good = new RegistryClient({
    credentials: staticCredentials({ [host]: { username: 'user', password: 'pa55word' } }),
    retry: fast,
  });
  const cases: [() => Promise<unknown>, string, string][] = [
    [() => bad.getManifest(parseReference(`${host}/lib/app:v1`)), 'REGISTRY_UNAUTHORIZED', 'token'],
    [() => good.getManifest(parseReference(`${host}/secret/x:1`)), 'REGISTRY_DENIED', 'secret/x:1'],
    [
      () => good.getManifest(parseReference(`${host}/lib/app:missing`)),
      'REGISTRY_NOT_FOUND',
      'lib/app:missing',
    ],
    [() => good.getManifest(parseReference(`${host}/limited/x:1`)), 'REGISTRY_RATE_LIMITED', 'limited/x:1'],
    [() => good.getManifest(parseReference(`${host}/lib/app:lying`)), 'DIGEST_MISMATCH', 'lib/app:lying'],
    [
      () => good.getManifest(parseReference(`${host}/lib/app@${sha256('x')}`)),
      'REGISTRY_NOT_FOUND',
      'lib/app@',
    ],
    [
      () =>
        good.fetchBlob(
          parseReference(`${host}/lib/bad:1`),
          { mediaType: 'x', digest: blobDigest, size: blob.length },
          blobs,
        ),
      'DIGEST_MISMATCH',
      blobDigest,
    ],
  ];
  for (const [p, code, mention] of cases) {
    await assert.rejects(p(), (e: unknown) => {
      assert.ok(e instanceof BrigError, String(e));
      assert.equal(e.code, code, e.message);
      assert.ok(e.message.includes(mention), e.message);
      const text = JSON.stringify(e.toJSON()) + String(e.stack);
      assert.ok(!/pa55word|WRONGpw|tok-123|dXNlcj/.test(text), text);
      return true;
    });
  }
  assert.equal(await blobs.has(blobDigest), false);
});

test('plain HTTP only for loopback and configured insecure registries', () => {
  for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
    assert.ok(plainHttpAllowed(r), r);
  for (const r of ['docker.io', 'quay.io', 'registry.local:5000', '10.0.0.1:5000', 'localhost.evil.com']) {
    assert.equal(plainHttpAllowed(r), false, r);
  }
  assert.ok(plainHttpAllowed('registry.local:5000', ['registry.local:5000']));
  assert.equal(plainHttpAllowed('registry.local:5001', ['registry.local:5000']), false);
});

test('identity tokens use the OAuth2 refresh-token POST', async () => {
  const client = new RegistryClient({
    credentials: staticCredentials({ [host]: { identityToken: 'refresh-xyz' } }),
    retry: fast,
  });
  const m = await client.getManifest(parseReference(`${host}/lib/app:v1`));
  assert.equal(m.digest, sha256(manifest));
  assert.ok(stats.scopes.includes('repository:lib/app:pull'));
  const bad = new RegistryClient({
    credentials: staticCredentials({ [host]: { identityToken: 'expired' } }),
    retry: fast,
  });
  await assert.rejects(bad.getManifest(parseReference(`${host}/lib/app:v1`)), {
    code: 'REGISTRY_UNAUTHORIZED',
  });
});

test('concurrent pushes of one blob to one repository upload it once', async () => {
  const counts = { post: 0, put: 0 };
  let stored = false;
  const up = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
    if (req.method === 'HEAD' && url.pathname === `/v2/up/app/blobs/${blobDigest}`) {
      return void res.writeHead(stored ? 200 : 404).end();
    }
    if (req.method === 'POST' && url.pathname === '/v2/up/app/blobs/uploads/') {
      counts.post++;
      return void res.writeHead(202, { Location: `/v2/up/app/blobs/uploads/${counts.post}`, 'Content-Length': '0' }).end();
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/v2/up/app/blobs/uploads/')) {
      counts.put++;
      req.resume();
      // Slow enough that the second push starts while this one is in flight.
      req.on('end', () => setTimeout(() => {
        stored = true;
        res.writeHead(201, { 'Content-Length': '0' }).end();
      }, 50));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  try {
    const upHost = `127.0.0.1:${(up.address() as { port: number }).port}`;
    const client = new RegistryClient({ retry: fast });
    const ref = parseReference(`${upHost}/up/app:v1`);
    const desc = { mediaType: MediaType.OciConfig, digest: blobDigest, size: blob.length };
    const open = async function* () {
      yield blob;
    };
    const results = await Promise.all([client.pushBlob(ref, desc, open), client.pushBlob(ref, desc, open)]);
    assert.deepEqual(results.sort(), ['exists', 'uploaded']);
    assert.deepEqual(counts, { post: 1, put: 1 });
  } finally {
    await new Promise<void>((r) => up.close(() => r()));
  }
});
