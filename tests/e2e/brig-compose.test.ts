/**
 * brig compose end to end on the real kernel: the seeds' application shape (a web service
 * publishing a port on 127.0.0.1 with an environment variable and a bind-mounted data dir, a
 * "db" service with a named volume) up, reached from the host and by service name, and down
 * -v leaving nothing on the host; depends_on service_healthy; json-file logging limits,
 * labels, limits and replicas; up twice recreating only what changed; bad files named by
 * file:line:path and leaving nothing. Images are made here from the host's busybox (httpd,
 * wget); services that are not about networks run with network_mode none. Also: external
 * networks and volumes, push to a registry on 127.0.0.1, and the smaller verbs and flags (up
 * --wait, --force-recreate, --remove-orphans, ls, images, top, start/stop/restart, rm, run --rm,
 * down --rmi local).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { type Bridge, composeLeftovers, networkBridge } from '../support/compose-host.js';
import { fetchText } from '../support/http-text.js';
import { busyboxTar } from '../support/image-busybox.js';
import { registryMissing, startRegistry } from '../support/image-registry.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip = requires('root', 'helper', 'busybox') || (netavark ? false : 'netavark and aardvark-dns are not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-compose-'));
const data = path.join(root, 'data');
const { brig, ok, env } = brigCli(data);
const IMAGE = 'localhost/compose-box:1';

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['httpd', 'wget', 'sleep', 'touch', 'test', 'seq', 'true', 'false']), IMAGE]);
});

after(() => {
  if (!skip) {
    const ids = brig(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) brig(['rm', '-f', ...ids]);
    for (const n of brig(['network', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['network', 'rm', n]);
  }
  rmSync(root, { recursive: true, force: true });
});

/** A project directory with its compose.yaml. */
function project(name: string, yaml: string): { dir: string; compose: (args: string[]) => ReturnType<typeof brig>; ok: (args: string[]) => string } {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  const compose = (args: string[]) => brig(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', name, ...args]);
  return {
    dir,
    compose,
    ok: (args) => {
      const r = compose(args);
      assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

function inspect(ref: string): { Id: string; Name: string; State: { Running: boolean; StartedAt: string; Health?: { Status: string } }; Config: { Labels: Record<string, string> }; HostConfig: Record<string, unknown>; LogPath: string } {
  return JSON.parse(ok(['inspect', ref]))[0];
}

const leftovers = (name: string, ids: string[], bridges: Bridge[]) => composeLeftovers(ok, name, ids, bridges);

test('the seeds app: up -d, the port answers on 127.0.0.1, web reaches db by name, ps/logs/exec, down -v leaves nothing', { skip }, async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = project(
    'seeds',
    `services:
  web:
    image: ${IMAGE}
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/srv/data"]
    environment:
      GREETING: hello from compose
    ports: ["127.0.0.1:${port}:8080"]
    volumes: ["./data:/srv/data"]
    depends_on: [db]
  db:
    image: ${IMAGE}
    init: true
    command: ["sh", "-c", "echo db-row >> /var/lib/db/index.html; echo db ready; exec httpd -f -p 5432 -h /var/lib/db"]
    volumes: ["dbdata:/var/lib/db"]
volumes:
  dbdata:
`,
  );
  mkdirSync(path.join(p.dir, 'data'));
  writeFileSync(path.join(p.dir, 'data', 'index.html'), 'from the bind mount\n');
  p.ok(['up', '-d']);
  assert.equal(await fetchText(port), 'from the bind mount\n');
  assert.equal(p.ok(['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING']), 'hello from compose\n');
  // Service-name DNS on the project network, and the named volume written by db.
  assert.equal(p.ok(['exec', '-T', 'web', 'wget', '-qO-', 'http://db:5432/']), 'db-row\n');
  const ps = p.ok(['ps']);
  assert.match(ps, /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS/);
  assert.match(ps, new RegExp(`seeds-web-1 .* web .*Up.*127\\.0\\.0\\.1:${port}->8080/tcp`));
  assert.match(ps, /seeds-db-1 .* db /);
  assert.deepEqual(p.ok(['ps', '--services']).split('\n').filter(Boolean).sort(), ['db', 'web']);
  assert.match(p.ok(['logs', 'db']), /^db-1 +\| db ready$/m);
  assert.equal(p.ok(['port', 'web', '8080']), `127.0.0.1:${port}\n`);
  // compose's labels on every resource.
  const web = inspect('seeds-web-1');
  const labels = web.Config.Labels;
  assert.equal(labels['com.docker.compose.project'], 'seeds');
  assert.equal(labels['com.docker.compose.service'], 'web');
  assert.equal(labels['com.docker.compose.container-number'], '1');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.project.working_dir'], p.dir);
  assert.equal(labels['com.docker.compose.project.config_files'], path.join(p.dir, 'compose.yaml'));
  assert.match(labels['com.docker.compose.config-hash']!, /^[0-9a-f]{64}$/);
  const net = JSON.parse(ok(['network', 'inspect', 'seeds_default']))[0] as { Labels: Record<string, string>; IPAM: { Config: { Subnet: string }[] }; brig?: unknown };
  assert.equal(net.Labels['com.docker.compose.project'], 'seeds');
  assert.equal(net.Labels['com.docker.compose.network'], 'default');
  const vol = JSON.parse(ok(['volume', 'inspect', 'seeds_dbdata']))[0] as { Labels: Record<string, string> };
  assert.equal(vol.Labels['com.docker.compose.volume'], 'dbdata');
  // The volume's data survives down and up; down -v removes everything.
  const ids = [web.Id, inspect('seeds-db-1').Id];
  const bridges = [networkBridge(data, ok(['network', 'inspect', '-f', '{{.Id}}', 'seeds_default']).trim())];
  p.ok(['down']);
  assert.deepEqual(leftovers('seeds', ids, bridges), ['volume seeds_dbdata']);
  p.ok(['up', '-d']);
  assert.equal(p.ok(['exec', '-T', 'web', 'wget', '-qO-', 'http://db:5432/']), 'db-row\ndb-row\n');
  const ids2 = [inspect('seeds-web-1').Id, inspect('seeds-db-1').Id];
  const t0 = Date.now();
  p.ok(['down', '-v']);
  const downMs = Date.now() - t0;
  assert.deepEqual(leftovers('seeds', [...ids, ...ids2], bridges), []);
  assert.ok(downMs < 8000, `down -v took ${downMs} ms`);
});

test('depends_on service_healthy waits for the health check; deploy.replicas gives that many containers', { skip }, () => {
  const p = project(
    'health',
    `services:
  db:
    image: ${IMAGE}
    network_mode: none
    init: true
    command: ["sh", "-c", "sleep 2; touch /ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 300ms
      retries: 20
  app:
    image: ${IMAGE}
    network_mode: none
    init: true
    command: ["sleep", "1000"]
    deploy:
      replicas: 3
    depends_on:
      db:
        condition: service_healthy
`,
  );
  p.ok(['up', '-d']);
  const db = inspect('health-db-1');
  assert.equal(db.State.Health?.Status, 'healthy');
  const apps = [1, 2, 3].map((n) => inspect(`health-app-${n}`));
  // Every app replica started after db became healthy: at least the 2 s db sleeps.
  for (const a of apps) {
    assert.ok(a.State.Running);
    assert.ok(Date.parse(a.State.StartedAt) - Date.parse(db.State.StartedAt) >= 2000, `app started ${a.State.StartedAt}, db ${db.State.StartedAt}`);
  }
  assert.equal(p.ok(['ps', '-q']).split('\n').filter(Boolean).length, 4);
  // --scale changes only the count.
  p.ok(['up', '-d', '--scale', 'app=1']);
  assert.equal(p.ok(['ps', '-q', 'app']).trim(), apps[0]!.Id);
  p.ok(['down']);
  assert.equal(p.ok(['ps', '-aq']), '');
});

test('json-file logging limits and labels, resources, and up twice recreating only the changed service', { skip }, () => {
  const yaml = (greeting: string) => `services:
  talker:
    image: ${IMAGE}
    network_mode: none
    init: true
    command: ["sh", "-c", "seq 1 3000; exec sleep 1000"]
    labels:
      org.example.tier: backend
    logging:
      driver: json-file
      options:
        max-size: 10k
        max-file: "3"
    deploy:
      resources:
        limits: { cpus: "0.5", memory: 64M, pids: 50 }
        reservations: { memory: 32M }
    stop_grace_period: 3s
  other:
    image: ${IMAGE}
    network_mode: none
    init: true
    environment:
      GREETING: ${greeting}
    command: ["sleep", "1000"]
`;
  const p = project('twice', yaml('one'));
  p.ok(['up', '-d']);
  const t = inspect('twice-talker-1');
  assert.equal(t.Config.Labels['org.example.tier'], 'backend');
  assert.equal(t.Config.Labels['com.docker.compose.service'], 'talker');
  assert.deepEqual(t.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } });
  assert.equal(t.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(t.HostConfig.MemoryReservation, 32 * 1024 * 1024);
  assert.equal(t.HostConfig.NanoCpus, 5e8);
  assert.equal(t.HostConfig.PidsLimit, 50);
  // The limits as the kernel holds them.
  const memFile = ['/sys/fs/cgroup/memory/brig', '/sys/fs/cgroup/brig'].map((d) => path.join(d, t.Id, d.endsWith('memory/brig') ? 'memory.limit_in_bytes' : 'memory.max')).find(existsSync);
  assert.ok(memFile, 'no memory cgroup file for the container');
  assert.equal(readTextSync(memFile).trim(), String(64 * 1024 * 1024));
  // Rotation as the engine's json-file driver does it: at most max-file files of about max-size.
  for (let i = 0; i < 50 && !p.ok(['logs', 'talker']).includes('| 3000'); i++) spawnSync('sleep', ['0.1']);
  const dir = path.dirname(t.LogPath);
  const files = readdirSync(dir).filter((f) => f.startsWith(path.basename(t.LogPath)));
  assert.deepEqual(files.sort(), [path.basename(t.LogPath), `${path.basename(t.LogPath)}.1`, `${path.basename(t.LogPath)}.2`]);
  const before = { talker: t.Id, other: inspect('twice-other-1').Id };
  // Nothing changed: nothing recreated.
  const again = p.compose(['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Recreate/);
  assert.equal(inspect('twice-talker-1').Id, before.talker);
  // One service's environment changed: only it is recreated.
  writeFileSync(path.join(p.dir, 'compose.yaml'), yaml('two'));
  const changed = p.compose(['up', '-d']);
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /Container twice-other-1 {2}Recreate/);
  assert.equal(inspect('twice-talker-1').Id, before.talker);
  const other = inspect('twice-other-1');
  assert.notEqual(other.Id, before.other);
  assert.equal(p.ok(['exec', '-T', 'other', 'sh', '-c', 'echo $GREETING']), 'two\n');
  p.ok(['down']);
});

test('bad files: file:line:path, exit 125, nothing made; a failed up leaves what down removes', { skip }, () => {
  const schema = project('bad1', `services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - target: 80\n        bogus: 1\n`);
  let r = schema.compose(['up', '-d']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`${schema.dir}/compose\\.yaml:6: services\\.web\\.ports\\[0\\]\\.bogus additional property bogus is not allowed`));
  const unsupported = project('bad2', `services:\n  web:\n    image: ${IMAGE}\n    command: ["true"]\n    gpus: all\n`);
  r = unsupported.compose(['up', '-d']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`${unsupported.dir}/compose\\.yaml:5: services\\.web\\.gpus: not supported by brig compose`));
  const badPort = project('bad3', `services:\n  web:\n    image: ${IMAGE}\n    ports: ["1:2:3:4"]\n`);
  r = badPort.compose(['up', '-d']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /compose\.yaml:4: services\.web\.ports\[0\]: invalid port "1:2:3:4"/);
  assert.deepEqual(leftovers('bad1', [], []).concat(leftovers('bad2', [], []), leftovers('bad3', [], [])), []);
  // The second service cannot start: up fails, the first stays up, down removes it all.
  const failed = project(
    'failed',
    `services:\n  ok:\n    image: ${IMAGE}\n    init: true\n    command: ["sleep", "1000"]\n  broken:\n    image: ${IMAGE}\n    command: ["/no/such/program"]\n    depends_on: [ok]\n`,
  );
  r = failed.compose(['up', '-d']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no\/such\/program/);
  const ids = failed.ok(['ps', '-aq']).split('\n').filter(Boolean);
  assert.equal(ids.length, 2);
  failed.ok(['down', '-v']);
  assert.deepEqual(leftovers('failed', ids, []), []);
});

test('up without -d: the services\' logs behind their prefixes until Ctrl-C, which stops them', { skip }, async () => {
  const p = project(
    'attached',
    `services:
  ticker:
    image: ${IMAGE}
    network_mode: none
    init: true
    command: ["sh", "-c", "echo tick-start; exec sleep 1000"]
  once:
    image: ${IMAGE}
    network_mode: none
    command: ["echo", "once done"]
`,
  );
  const child = spawn(BRIG, ['compose', '-f', path.join(p.dir, 'compose.yaml'), '-p', 'attached', 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 200 && !(out.includes('tick-start') && out.includes('once done')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /^ticker-1 +\| tick-start$/m);
  assert.match(out, /^once-1 +\| once done$/m);
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.equal(inspect('attached-ticker-1').State.Running, false);
  p.ok(['down']);
});

test('builds: up builds a missing image (PROJECT-SERVICE) once for services sharing it; compose build --build-arg/--no-cache; up --build recreates on a new image; a refused build key makes nothing', { skip }, () => {
  const p = project(
    'builds',
    `services:
  one:
    build:
      context: ./ctx
      args: { GREETING: from-args }
    network_mode: none
    init: true
    command: ["sh", "-c", "cat /greeting; exec sleep 1000"]
  two:
    build:
      context: ./ctx
      args: { GREETING: from-args }
    network_mode: none
    init: true
    command: ["sleep", "1000"]
  inline:
    image: localhost/builds-inline:1
    build:
      context: ./ctx
      dockerfile_inline: |
        FROM ${IMAGE}
        RUN echo inline > /greeting
    network_mode: none
    command: ["cat", "/greeting"]
`,
  );
  mkdirSync(path.join(p.dir, 'ctx'));
  writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `FROM ${IMAGE}\nARG GREETING=default\nRUN echo $GREETING > /greeting\n`);
  const up = p.compose(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  // One build for one and two (the same request), one for inline; brig build's plain progress.
  assert.equal(up.stderr.match(/ Service [a-z, ]+ {2}Building/g)?.join('|'), ' Service one, two  Building| Service inline  Building');
  assert.match(up.stderr, /^#\d+ .*RUN echo \$GREETING > \/greeting$/m);
  assert.equal(p.ok(['exec', '-T', 'one', 'cat', '/greeting']), 'from-args\n');
  const one = inspect('builds-one-1');
  const image = (JSON.parse(ok(['image', 'inspect', 'builds-one']))[0] as { Id: string; Config: { Labels: Record<string, string> } });
  assert.equal((JSON.parse(ok(['image', 'inspect', 'builds-two']))[0] as { Id: string }).Id, image.Id);
  assert.equal(image.Config.Labels['com.docker.compose.project'], 'builds');
  assert.equal(ok(['image', 'inspect', '-f', '{{.Id}}', 'localhost/builds-inline:1']).trim().length > 0, true);
  // Up again: nothing built, nothing recreated.
  const again = p.compose(['up', '-d']);
  assert.doesNotMatch(again.stderr, /Building|Recreate/);
  // compose build: --build-arg over the file's args, the cache for the rest.
  const built = p.compose(['build', '--build-arg', 'GREETING=from-flag', '--progress', 'plain', 'one']);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /^ Service one {2}Built$/m);
  assert.equal(inspect('builds-one-1').Id, one.Id, 'build alone recreates nothing');
  // up: one's image changed, so one is recreated (two's did not).
  const two = inspect('builds-two-1').Id;
  const moved = p.compose(['up', '-d']);
  assert.equal(moved.code, 0, moved.stderr);
  assert.doesNotMatch(moved.stderr, /Building/);
  assert.match(moved.stderr, /Container builds-one-1 {2}Recreate/);
  assert.equal(p.ok(['exec', '-T', 'one', 'cat', '/greeting']), 'from-flag\n');
  assert.equal(inspect('builds-two-1').Id, two);
  // up --build: rebuilt with the file's args (from the cache: the first image again), one recreated once more.
  const rebuilt = p.compose(['up', '-d', '--build']);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /#\d+ CACHED/);
  assert.match(rebuilt.stderr, /Container builds-one-1 {2}Recreate/);
  assert.equal(p.ok(['exec', '-T', 'one', 'cat', '/greeting']), 'from-args\n');
  assert.equal(inspect('builds-two-1').Id, two);
  const noCache = p.compose(['build', '--no-cache', 'inline']);
  assert.equal(noCache.code, 0, noCache.stderr);
  assert.doesNotMatch(noCache.stderr, /CACHED/);
  p.ok(['down']);
  // A build key brig's builder does not carry out: refused by file:line:path, nothing made.
  const refused = project('buildbad', `services:\n  web:\n    build:\n      context: .\n      ssh: [default]\n`);
  const r = refused.compose(['up', '-d']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`${refused.dir}/compose\\.yaml:5: services\\.web\\.build\\.ssh: not supported by brig compose`));
  assert.deepEqual(leftovers('buildbad', [], []), []);
});

test('external network and volume: up joins the existing ones by their own names, down (even -v) keeps them; a missing one is named', { skip }, () => {
  const net = `ext-net-${process.pid}`;
  const vol = `ext-vol-${process.pid}`;
  ok(['network', 'create', net]);
  ok(['volume', 'create', vol]);
  try {
    const p = project(
      'extern',
      `services:
  a:
    image: ${IMAGE}
    init: true
    command: ["sleep", "1000"]
    networks: [shared]
    volumes: ["keep:/keep"]
networks:
  shared: { external: true, name: ${net} }
volumes:
  keep: { external: { name: ${vol} } }
`,
    );
    p.ok(['up', '-d']);
    const c = JSON.parse(ok(['inspect', 'extern-a-1']))[0] as { NetworkSettings: { Networks: Record<string, unknown> }; Mounts: { Name?: string }[] };
    assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [net]);
    assert.deepEqual(c.Mounts.map((m) => m.Name), [vol]);
    p.ok(['down', '-v']);
    assert.equal(brig(['network', 'inspect', net]).code, 0, 'down keeps the external network');
    assert.equal(brig(['volume', 'inspect', vol]).code, 0, 'down -v keeps the external volume');
    ok(['network', 'rm', net]);
    const r = p.compose(['up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`network ${net} declared as external, but could not be found`));
    assert.equal(p.ok(['ps', '-aq']), '', 'nothing made');
  } finally {
    brig(['network', 'rm', net]);
    brig(['volume', 'rm', vol]);
  }
});

test("push: each service's image that it builds goes to a registry on 127.0.0.1 (build.tags too); the others are skipped; --ignore-push-failures", { skip: skip || registryMissing() }, async () => {
  const reg = await startRegistry();
  try {
    const web = `${reg.host}/compose/web:1`;
    ok(['tag', IMAGE, web]);
    ok(['tag', IMAGE, `${reg.host}/compose/web:extra`]);
    const p = project(
      'pushed',
      `services:
  web:
    image: ${web}
    build: { context: ., tags: ["${reg.host}/compose/web:extra"] }
  box:
    image: ${IMAGE}
  gone:
    image: ${reg.host}/compose/gone:1
    build: .
`,
    );
    const r = p.compose(['push', 'web', 'box']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Service box {2}Skipped/);
    const tags = (await (await fetch(`http://${reg.host}/v2/compose/web/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['1', 'extra']);
    // gone's image is not here: the push fails, and only --ignore-push-failures goes on.
    assert.notEqual(p.compose(['push']).code, 0);
    const ignored = p.compose(['push', '--ignore-push-failures']);
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.match(ignored.stderr, /gone:1/);
  } finally {
    brig(['rmi', `${reg.host}/compose/web:1`, `${reg.host}/compose/web:extra`]);
    await reg.stop();
  }
});

test('verbs: up --wait, service_completed_successfully, ls, images, top, stop/start/restart, rm, run --rm, --force-recreate, --remove-orphans', { skip }, () => {
  const yaml = (withExtra: boolean) => `services:
  setup:
    image: ${IMAGE}
    network_mode: none
    command: ["sh", "-c", "sleep 1; exit 0"]
  app:
    image: ${IMAGE}
    network_mode: none
    init: true
    command: ["sh", "-c", "sleep 1; touch /ready; exec sleep 1000"]
    healthcheck: { test: ["CMD", "test", "-f", "/ready"], interval: 200ms, retries: 30 }
    depends_on:
      setup: { condition: service_completed_successfully }
${withExtra ? `  extra:\n    image: ${IMAGE}\n    network_mode: none\n    init: true\n    command: ["sleep", "1000"]\n` : ''}`;
  const p = project('verbs', yaml(true));
  try {
    p.ok(['up', '-d', '--wait']);
    const setup = JSON.parse(ok(['inspect', 'verbs-setup-1']))[0] as { State: { Running: boolean; ExitCode: number; FinishedAt: string } };
    const app = inspect('verbs-app-1');
    assert.deepEqual([setup.State.Running, setup.State.ExitCode], [false, 0]);
    assert.ok(Date.parse(app.State.StartedAt) >= Date.parse(setup.State.FinishedAt), `app started ${app.State.StartedAt}, setup finished ${setup.State.FinishedAt}`);
    assert.equal(app.State.Health?.Status, 'healthy', '--wait returned only once app was healthy');

    assert.match(p.ok(['ls']), /^verbs +running\(2\), exited\(1\) +\S*compose\.yaml$/m);
    assert.deepEqual(JSON.parse(p.ok(['ls', '--format', 'json'])).find((x: { Name: string }) => x.Name === 'verbs').Status.split(', ').sort(), ['exited(1)', 'running(2)']);
    assert.match(p.ok(['images']), /^verbs-app-1 +localhost\/compose-box +1 +[0-9a-f]{12} /m);
    assert.match(p.ok(['top', 'app']), /^verbs-app-1\n(.|\n)*sleep 1000/);

    p.ok(['stop', 'extra']);
    assert.equal(inspect('verbs-extra-1').State.Running, false);
    p.ok(['start', 'extra']);
    const started = inspect('verbs-extra-1');
    assert.ok(started.State.Running);
    p.ok(['restart', 'extra']);
    const restarted = inspect('verbs-extra-1');
    assert.ok(restarted.State.Running && restarted.State.StartedAt !== started.State.StartedAt, 'restart started it again');
    p.ok(['stop', 'extra']);
    p.ok(['rm', '-f', 'extra']);
    assert.equal(brig(['inspect', 'verbs-extra-1']).code, 1, 'rm removed the stopped container');

    const run = p.compose(['run', '--rm', '--no-deps', 'extra', 'echo', 'one-off']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /one-off/);
    assert.equal(p.ok(['ps', '-aq', 'extra']), '', 'run --rm left no container');

    p.ok(['up', '-d', 'extra']);
    const extraId = inspect('verbs-extra-1').Id;
    p.ok(['up', '-d', '--force-recreate', 'extra']);
    assert.notEqual(inspect('verbs-extra-1').Id, extraId, '--force-recreate made a new container of an unchanged service');

    writeFileSync(path.join(p.dir, 'compose.yaml'), yaml(false));
    const orphan = p.compose(['up', '-d']);
    assert.match(orphan.stderr, /Found orphan containers \(verbs-extra-1\)/);
    assert.equal(inspect('verbs-extra-1').State.Running, true, 'without --remove-orphans the orphan stays');
    p.ok(['up', '-d', '--remove-orphans']);
    assert.equal(brig(['inspect', 'verbs-extra-1']).code, 1, '--remove-orphans removed it');
  } finally {
    p.compose(['down', '--remove-orphans', '-t', '0']);
  }
  assert.equal(p.ok(['ps', '-aq']), '');
});

test('down --rmi local removes the images the project built under its own name (PROJECT-SERVICE), not those with an image: name', { skip }, () => {
  const p = project(
    'rmilocal',
    `services:
  built:
    build:
      context: .
      dockerfile_inline: |
        FROM ${IMAGE}
        LABEL made.by=rmilocal
    network_mode: none
    command: ["true"]
  named:
    image: ${IMAGE}
    network_mode: none
    command: ["true"]
`,
  );
  p.ok(['up', '-d']);
  assert.equal(brig(['image', 'inspect', 'rmilocal-built']).code, 0, 'up built rmilocal-built');
  p.ok(['down', '--rmi', 'local']);
  assert.notEqual(brig(['image', 'inspect', 'rmilocal-built']).code, 0, '--rmi local removed the built image');
  assert.equal(brig(['image', 'inspect', IMAGE]).code, 0, 'an image: name is not local');
  assert.equal(p.ok(['ps', '-aq']), '');
});

test('ipc and pid service:NAME: the joiner starts after its owner and shares its /dev/shm and processes; a private owner is refused', { skip }, () => {
  const p = project(
    'shareipc',
    `services:
  joiner:
    image: ${IMAGE}
    network_mode: none
    ipc: "service:owner"
    pid: "service:owner"
    command: ["sleep", "300"]
  owner:
    image: ${IMAGE}
    network_mode: none
    ipc: shareable
    command: ["sleep", "300"]
`,
  );
  p.ok(['up', '-d']);
  ok(['exec', 'shareipc-owner-1', 'sh', '-c', 'echo from-owner > /dev/shm/seg']);
  assert.equal(ok(['exec', 'shareipc-joiner-1', 'cat', '/dev/shm/seg']), 'from-owner\n');
  assert.match(ok(['exec', 'shareipc-joiner-1', 'busybox', 'ps', '-o', 'args']), /sleep 300[\s\S]*sleep 300/, 'one pid namespace');
  p.ok(['down']);
  const q = project('privipc', `services:\n  joiner:\n    image: ${IMAGE}\n    network_mode: none\n    ipc: "service:owner"\n    command: ["sleep", "300"]\n  owner:\n    image: ${IMAGE}\n    network_mode: none\n    command: ["sleep", "300"]\n`);
  const r = q.compose(['up', '-d']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /non-shareable IPC/);
  q.ok(['down']);
  assert.equal(q.ok(['ps', '-aq']), '');
});
