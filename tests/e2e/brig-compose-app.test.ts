/**
 * The seeds' application on real images (issue 16's first Must-show): a Python web service
 * (Flask, psycopg2) built from a Dockerfile by `brig compose up`, and PostgreSQL built the
 * same way, both FROM Debian userland images this test makes from the host's installed
 * packages (tests/support/image-debian.ts; nothing is downloaded). The compose file: web
 * publishes 5000 on 127.0.0.1, has an environment variable, a bind-mounted data directory,
 * and depends_on db being healthy (pg_isready); db keeps its cluster in a named volume, its
 * entrypoint (in the build context) runs initdb on first start and the server as the
 * postgres user.
 *
 * Checked from the host: the port answers, a request writes a row through the service name
 * `db` and reads it back, the bind mount gets the web's writes, postgres runs under the
 * postgres uid, the row survives down and up (no rebuild the second time), and down -v
 * leaves no container, volume, network, mount, cgroup or link.
 *
 * Then the same files through Debian's docker-compose 1.29.2 on `brig serve` (it builds
 * through POST /build): the same containers, compose labels, networks and volumes as brig
 * compose made, the differences being the two composes' own (1.29's underscored names,
 * relative config_files and short-id alias; v2's depends_on and image labels and
 * container-name alias), each asserted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli, serveFor } from '../support/brig-cli.js';
import { composeLeftovers, firewallRules, networkBridge } from '../support/compose-host.js';
import { debianArchive, debianSkip } from '../support/image-debian.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const WEB_PACKAGES = ['python3', 'python3-flask', 'python3-psycopg2'];
const DB_PACKAGES = ['postgresql', 'util-linux'];
const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip = requires('root', 'helper') || debianSkip([...WEB_PACKAGES, ...DB_PACKAGES]) || (netavark ? false : 'netavark and aardvark-dns are not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-compose-app-'));
const data = path.join(root, 'data');
const dir = path.join(root, 'seeds');
const { env, ok } = brigCli(data);
// Not `seeds`: netavark names a network's firewall chains after the network's name, so two
// data roots on this machine with a `seeds_default` at once (brig-compose.test.ts has one)
// would share a chain.
const NAME = 'seedsapp';

/** brig compose on the project, with the time a build takes. */
function compose(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BRIG, ['compose', '-p', NAME, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function composeOk(args: string[]): { stdout: string; stderr: string } {
  const r = compose(args);
  assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** 5000 as the seeds ask, unless something on this machine holds it. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function http(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: urlPath, headers: body ? { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The web's answer once its server listens (Flask takes a moment after the container starts). */
async function until(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; text: string }> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await http(port, method, urlPath, body);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}

const APP = `import os
import psycopg2
from flask import Flask, request

app = Flask(__name__)


def db():
    # The database by its service name on the project network.
    return psycopg2.connect(host="db", user="postgres", dbname="postgres", connect_timeout=5)


def rows(cur):
    cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)")
    cur.execute("SELECT body FROM notes ORDER BY id")
    return "".join(r[0] + "\\n" for r in cur.fetchall())


@app.route("/")
def index():
    with open("/srv/data/message.txt") as f:
        message = f.read().strip()
    with open("/srv/data/visits.log", "a") as f:
        f.write("visit\\n")
    return f"{os.environ['GREETING']}; {message}\\n"


@app.route("/notes", methods=["GET", "POST"])
def notes():
    conn = db()
    try:
        with conn, conn.cursor() as cur:
            if request.method == "POST":
                rows(cur)
                cur.execute("INSERT INTO notes (body) VALUES (%s)", (request.get_data(as_text=True),))
            return rows(cur)
    finally:
        conn.close()


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
`;

/** First start: the cluster made by initdb as postgres; every start: the server as postgres. */
const ENTRYPOINT = `#!/bin/sh
set -e
PGDATA=/var/lib/postgresql/data
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres initdb -D "$PGDATA" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 trust" >> "$PGDATA/pg_hba.conf"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA"
`;

let port = 5000;
let pgBin = '';

before(async () => {
  if (skip) return;
  // The base images from the host's packages; the project's Dockerfiles build on them.
  pgBin = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort().at(-1)!}/bin`;
  const python = debianArchive('localhost/seeds-python:host', { packages: WEB_PACKAGES });
  // postgres without its JIT (libLLVM is most of the size), and without the wrappers
  // (pg_ctlcluster, in Perl) that the entrypoint does not use.
  const postgres = debianArchive('localhost/seeds-postgres:host', {
    packages: DB_PACKAGES,
    omit: ['libllvm14', 'postgresql-common', 'postgresql-client-common', 'perl', 'ssl-cert', 'debconf', 'locales', 'locales-all', 'sensible-utils', 'ucf', 'lsb-base', 'adduser', 'libjson-perl'],
    exclude: /^\/usr\/lib\/postgresql\/[^/]+\/lib\/(llvmjit|bitcode)/,
  });
  ok(['load', '-q', '-i', python]);
  ok(['load', '-q', '-i', postgres]);
  if (!(await portFree(port))) port = 20000 + Math.floor(Math.random() * 20000);
  mkdirSync(path.join(dir, 'web'), { recursive: true });
  mkdirSync(path.join(dir, 'db'));
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'data', 'message.txt'), 'from the bind mount\n');
  writeFileSync(path.join(dir, 'web', 'app.py'), APP);
  writeFileSync(path.join(dir, 'web', 'Dockerfile'), 'FROM localhost/seeds-python:host\nCOPY app.py /app/app.py\nWORKDIR /app\nENV PYTHONUNBUFFERED=1\nCMD ["python3", "app.py"]\n');
  writeFileSync(path.join(dir, 'db', 'entrypoint.sh'), ENTRYPOINT);
  writeFileSync(
    path.join(dir, 'db', 'Dockerfile'),
    `FROM localhost/seeds-postgres:host
RUN groupadd -r postgres && useradd -r -g postgres -d /var/lib/postgresql -s /bin/sh postgres
ENV PATH=${pgBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --chmod=755 entrypoint.sh /usr/local/bin/entrypoint.sh
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
`,
  );
  writeFileSync(
    path.join(dir, 'compose.yaml'),
    `services:
  web:
    build: ./web
    ports: ["127.0.0.1:${port}:5000"]
    environment:
      GREETING: hello from the seeds
    volumes: ["./data:/srv/data"]
    depends_on:
      db:
        condition: service_healthy
  db:
    build:
      context: ./db
    stop_signal: SIGINT
    volumes: ["dbdata:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres", "-h", "127.0.0.1"]
      interval: 1s
      timeout: 5s
      retries: 60
volumes:
  dbdata:
`,
  );
});

after(() => {
  if (!skip) {
    compose(['down', '-v', '-t', '2']);
    const ids = ok(['ps', '-aq']).split('\n').filter(Boolean);
    if (ids.length) ok(['rm', '-f', ...ids]);
  }
  rmSync(root, { recursive: true, force: true });
});

test('the seeds app on Debian images: up -d builds web and db, web answers on 127.0.0.1 and keeps rows in postgres by service name; the volume survives down; down -v leaves nothing', { skip }, async () => {
  const rulesBefore = firewallRules();
  // up builds both images (neither is here), through brig build's renderer, then starts db,
  // waits for pg_isready, then web.
  const up = composeOk(['up', '-d']);
  assert.match(up.stderr, /Service db {2}Building/);
  assert.match(up.stderr, /Service web {2}Built/);
  assert.match(up.stderr, /^#\d+ .*COPY app\.py \/app\/app\.py$/m);
  const webImage = JSON.parse(ok(['image', 'inspect', `${NAME}-web`]))[0] as { Config: { Labels: Record<string, string> } };
  assert.equal(webImage.Config.Labels['com.docker.compose.project'], NAME);
  assert.equal(webImage.Config.Labels['com.docker.compose.service'], 'web');
  const db = JSON.parse(ok(['inspect', `${NAME}-db-1`]))[0] as { Id: string; State: { Pid: number; Health: { Status: string } } };
  assert.equal(db.State.Health.Status, 'healthy');

  // The published port, the environment and the bind mount, from the host.
  const index = await until(port, 'GET', '/');
  assert.deepEqual(index, { status: 200, text: 'hello from the seeds; from the bind mount\n' });
  assert.equal(readTextSync(path.join(dir, 'data', 'visits.log')), 'visit\n');
  // A row written and read back through the database, reached by its service name.
  assert.deepEqual(await http(port, 'POST', '/notes', 'first note'), { status: 200, text: 'first note\n' });
  assert.deepEqual(await http(port, 'GET', '/notes'), { status: 200, text: 'first note\n' });

  // postgres runs as the postgres user (its uid in the image, seen on the host), initdb'd once.
  const uid = composeOk(['exec', '-T', 'db', 'id', '-u', 'postgres']).stdout.trim();
  assert.match(uid, /^\d+$/);
  assert.notEqual(uid, '0');
  const status = readTextSync(`/proc/${db.State.Pid}/status`);
  assert.equal(/^Uid:\s+(\d+)/m.exec(status)![1], uid, 'the server process runs as postgres');
  assert.match(readTextSync(`/proc/${db.State.Pid}/cmdline`).replaceAll('\0', ' '), /^postgres -D \/var\/lib\/postgresql\/data/);
  assert.match(composeOk(['exec', '-T', 'db', 'cat', '/var/lib/postgresql/data/PG_VERSION']).stdout, /^\d+\n$/);

  // down keeps the named volume; up again builds nothing and finds the row.
  const ids = [db.Id, (JSON.parse(ok(['inspect', `${NAME}-web-1`]))[0] as { Id: string }).Id];
  const bridges = [networkBridge(data, ok(['network', 'inspect', '-f', '{{.Id}}', `${NAME}_default`]).trim())];
  composeOk(['down']);
  assert.deepEqual(composeLeftovers(ok, NAME, ids, bridges, rulesBefore), [`volume ${NAME}_dbdata`]);
  const again = composeOk(['up', '-d']);
  assert.doesNotMatch(again.stderr, /Building/);
  assert.deepEqual(await until(port, 'GET', '/notes'), { status: 200, text: 'first note\n' });
  assert.deepEqual(await http(port, 'POST', '/notes', 'second note'), { status: 200, text: 'first note\nsecond note\n' });
  ids.push(...[`${NAME}-db-1`, `${NAME}-web-1`].map((n) => (JSON.parse(ok(['inspect', n]))[0] as { Id: string }).Id));

  // down -v: nothing of the project on the host.
  composeOk(['down', '-v']);
  assert.deepEqual(composeLeftovers(ok, NAME, ids, bridges, rulesBefore), []);
  assert.equal(await http(port, 'GET', '/').then(() => 'open', () => 'closed'), 'closed', 'the port is freed');
});

/** A project as the engine holds it: containers by service and number, with compose's labels and their networks' aliases; networks and volumes with their labels. */
interface Shape {
  containers: Record<string, { name: string; image: string; labels: Record<string, string>; networks: Record<string, string[]> }>;
  networks: Record<string, Record<string, string>>;
  volumes: Record<string, Record<string, string>>;
}

const composeLabels = (l: Record<string, string> | null | undefined) => Object.fromEntries(Object.entries(l ?? {}).filter(([k]) => k.startsWith('com.docker.compose.')).sort());

function shape(): Shape {
  const out: Shape = { containers: {}, networks: {}, volumes: {} };
  const filter = ['--filter', `label=com.docker.compose.project=${NAME}`];
  for (const id of ok(['ps', '-aq', '--no-trunc', ...filter]).split('\n').filter(Boolean)) {
    const c = JSON.parse(ok(['inspect', id]))[0] as { Name: string; Config: { Image: string; Labels: Record<string, string> }; NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> } };
    const labels = composeLabels(c.Config.Labels);
    out.containers[`${labels['com.docker.compose.service']}/${labels['com.docker.compose.container-number']}`] = {
      name: c.Name.replace(/^\//, ''),
      image: c.Config.Image,
      labels,
      networks: Object.fromEntries(Object.entries(c.NetworkSettings.Networks).map(([n, e]) => [n, [...(e.Aliases ?? [])].sort()])),
    };
  }
  for (const n of ok(['network', 'ls', '-q', ...filter]).split('\n').filter(Boolean)) {
    const net = JSON.parse(ok(['network', 'inspect', n]))[0] as { Name: string; Labels: Record<string, string> };
    out.networks[net.Name] = composeLabels(net.Labels);
  }
  for (const v of ok(['volume', 'ls', '-q', ...filter]).split('\n').filter(Boolean)) {
    out.volumes[v] = composeLabels((JSON.parse(ok(['volume', 'inspect', v]))[0] as { Labels: Record<string, string> }).Labels);
  }
  return out;
}

const COMPOSE_V1 = '/usr/bin/docker-compose';

test('the same compose file through docker-compose 1.29.2 and brig serve: the same containers, labels, networks and volumes as brig compose up, the differences being each compose version\'s own', { skip: skip || (existsSync(COMPOSE_V1) ? false : 'docker-compose not installed (apt-get install docker-compose)') }, async () => {
  composeOk(['up', '-d']);
  await until(port, 'GET', '/');
  const brig = shape();
  composeOk(['down', '-v']);
  const host = serveFor(data);
  const v1 = (args: string[]) => {
    const r = spawnSync(COMPOSE_V1, ['-p', NAME, ...args], { cwd: dir, env: { ...process.env, DOCKER_HOST: host, COMPOSE_INTERACTIVE_NO_CLI: '1' }, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  try {
    v1(['up', '-d']);
    assert.deepEqual(await until(port, 'POST', '/notes', 'through docker-compose'), { status: 200, text: 'through docker-compose\n' });
    const compose1 = shape();
    // Where the two composes differ, each does as its version does; brig follows compose v2
    // (the Compose Specification's reference implementation), checked here item by item.
    const brigOnly = ['com.docker.compose.depends_on', 'com.docker.compose.image'];
    for (const key of ['db/1', 'web/1']) {
      const [service] = key.split('/') as [string];
      const b = brig.containers[key]!;
      const c = compose1.containers[key]!;
      // Names: compose v2's PROJECT-SERVICE-N and image PROJECT-SERVICE; 1.29's underscores.
      assert.equal(b.name, `${NAME}-${service}-1`);
      assert.equal(c.name, `${NAME}_${service}_1`);
      assert.equal(b.image, `${NAME}-${service}`);
      assert.equal(c.image, `${NAME}_${service}`);
      // Each its own version and config hash; config_files absolute (v2) or as 1.29 found them.
      assert.equal(b.labels['com.docker.compose.version'], '2.24.0');
      assert.equal(c.labels['com.docker.compose.version'], '1.29.2');
      for (const x of [b, c]) assert.match(x.labels['com.docker.compose.config-hash']!, /^[0-9a-f]{64}$/);
      assert.equal(b.labels['com.docker.compose.project.config_files'], path.join(dir, 'compose.yaml'));
      assert.equal(c.labels['com.docker.compose.project.config_files'], 'compose.yaml');
      // v2's labels 1.29 does not have: the dependencies with their conditions, the image id.
      assert.equal(b.labels['com.docker.compose.depends_on'], service === 'web' ? 'db:service_healthy:false' : '');
      assert.match(b.labels['com.docker.compose.image']!, /^sha256:[0-9a-f]{64}$/);
      for (const k of brigOnly) assert.equal(c.labels[k], undefined);
      // Aliases: the service's name on both; v2 adds the container's name, 1.29 its short id.
      assert.deepEqual(b.networks, { [`${NAME}_default`]: [b.name, service].sort() });
      assert.deepEqual(Object.keys(c.networks), [`${NAME}_default`]);
      assert.equal(c.networks[`${NAME}_default`]!.includes(service), true);
      assert.ok(c.networks[`${NAME}_default`]!.some((a) => /^[0-9a-f]{12}$/.test(a)), 'docker-compose 1.29 aliases the short id');
    }
    // The rest is the same: every other compose label, and the networks and volumes by name.
    const rest = (x: Shape) => ({
      containers: Object.fromEntries(Object.entries(x.containers).map(([k, c]) => [k, Object.fromEntries(Object.entries(c.labels).filter(([l]) => ![...brigOnly, 'com.docker.compose.version', 'com.docker.compose.config-hash', 'com.docker.compose.project.config_files'].includes(l)))])),
      networks: Object.fromEntries(Object.entries(x.networks).map(([k, l]) => [k, { ...l, 'com.docker.compose.version': '' }])),
      volumes: Object.fromEntries(Object.entries(x.volumes).map(([k, l]) => [k, { ...l, 'com.docker.compose.version': '' }])),
    });
    assert.deepEqual(rest(compose1), rest(brig));
    assert.deepEqual(Object.keys(brig.networks), [`${NAME}_default`]);
    assert.deepEqual(Object.keys(brig.volumes), [`${NAME}_dbdata`]);
  } finally {
    v1(['down', '-v', '-t', '2']);
  }
  assert.deepEqual(shape(), { containers: {}, networks: {}, volumes: {} }, 'docker-compose down -v through brig serve removed the project');
});
