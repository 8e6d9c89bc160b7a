/**
 * How `brig serve` listens: plain TCP refused (nothing left behind, -H named), allowed on a
 * loopback address only with --insecure-tcp and said to be insecure, and TCP with TLS that
 * requires a client certificate signed by --tlscacert (the docker CLI with --tlsverify gets
 * in, a client without a certificate does not); a unix socket held by a live server is not
 * taken over.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, test } from 'node:test';
import { BRIG } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'docker-cli') || (spawnSync('openssl', ['version']).status === 0 ? false : 'openssl not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-api-serve-'));
const env = { ...process.env, BRIG_ROOT: path.join(root, 'data') };

after(() => rmSync(root, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts brig serve and resolves once it listens (or with its exit status and stderr if it does not). */
function serve(args: string[]): Promise<{ pid: number; stop: () => Promise<void>; stderr: () => string } | { code: number | null; stderr: string }> {
  const p = spawn(BRIG, ['serve', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve) => {
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('API listening') && args.filter((a) => a === '-H').length === (stderr.match(/API listening/g) ?? []).length) {
        resolve({
          pid: p.pid!,
          stderr: () => stderr,
          stop: () => new Promise<void>((done) => (p.once('exit', () => done()), p.kill('SIGTERM'))),
        });
      }
    });
    p.once('exit', (code) => resolve({ code, stderr }));
  });
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

test('plain TCP is refused without TLS, named, and leaves nothing; on loopback --insecure-tcp allows it and says so', { skip }, async () => {
  const port = await freePort();
  const sock = path.join(root, 'refused.sock');
  const refused = await serve(['-H', `unix://${sock}`, '-H', `tcp://0.0.0.0:${port}`]);
  assert.ok('code' in refused);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /-H tcp:\/\/0\.0\.0\.0:\d+: plain TCP would give anyone who can reach it root on this host/);
  assert.ok(!existsSync(sock), 'no socket made before the refusal');
  const notLoopback = await serve(['-H', `tcp://0.0.0.0:${port}`, '--insecure-tcp']);
  assert.ok('code' in notLoopback && notLoopback.code === 125, '--insecure-tcp is for loopback only');
  const bad = await serve(['-H', 'tcp://127.0.0.1']);
  assert.ok('code' in bad && bad.code === 125);
  assert.match(bad.stderr, /-H tcp:\/\/127\.0\.0\.1: expected unix:\/\/\/path or tcp:\/\/ADDR:PORT/);

  const s = await serve(['-H', `tcp://127.0.0.1:${port}`, '--insecure-tcp']);
  assert.ok('stop' in s, JSON.stringify(s));
  assert.match(s.stderr(), /API listening on 127\.0\.0\.1:\d+ \(plain TCP, NOT SECURE/);
  const v = spawnSync('docker', ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Platform.Name}}'], { encoding: 'utf8' });
  assert.equal(v.stdout, 'brig\n', v.stderr);
  await s.stop();
});

test('TLS: the docker CLI with a client certificate gets in, a client without one does not', { skip }, async () => {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=brig test CA']);
  for (const who of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}-key.pem`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'client'}`]);
    const ext = path.join(root, `${who}.ext`);
    spawnSync('sh', ['-c', `printf '%s\\n' '${who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth' : 'extendedKeyUsage=clientAuth'}' > ${ext}`]);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', '-extfile', ext]);
  }
  const port = await freePort();
  const f = (n: string) => path.join(root, n);
  const missing = await serve(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', f('ca.pem')]);
  assert.ok('code' in missing && missing.code === 125);
  assert.match(missing.stderr, /--tlsverify needs --tlscert/);
  const s = await serve(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')]);
  assert.ok('stop' in s, JSON.stringify(s));
  assert.match(s.stderr(), /\(TCP with TLS, client certificates verified\)/);
  const v = spawnSync('docker', ['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('client.pem'), '--tlskey', f('client-key.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Platform.Name}}'], { encoding: 'utf8' });
  assert.equal(v.stdout, 'brig\n', v.stderr);
  // Without a client certificate the handshake is refused before any HTTP.
  const refused = await new Promise<string>((resolve) => {
    const c = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(f('ca.pem')), servername: 'localhost' }, () => c.write('GET /version HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.on('error', (e) => resolve(`error: ${e.message}`));
    c.on('close', () => resolve(got === '' ? 'closed' : got));
  });
  assert.doesNotMatch(refused, /HTTP\/1\.1 200/);
  await s.stop();
});

test("the server's malloc gives freed memory back: glibc's trim and mmap thresholds fixed at 128 KiB by bin/brig", { skip }, async () => {
  const s = await serve(['-H', `unix://${path.join(root, 'malloc.sock')}`]);
  if (!('stop' in s)) throw new Error(`brig serve exited ${s.code}: ${s.stderr}`);
  const environ = readTextSync(`/proc/${s.pid}/environ`).split('\0');
  await s.stop();
  assert.ok(environ.includes('MALLOC_TRIM_THRESHOLD_=131072'), 'trim threshold');
  assert.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=131072'), 'mmap threshold');
});

test('a socket a live server listens on is not taken over', { skip }, async () => {
  const sock = path.join(root, 'busy.sock');
  const first = await serve(['-H', `unix://${sock}`]);
  assert.ok('stop' in first);
  const second = await serve(['-H', `unix://${sock}`]);
  assert.ok('code' in second && second.code === 125);
  assert.match(second.stderr, /another server is listening there/);
  assert.ok(existsSync(sock), "the first server's socket stays");
  await first.stop();
  assert.ok(!existsSync(sock));
});
