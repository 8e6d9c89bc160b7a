/**
 * A compose service as the Engine's ContainerCreateRequest, without root or an engine: each
 * field where docker compose puts it, compose's names and labels, the config-hash (what
 * changes it and what does not), dependency order, and every field brig does not carry out
 * refused by its path.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { configHash, containerRequest, durationNs, networkName, volumeName } from '../../../src/compose/container-config.js';
import { dependencyLevels, dependencyOrder, down, ensureNetworks, ensureVolumes, preflight, pushImages } from '../../../src/compose/orchestrate.js';
import type { Engine } from '../../../src/engine/engine.js';
import { loadProject, locateField } from '../../../src/compose/project.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-compose-cc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function project(name: string, yaml: string, env: Record<string, string> = {}, extra: Record<string, string> = {}) {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'compose.yaml'), yaml);
  for (const [f, t] of Object.entries(extra)) writeFileSync(path.join(d, f), t);
  return { dir: d, p: loadProject({ env, cwd: d, home: '/home/u', warn: () => undefined }) };
}

test('a service with every mapped field, as docker compose makes the request', () => {
  const { dir, p } = project(
    'full',
    `services:
  web:
    image: img:1
    command: httpd -f
    entrypoint: ["/init"]
    environment: { A: "1", FROM_ENV: null, UNSET: null }
    env_file: [web.env]
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    expose: ["7000"]
    volumes: ["./data:/data:ro", "db:/var/lib/db", "/anon"]
    tmpfs: ["/run:size=1m"]
    networks:
      front: { aliases: [www] }
    healthcheck: { test: "wget -q localhost", interval: 1m30s, timeout: 500ms, retries: 4 }
    restart: on-failure:3
    deploy:
      resources:
        limits: { cpus: "1.5", memory: 256M, pids: 100 }
        reservations: { cpus: "0.25", memory: 128M }
    logging: { driver: json-file, options: { max-size: 1m, max-file: 3 } }
    user: "1000:1000"
    working_dir: /srv
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    read_only: true
    ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 64 }
    extra_hosts: ["gw=10.0.0.1"]
    labels: { tier: web }
    stop_signal: SIGQUIT
    stop_grace_period: 1m
    init: true
    shm_size: 64m
    sysctls: { net.core.somaxconn: 1024 }
    hostname: h
    dns: 10.0.0.53
    privileged: false
networks:
  front:
volumes:
  db:
`,
    { FROM_ENV: 'e' },
    { 'web.env': 'A=from-file\nB=2\n' },
  );
  const { name, request: r } = containerRequest(p, 'web', 2, { warn: () => undefined, imageId: 'sha256:abc' });
  assert.equal(name, 'full-web-2');
  assert.equal(r.Image, 'img:1');
  assert.deepEqual(r.Cmd, ['httpd', '-f']);
  assert.deepEqual(r.Entrypoint, ['/init']);
  assert.deepEqual(r.Env, ['A=1', 'B=2', 'FROM_ENV=e']);
  assert.deepEqual(r.ExposedPorts, { '7000/tcp': {}, '80/tcp': {}, '9000/udp': {}, '9001/udp': {} });
  const h = r.HostConfig!;
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '9000/udp': [{ HostIp: '', HostPort: '9000' }], '9001/udp': [{ HostIp: '', HostPort: '9001' }] });
  assert.deepEqual(h.Mounts, [
    { Type: 'bind', Source: path.join(dir, 'data'), Target: '/data', ReadOnly: true, BindOptions: { CreateMountpoint: true } },
    { Type: 'volume', Source: 'full_db', Target: '/var/lib/db' },
    { Type: 'volume', Target: '/anon' },
  ]);
  assert.deepEqual(h.Tmpfs, { '/run': 'size=1m' });
  assert.equal(h.NetworkMode, 'full_front');
  assert.deepEqual(r.NetworkingConfig, { EndpointsConfig: { full_front: { Aliases: ['full-web-2', 'web', 'www'] } } });
  assert.deepEqual(r.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, Timeout: 5e8, Retries: 4 });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(h.NanoCpus, 1.5e9);
  assert.equal(h.Memory, 256 * 1024 ** 2);
  assert.equal(h.PidsLimit, 100);
  assert.equal(h.MemoryReservation, 128 * 1024 ** 2);
  assert.equal(h.CpuShares, 256);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3' } });
  assert.equal(r.User, '1000:1000');
  assert.equal(r.WorkingDir, '/srv');
  assert.deepEqual([h.CapAdd, h.CapDrop, h.ReadonlyRootfs], [['NET_ADMIN'], ['ALL'], true]);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 64, Hard: 64 }]);
  assert.deepEqual(h.ExtraHosts, ['gw:10.0.0.1']);
  assert.deepEqual([r.StopSignal, r.StopTimeout, h.Init, h.ShmSize], ['SIGQUIT', 60, true, 64 * 1024 ** 2]);
  assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual([r.Hostname, h.Dns], ['h', ['10.0.0.53']]);
  const l = r.Labels!;
  assert.equal(l.tier, 'web');
  assert.deepEqual(
    [l['com.docker.compose.project'], l['com.docker.compose.service'], l['com.docker.compose.container-number'], l['com.docker.compose.oneoff'], l['com.docker.compose.image']],
    ['full', 'web', '2', 'False', 'sha256:abc'],
  );
  assert.equal(l['com.docker.compose.project.working_dir'], dir);
  assert.equal(l['com.docker.compose.project.config_files'], path.join(dir, 'compose.yaml'));
  assert.match(l['com.docker.compose.config-hash']!, /^[0-9a-f]{64}$/);
});

test('config-hash: what makes a different container changes it (a resolved variable, an env_file), the count and the build do not', () => {
  const yaml = (extra: string) => `name: same\nservices:\n  a:\n    image: i\n    environment: [FROM_SHELL]\n    env_file: [a.env]\n${extra}`;
  const hash = (name: string, y: string, env: Record<string, string>, file: string) =>
    containerRequest(project(name, y, env, { 'a.env': file }).p, 'a', 1, { warn: () => undefined }).request.Labels!['com.docker.compose.config-hash'];
  const base = hash('h1', yaml(''), { FROM_SHELL: '1' }, 'X=1\n');
  assert.equal(hash('h2', yaml('    deploy: { replicas: 3 }\n    build: .\n'), { FROM_SHELL: '1' }, 'X=1\n'), base);
  assert.notEqual(hash('h3', yaml(''), { FROM_SHELL: '2' }, 'X=1\n'), base);
  assert.notEqual(hash('h4', yaml(''), { FROM_SHELL: '1' }, 'X=2\n'), base);
  assert.notEqual(hash('h5', yaml('    labels: { k: v }\n'), { FROM_SHELL: '1' }, 'X=1\n'), base);
  assert.equal(configHash({ Image: 'a', Env: ['A=1'] }), configHash({ Env: ['A=1'], Image: 'a' }));
});

test('durations and container names', () => {
  assert.equal(durationNs('1m30s', 'x'), 90e9);
  assert.equal(durationNs(2, 'x'), 2e9);
  assert.throws(() => durationNs('soon', 'services.a.healthcheck.interval'), /services\.a\.healthcheck\.interval: invalid duration "soon"/);
  const { p } = project('named', 'services:\n  a:\n    image: i\n    container_name: fixed\n');
  assert.equal(containerRequest(p, 'a', 1, { warn: () => undefined }).name, 'fixed');
  assert.match(containerRequest(p, 'a', 1, { warn: () => undefined, oneoff: true }).name, /^named-a-run-[0-9a-f]+$/);
});

test('fields brig does not carry out are refused by path (with file:line); swarm-only deploy keys are warnings', () => {
  for (const [yaml, field] of [
    ['gpus: all', 'services.a.gpus'],
    ['devices: ["/dev/fuse"]', 'services.a.devices'],
    ['cgroup: host', 'services.a.cgroup'],
    ['deploy: { resources: { reservations: { devices: [{ capabilities: [gpu] }] } } }', 'services.a.deploy.resources.reservations.devices'],
    ['cgroup_parent: custom', 'services.a.cgroup_parent'],
  ] as const) {
    const { p } = project(`bad-${field.replace(/\W/g, '')}`, `services:\n  a:\n    image: i\n    ${yaml}\n`);
    assert.throws(
      () => containerRequest(p, 'a', 1, { warn: () => undefined }),
      (e: Error & { field?: string }) => e.field === field && e.message.includes(`${field}: not supported`),
    );
    assert.match(locateField(p, field)!, /compose\.yaml:4$/);
  }
  const { p: mixed } = project('mixed', 'services:\n  a:\n    image: i\n    volumes: [{ type: volume, source: v, target: /x, bind: { propagation: shared } }, { type: volume, source: v, target: /y, volume: { subpath: sub } }]\nvolumes:\n  v:\n');
  assert.throws(() => containerRequest(mixed, 'a', 1, { warn: () => undefined }), /services\.a\.volumes\[0\]\.bind: options for a bind mount on a volume mount/);
  mixed.services.a!.volumes = (mixed.services.a!.volumes as unknown[]).slice(1);
  assert.deepEqual(containerRequest(mixed, 'a', 1, { warn: () => undefined }).request.HostConfig!.Mounts, [{ Type: 'volume', Source: 'mixed_v', Target: '/y', VolumeOptions: { Subpath: 'sub' } }]);
  const { p } = project('swarm', 'services:\n  a:\n    image: i\n    deploy: { placement: { constraints: [] } }\nnetworks:\n  n: { driver: overlay }\n');
  const warnings: string[] = [];
  containerRequest(p, 'a', 1, { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, ['services.a.deploy.placement: swarm mode only, ignored on one host (as docker compose does)']);
  assert.throws(() => preflight(p, ['a'], () => undefined), /networks\.n\.driver: "overlay" is not supported \(bridge\)/);
});

test('ipc and pid: the engine\'s modes, container:NAME, service:NAME as its first container and an implicit dependency', () => {
  const { p } = project(
    'share',
    'services:\n  owner: { image: i, ipc: shareable }\n  joiner: { image: i, ipc: "service:owner", pid: "service:owner", network_mode: "service:net" }\n  net: { image: i }\n  hosty: { image: i, ipc: host, pid: host }\n  other: { image: i, ipc: "container:elsewhere" }\n',
  );
  const h = (svc: string) => containerRequest(p, svc, 1, { warn: () => undefined }).request.HostConfig!;
  assert.equal(h('owner').IpcMode, 'shareable');
  assert.deepEqual([h('joiner').IpcMode, h('joiner').PidMode, h('joiner').NetworkMode], ['container:share-owner-1', 'container:share-owner-1', 'container:share-net-1']);
  assert.deepEqual([h('hosty').IpcMode, h('hosty').PidMode], ['host', 'host']);
  assert.equal(h('other').IpcMode, 'container:elsewhere');
  assert.deepEqual(dependencyOrder(p, ['joiner']), ['net', 'owner', 'joiner'], 'the services it shares namespaces with start first');
  assert.deepEqual(p.services.joiner!.depends_on, { owner: { condition: 'service_started', required: true }, net: { condition: 'service_started', required: true } });
  // As compose-go: the implicit dependency on a service that is not there fails the load.
  assert.throws(() => project('badshare-nope', 'services:\n  a:\n    image: i\n    ipc: "service:nope"\n'), /compose\.yaml:3: service "a" depends on undefined service "nope"/);
  for (const [yaml, field, why] of [
    ['pid: private', 'services.a.pid', '"private" is not one of host, service:NAME, container:NAME'],
    ['ipc: bogus', 'services.a.ipc', '"bogus" is not one of private, shareable, host, none, service:NAME, container:NAME'],
  ] as const) {
    const { p: b } = project(`badshare-${field.replace(/\W/g, '')}-${why.length}`, `services:\n  a:\n    image: i\n    ${yaml}\n`);
    assert.throws(
      () => containerRequest(b, 'a', 1, { warn: () => undefined }),
      (e: Error & { field?: string }) => e.field === field && e.message.includes(why),
    );
  }
});

test('dependency order and levels; a cycle is named', () => {
  const { p } = project('deps', 'services:\n  web: { image: i, depends_on: [api] }\n  api: { image: i, depends_on: { db: { condition: service_healthy } } }\n  db: { image: i }\n  solo: { image: i }\n');
  assert.deepEqual(dependencyOrder(p, ['web']), ['db', 'api', 'web']);
  assert.deepEqual(Object.fromEntries(dependencyLevels(p)), { db: 0, api: 1, web: 2, solo: 0 });
  const { p: c } = project('cycle', 'services:\n  a: { image: i, depends_on: [b] }\n  b: { image: i, depends_on: [a] }\n');
  assert.throws(() => dependencyOrder(c, ['a']), /dependency cycle detected: a -> b -> a/);
});

test('external networks and volumes keep their own names (the key, name:, or the deprecated external.name); up makes none and a missing one is named', async () => {
  const yaml = `services:
  a:
    image: i
    networks: [shared, legacy, own]
    volumes: ["data:/data", "old:/old", "mine:/mine"]
networks:
  shared: { external: true }
  legacy: { external: { name: corp-net } }
  own: {}
volumes:
  data: { external: true, name: real-data }
  old: { external: { name: corp-vol } }
  mine: {}
`;
  const d = path.join(tmp, 'ext');
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'compose.yaml'), yaml);
  const warnings: string[] = [];
  const p = loadProject({ env: {}, cwd: d, home: '/home/u', projectName: 'proj', warn: (m) => warnings.push(m) });
  assert.deepEqual(p.networks.shared, { external: true, name: 'shared' });
  assert.deepEqual(p.networks.legacy, { external: true, name: 'corp-net' }, 'compose config prints the legacy form as name: + external: true');
  assert.deepEqual(p.volumes.data, { external: true, name: 'real-data' });
  assert.deepEqual(warnings, ['network legacy: network.external.name is deprecated. Please set network.name with external: true', 'volume old: volume.external.name is deprecated in favor of volume.name']);
  assert.deepEqual(['shared', 'legacy', 'own'].map((k) => networkName(p, k)), ['shared', 'corp-net', 'proj_own']);
  assert.deepEqual(['data', 'old', 'mine'].map((k) => volumeName(p, k)), ['real-data', 'corp-vol', 'proj_mine']);
  const r = containerRequest(p, 'a', 1, { warn: () => undefined }).request;
  assert.deepEqual(Object.keys(r.NetworkingConfig?.EndpointsConfig ?? {}).sort(), ['corp-net', 'proj_own', 'shared']);
  assert.deepEqual((r.HostConfig?.Mounts ?? []).map((m) => m.Source), ['real-data', 'corp-vol', 'proj_mine']);

  // A Project made without loadProject (no name: resolved) is named the same way.
  const bare = { ...p, networks: { n: { external: true } }, volumes: { v: { external: { name: 'x' } } } };
  assert.equal(networkName(bare, 'n'), 'n');
  assert.equal(volumeName(bare, 'v'), 'x');

  // up: what is external is looked up, never made; what is missing is an error naming it.
  const made: string[] = [];
  const nets = new Set(['shared', 'corp-net']);
  const vols = new Set(['real-data', 'corp-vol']);
  const engine = {
    inspectNetwork: async (n: string) => (nets.has(n) ? { Name: n, Labels: {} } : Promise.reject(new Error(`network ${n} not found`))),
    createNetwork: async (req: { Name: string }) => void made.push(`network ${req.Name}`),
    inspectVolume: async (n: string) => (vols.has(n) ? { Name: n } : Promise.reject(new Error(`no such volume: ${n}`))),
    createVolume: async (req: { Name: string }) => void made.push(`volume ${req.Name}`),
  } as unknown as Engine;
  const rep = { progress: () => undefined, warn: () => undefined };
  await ensureNetworks(engine, p, ['a'], rep);
  await ensureVolumes(engine, p, ['a'], rep);
  assert.deepEqual(made, ['network proj_own', 'volume proj_mine']);
  nets.delete('shared');
  vols.delete('corp-vol');
  await assert.rejects(ensureNetworks(engine, p, ['a'], rep), /network shared declared as external, but could not be found/);
  await assert.rejects(ensureVolumes(engine, p, ['a'], rep), /external volume "corp-vol" not found/);

  writeFileSync(path.join(d, 'compose.yaml'), 'services:\n  a:\n    image: i\nnetworks:\n  n: { name: x, external: { name: y } }\n');
  assert.throws(() => loadProject({ env: {}, cwd: d, home: '/home/u', warn: () => undefined }), /compose\.yaml:5: network n: network\.external\.name and network\.name conflict; only use network\.name/);
});

test("push: docker compose's rule, each service with a build and an image (and its build.tags); the others skipped; failures stop it unless ignored", async () => {
  const { p } = project(
    'push',
    `services:
  web:
    image: reg.local:5000/web:1
    build: { context: ., tags: ["reg.local:5000/web:latest"] }
  worker:
    build: .
  db:
    image: postgres:16
  api:
    image: reg.local:5000/api:1
    build: .
`,
  );
  const pushed: string[] = [];
  const events: string[] = [];
  const refuse = new Set<string>();
  const engine = {
    pushImage: async (ref: string) => {
      if (refuse.has(ref)) throw new Error(`denied: ${ref}`);
      pushed.push(ref);
      return { reference: ref, digest: 'sha256:0', size: 0 };
    },
  } as unknown as Engine;
  const rep = { progress: (kind: string, name: string, status: string) => void events.push(`${kind} ${name} ${status}`), warn: (m: string) => void events.push(`warn ${m}`) };
  await pushImages(engine, p, Object.keys(p.services), {}, rep);
  assert.deepEqual(pushed.sort(), ['reg.local:5000/api:1', 'reg.local:5000/web:1', 'reg.local:5000/web:latest']);
  assert.ok(events.includes('Service worker Skipped') && events.includes('Service db Skipped'), events.join('\n'));
  pushed.length = 0;
  await pushImages(engine, p, ['api'], {}, rep);
  assert.deepEqual(pushed, ['reg.local:5000/api:1'], 'only the services named');
  refuse.add('reg.local:5000/web:1');
  await assert.rejects(pushImages(engine, p, ['web', 'api'], {}, rep), /denied: reg\.local:5000\/web:1/);
  events.length = 0;
  pushed.length = 0;
  await pushImages(engine, p, ['web', 'api'], { ignoreFailures: true }, rep);
  assert.deepEqual(pushed.sort(), ['reg.local:5000/api:1', 'reg.local:5000/web:latest']);
  assert.ok(events.includes('warn denied: reg.local:5000/web:1'), events.join('\n'));
});

test("down -v keeps what the file declares external, even carrying the project's label (made by an earlier project of that name)", async () => {
  const { p } = project('keep', 'services:\n  a:\n    image: i\n    networks: [net]\n    volumes: ["vol:/v"]\nnetworks:\n  net: { external: true, name: keep_net }\nvolumes:\n  vol: { external: true, name: keep_vol }\n  own: {}\n');
  const removed: string[] = [];
  const labels = { 'com.docker.compose.project': 'keep' };
  const engine = {
    listContainers: async () => [],
    listNetworks: async () => [
      { Id: 'n1', Name: 'keep_net', Labels: labels },
      { Id: 'n2', Name: 'keep_default', Labels: labels },
    ],
    removeNetwork: async (id: string) => void removed.push(`network ${id}`),
    listVolumes: async () => ({ Volumes: [{ Name: 'keep_vol', Labels: labels }, { Name: 'keep_own', Labels: labels }] }),
    removeVolume: async (n: string) => void removed.push(`volume ${n}`),
  } as unknown as Engine;
  await down(engine, p, { volumes: true }, { progress: () => undefined, warn: () => undefined });
  assert.deepEqual(removed, ['network n2', 'volume keep_own']);
});
