/**
 * Debian's docker-compose 1.29.2, unmodified, against a `brig serve` the test starts: a
 * project of two services (a web service publishing a port on the host's loopback and
 * reaching the other by its service name, and a "db" keeping data in a named volume),
 * depends_on, then up -d, ps, logs, exec -T, down -v; and what is left on the host after.
 * Traffic only between the project's containers and the host's loopback.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brigCli, serveFor } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const COMPOSE = '/usr/bin/docker-compose';
const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip =
  requires('root', 'helper', 'busybox') || (existsSync(COMPOSE) ? false : 'docker-compose not installed (apt-get install docker-compose)') || (netavark ? false : 'netavark not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-compose-'));
const data = path.join(root, 'data');
const project = path.join(root, 'proj');
const { brig, ok } = brigCli(data, { BRIG_HOST: '' });
const IMAGE = 'localhost/compose-bb:1';
let host = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function compose(args: string[]) {
  const r = spawnSync(COMPOSE, ['-p', 'brigtest', ...args], { cwd: project, env: { ...process.env, DOCKER_HOST: host, COMPOSE_INTERACTIVE_NO_CLI: '1' }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function composeOk(args: string[]): string {
  const r = compose(args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

let port = 0;

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'nslookup', 'wget', 'httpd', 'cat', 'sh', 'echo', 'ls']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  mkdirSync(path.join(rootfs, 'www'), { recursive: true });
  writeFileSync(path.join(rootfs, 'www', 'index.html'), 'hello from compose on brig\n');
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  ok(['import', '--change', 'ENV PATH=/bin', path.join(root, 'bb.tar'), IMAGE]);
  host = serveFor(data);
  port = await freePort();
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'docker-compose.yml'),
    `version: "3.8"
services:
  web:
    image: ${IMAGE}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    ports: ["127.0.0.1:${port}:80"]
    environment:
      GREETING: hello
    depends_on: [db]
  db:
    image: ${IMAGE}
    command: ["sh", "-c", "echo stored > /data/row; echo db ready; exec sleep 1000"]
    volumes: ["dbdata:/data"]
volumes:
  dbdata: {}
`,
  );
});

after(() => {
  if (!skip) {
    compose(['down', '-v', '-t', '0']);
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
    for (const n of brig(['network', 'ls', '-q', '--filter', 'name=brigtest']).stdout.split('\n').filter(Boolean)) brig(['network', 'rm', n]);
  }
  rmSync(root, { recursive: true, force: true });
});

test('docker-compose 1.29.2 up -d, ps, logs, exec -T, down -v through brig serve', { skip }, async () => {
  composeOk(['up', '-d']);
  // compose's labels: brig sees the project's containers as compose made them.
  const ps = ok(['ps', '--filter', 'label=com.docker.compose.project=brigtest', '--format', '{{.Names}} {{.Label "com.docker.compose.service"}}']);
  assert.deepEqual(ps.trim().split('\n').sort(), ['brigtest_db_1 db', 'brigtest_web_1 web']);
  const cps = composeOk(['ps']);
  assert.match(cps, /brigtest_web_1 .* Up .*127\.0\.0\.1:\d+->80\/tcp/);
  assert.match(cps, /brigtest_db_1 .* Up/);
  // The published port serves the host's loopback.
  let body = '';
  for (let i = 0; i < 50 && body === ''; i++) {
    body = await fetchText(port).catch(() => '');
    if (body === '') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(body, 'hello from compose on brig\n');
  // Service-name DNS on the project's network; the environment as given.
  assert.match(composeOk(['exec', '-T', 'web', 'nslookup', 'db']), /Address.*\d+\.\d+\.\d+\.\d+/);
  assert.equal(composeOk(['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING']), 'hello\n');
  assert.equal(composeOk(['exec', '-T', 'db', 'cat', '/data/row']), 'stored\n');
  assert.match(composeOk(['logs', '--no-color', 'db']), /db_1\s+\| db ready/);
  // down -v: containers, the project network and the named volume go.
  composeOk(['down', '-v', '-t', '1']);
  assert.equal(ok(['ps', '-aq', '--filter', 'label=com.docker.compose.project=brigtest']), '');
  assert.doesNotMatch(ok(['volume', 'ls', '-q']), /brigtest_dbdata/);
  assert.doesNotMatch(ok(['network', 'ls', '--format', '{{.Name}}']), /brigtest_default/);
  assert.equal(await fetchText(port).catch(() => 'closed'), 'closed', 'the port is freed');
});
