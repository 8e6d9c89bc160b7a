/**
 * Compose files to a project without root or an engine: interpolation and .env, the schema
 * check's messages (file, line, path), normalization, the merge of several files (with
 * !reset and !override), extends, profiles, project names, and the references checked.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseDotenv } from '../../../src/compose/dotenv.js';
import { interpolate } from '../../../src/compose/interpolate.js';
import { parsePort, parseVolume, shellSplit } from '../../../src/compose/normalize.js';
import { loadProject, type ProjectOptions } from '../../../src/compose/project.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-compose-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function dir(name: string, files: Record<string, string>): string {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    writeFileSync(path.join(d, f), text);
  }
  return d;
}

function load(cwd: string, o: Partial<ProjectOptions> = {}) {
  const warnings: string[] = [];
  const p = loadProject({ env: {}, cwd, home: '/home/u', warn: (m) => warnings.push(m), ...o });
  return { p, warnings };
}

test("interpolate: compose's forms, nesting, $$ and the errors", () => {
  const env: Record<string, string> = { A: 'a', E: '' };
  const i = (s: string) => interpolate(s, { lookup: (n) => env[n], path: 'x' });
  assert.equal(i('$A ${A} ${A:-d} ${E:-d} ${E-d} ${U-d} ${U:-${A}x} ${A:+alt} ${E:+alt} ${E+set}'), 'a a a d  d ax alt  set');
  assert.equal(i('$$A costs $5 and ${A}$'), '$A costs $5 and a$');
  assert.throws(() => i('${U:?needs U}'), /required variable U is missing a value: needs U/);
  assert.throws(() => i('${E:?}'), /required variable E is missing a value/);
  assert.equal(i('${E?}'), '');
  assert.throws(() => i('${A'), /is not closed/);
  assert.throws(() => i('${A/x/y}'), /invalid interpolation format for x/);
});

test('parseDotenv: export, comments, quotes, escapes, interpolation of what came before', () => {
  const m = parseDotenv('# c\nexport A=1\nB = two words # note\nC="x\\ny $A"\nD=\'$A lit\'\nE=${A}${B}\nF\nG="multi\nline"\n', '.env', (n) => (n === 'F' ? 'from-env' : undefined));
  assert.deepEqual(Object.fromEntries(m), { A: '1', B: 'two words', C: 'x\ny 1', D: '$A lit', E: '1two words', F: 'from-env', G: 'multi\nline' });
  assert.throws(() => parseDotenv('1BAD=x\n', '/p/.env'), /\/p\/\.env:1: unexpected character in variable name "1BAD"/);
});

test('ports, volumes and commands in their long forms', () => {
  assert.deepEqual(parsePort('127.0.0.1:8080-8081:80-81/udp', 'p'), [
    { target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' },
    { target: 81, published: '8081', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' },
  ]);
  assert.deepEqual(parsePort(5000, 'p'), [{ target: 5000, protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(parsePort('[::1]:53:53/udp', 'p')[0], { target: 53, published: '53', host_ip: '::1', protocol: 'udp', mode: 'ingress' });
  assert.throws(() => parsePort('80:x', 'services.web.ports[0]'), /services\.web\.ports\[0\]: invalid port "x"/);
  assert.deepEqual(parseVolume('./data:/data:ro', 'v', '/proj', '/home/u'), { type: 'bind', source: '/proj/data', target: '/data', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseVolume('db:/var/lib/pg', 'v', '/proj', '/home/u'), { type: 'volume', source: 'db', target: '/var/lib/pg' });
  assert.deepEqual(parseVolume('~/x:/x', 'v', '/proj', '/home/u').source, '/home/u/x');
  assert.deepEqual(parseVolume('/anon', 'v', '/proj', '/home/u'), { type: 'volume', target: '/anon' });
  assert.throws(() => parseVolume('a:/b:bogus', 'services.s.volumes[0]', '/', '/'), /invalid mode "bogus"/);
  assert.deepEqual(shellSplit(`sh -c 'echo "hi there"' "a\\"b" c\\ d`, 'c'), ['sh', '-c', 'echo "hi there"', 'a"b', 'c d']);
});

test("the seeds' project: build, ports, environment, a bind and a named volume; .env; the obsolete version warned about", () => {
  const d = dir('seed', {
    'docker-compose.yml': `version: "3.9"
services:
  web:
    build: .
    ports: ["\${WEB_PORT:-5000}:5000"]
    environment:
      - FLASK_ENV=\${FLASK_ENV}
      - DEBUG
    volumes: ["./data:/app/data"]
    depends_on: [db]
  db:
    image: postgres:15
    environment: { POSTGRES_PASSWORD: secret }
    volumes: ["pgdata:/var/lib/postgresql/data"]
volumes:
  pgdata:
`,
    '.env': 'FLASK_ENV=development\n',
  });
  const { p, warnings } = load(d, { env: { WEB_PORT: '8000' } });
  assert.equal(p.name, 'seed');
  assert.match(warnings[0]!, /the attribute `version` is obsolete/);
  const web = p.services.web!;
  assert.deepEqual(web.build, { context: d });
  assert.deepEqual(web.ports, [{ target: 5000, published: '8000', protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(web.environment, { FLASK_ENV: 'development', DEBUG: null });
  assert.deepEqual(web.volumes, [{ type: 'bind', source: path.join(d, 'data'), target: '/app/data', bind: { create_host_path: true } }]);
  assert.deepEqual(web.depends_on, { db: { condition: 'service_started', required: true } });
  assert.deepEqual(Object.keys(p.networks), ['default']);
  assert.deepEqual(Object.keys(p.volumes), ['pgdata']);
});

test('several files merge as compose merges them; !reset and !override', () => {
  const d = dir('merge', {
    'compose.yaml': `services:
  app:
    image: app:1
    command: ["run", "a"]
    ports: ["8080:80", "9090:90"]
    volumes: ["a:/data", "./x:/x"]
    environment: { A: "1", B: "2" }
    cap_add: [NET_ADMIN]
    labels: [x=1]
volumes: { a: {}, b: {} }
`,
    'compose.override.yaml': `services:
  app:
    command: run b
    ports: ["127.0.0.1:8080:80", "9090:90"]
    volumes: ["b:/data"]
    environment: { B: "3", C: "4" }
    cap_add: [NET_ADMIN, SYS_TIME]
    labels: { y: "2" }
`,
    'reset.yaml': `services:
  app:
    ports: !reset []
    labels: !override { z: "3" }
    environment:
      A: !reset null
`,
  });
  const { p } = load(d);
  const app = p.services.app!;
  assert.deepEqual(app.command, ['run', 'b'], 'command is replaced');
  assert.deepEqual((app.ports as { published: string; host_ip?: string }[]).map((x) => `${x.host_ip ?? ''}:${x.published}`), [':8080', ':9090', '127.0.0.1:8080']);
  assert.deepEqual((app.volumes as { source: string; target: string }[]).map((v) => `${path.basename(v.source)}:${v.target}`), ['b:/data', 'x:/x'], 'volumes by target');
  assert.deepEqual(app.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual(app.cap_add, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(app.labels, { x: '1', y: '2' });
  const r = load(d, { files: ['compose.yaml', 'compose.override.yaml', 'reset.yaml'] }).p.services.app!;
  assert.equal(r.ports, undefined);
  assert.deepEqual(r.labels, { z: '3' });
  assert.deepEqual(r.environment, { B: '3', C: '4' });
});

test('extends (same file and another), profiles, project names', () => {
  const d = dir('ext', {
    'base.yaml': 'services:\n  common:\n    image: base:1\n    environment: [LEVEL=base]\n    volumes: ["./conf:/conf"]\n',
    'sub/compose.yaml': `name: MyApp_Name
services:
  a:
    extends: { file: ../base.yaml, service: common }
    environment: [EXTRA=1]
  b:
    extends: a
    profiles: [debug]
`,
  });
  const cwd = path.join(d, 'sub');
  const { p } = load(cwd, { projectName: 'ext', profiles: [] });
  assert.deepEqual(Object.keys(p.services), ['a']);
  assert.deepEqual(Object.keys(p.disabled), ['b']);
  assert.equal(p.services.a!.image, 'base:1');
  assert.deepEqual(p.services.a!.environment, { LEVEL: 'base', EXTRA: '1' });
  assert.equal((p.services.a!.volumes as { source: string }[])[0]!.source, path.join(d, 'conf'), "a base's relative path is its file's");
  assert.throws(() => load(cwd), /invalid project name "MyApp_Name"/, 'an invalid name: / compose refuses it');
  assert.equal(load(cwd, { projectName: 'other' }).p.name, 'other');
  assert.deepEqual(Object.keys(load(cwd, { projectName: 'x', env: { COMPOSE_PROFILES: 'debug' } }).p.services), ['a', 'b']);
});

test('errors name the file, the line and the path', () => {
  const d = dir('bad', {
    'compose.yaml': 'services:\n  web:\n    image: x\n    ports:\n      - target: 80\n        published: [1]\n',
    'target.yaml': 'services:\n  web:\n    image: x\n    ports:\n      - target: eighty\n',
    'unknown.yaml': 'services:\n  web:\n    image: x\n    colour: blue\n',
    'dep.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n',
    'net.yaml': 'services:\n  web:\n    image: x\n    networks: [back]\n',
    'dup.yaml': 'services:\n  web:\n    image: x\n    image: y\n',
    'req.yaml': 'services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n',
  });
  const f = (name: string) => path.join(d, name);
  assert.throws(() => load(d), (e: Error & { field?: string }) => e.message === `${f('compose.yaml')}:6: services.web.ports[0].published must be a string or integer` && e.field === 'services.web.ports[0].published');
  assert.throws(() => load(d, { files: ['target.yaml'] }), /services\.web\.ports\[0\]\.target: invalid port "eighty"/);
  assert.throws(() => load(d, { files: ['unknown.yaml'] }), new RegExp(`${f('unknown.yaml')}:4: services.web.colour additional property colour is not allowed`));
  assert.throws(() => load(d, { files: ['dep.yaml'] }), /service "web" depends on undefined service "db"/);
  assert.throws(() => load(d, { files: ['net.yaml'] }), /service "web" refers to undefined network back/);
  assert.throws(() => load(d, { files: ['dup.yaml'] }), new RegExp(`${f('dup.yaml')}:4: Map keys must be unique`));
  assert.throws(() => load(d, { files: ['req.yaml'] }), /required variable IMAGE is missing a value: set IMAGE/);
  assert.throws(() => load(path.join(tmp)), /no configuration file provided/);
});
