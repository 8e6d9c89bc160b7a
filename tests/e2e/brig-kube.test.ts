/**
 * brig kube end to end on the real kernel: the seeds' Deployment (3 replicas, requests and
 * limits) as three running containers whose cgroup limits are read on the host (v1:
 * memory/brig/<id>, cpu/brig/<id>); a two-container pod whose members share the infra's
 * net, ipc and uts namespaces (compared by /proc/PID/ns from the host) and reach each other
 * on localhost, with ConfigMap and Secret env and files and a hostPort on 127.0.0.1; play
 * twice (a conflict, or --replace); kube generate; kube down leaving no container, cgroup,
 * mount, netns, veth or volume; bad manifests named by file, document, line and path,
 * exiting non-zero and leaving nothing. Images are made here from the host's busybox.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { brigCli } from '../support/brig-cli.js';
import { fetchText } from '../support/http-text.js';
import { busyboxTar } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip = requires('root', 'helper', 'busybox', 'cgroup-v1') || (netavark ? false : 'netavark is not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-kube-'));
const data = path.join(root, 'data');
const { brig, ok } = brigCli(data);
const IMAGE = 'localhost/kube-box:1';

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['httpd', 'wget', 'sleep', 'hostname', 'nc', 'test', 'ps']), IMAGE]);
});

after(() => {
  if (!skip) {
    const ids = brig(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) brig(['rm', '-f', ...ids]);
    for (const v of brig(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['volume', 'rm', '-f', v]);
  }
  rmSync(root, { recursive: true, force: true });
});

function manifest(name: string, yaml: string): string {
  const file = path.join(root, name);
  writeFileSync(file, yaml);
  return file;
}

const inspect = (ref: string) => JSON.parse(ok(['inspect', ref]))[0] as { Id: string; State: { Pid: number; Running: boolean; Health?: { Status: string } } };

/** The host's index of a container's eth0 peer: the veth that must go with its pod (names are reused, indexes not soon). */
function hostVeth(ref: string): string {
  const index = ok(['exec', ref, 'cat', '/sys/class/net/eth0/iflink']).trim();
  assert.ok(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').some((l) => l.startsWith(`${index}: `)), `no host link of index ${index}`);
  return index;
}

/** What a play could leave on the host, for containers `ids` and veths `veths`. */
function leftovers(prefix: string, ids: string[], veths: string[]): string[] {
  const found: string[] = [];
  for (const c of ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith(prefix))) found.push(`container ${c}`);
  for (const v of ok(['volume', 'ls', '--format', '{{.Name}}']).split('\n').filter((n) => n.startsWith(prefix))) found.push(`volume ${v}`);
  for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (ids.some((id) => l.includes(id))) found.push(`mount ${l.split(' ')[4]}`);
  for (const id of ids) for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) found.push(`cgroup ${h}/${id}`);
  const netns = path.join(data, 'run-net', 'netns');
  for (const n of existsSync(netns) ? readdirSync(netns) : []) if (ids.includes(n)) found.push(`netns ${n}`);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  for (const v of veths) if (new RegExp(`^${v}: `, 'm').test(links)) found.push(`veth ${v}`);
  return found;
}

/**
 * A GET of the published port, again for up to 3 s while it is refused: once (of many runs)
 * the port answered ECONNREFUSED right after the in-pod check had reached the server, with
 * other worktrees' tests changing the host's iptables at the same time.
 */
async function fetchRetried(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await fetchText(port);
    } catch (e) {
      if (i >= 10 || (e as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

const SEEDS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: seeds
  labels: {app: seeds}
spec:
  replicas: 3
  selector:
    matchLabels: {app: seeds}
  template:
    metadata:
      labels: {app: seeds}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: ${IMAGE}
        command: ["sleep", "600"]
        resources:
          requests: {cpu: 250m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
`;

test("the seeds' Deployment: three running pods with the limits in their cgroups (read on the host); play twice conflicts, --replace recreates; down leaves nothing", { skip }, () => {
  const file = manifest('seeds.yaml', SEEDS);
  assert.equal(ok(['kube', 'play', file]), 'seeds-pod-0\nseeds-pod-1\nseeds-pod-2\n');
  const names = ok(['ps', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('seeds-')).sort();
  assert.deepEqual(names, ['seeds-pod-0-app', 'seeds-pod-0-infra', 'seeds-pod-1-app', 'seeds-pod-1-infra', 'seeds-pod-2-app', 'seeds-pod-2-infra']);
  const cg = (controller: string, id: string, f: string) => readTextSync(`/sys/fs/cgroup/${controller}/brig/${id}/${f}`).trim();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = inspect(`seeds-pod-${i}-app`);
    assert.equal(c.State.Running, true);
    ids.push(c.Id, inspect(`seeds-pod-${i}-infra`).Id);
    assert.equal(cg('memory', c.Id, 'memory.limit_in_bytes'), String(128 * 2 ** 20), 'limits.memory 128Mi');
    assert.equal(cg('memory', c.Id, 'memory.soft_limit_in_bytes'), String(64 * 2 ** 20), 'requests.memory 64Mi');
    assert.equal(cg('cpu', c.Id, 'cpu.cfs_period_us'), '100000');
    assert.equal(cg('cpu', c.Id, 'cpu.cfs_quota_us'), '50000', 'limits.cpu 500m: half of each period');
    assert.equal(cg('cpu', c.Id, 'cpu.shares'), '256', 'requests.cpu 250m: a quarter of 1024 shares');
  }
  const veths = [0, 1, 2].map((i) => hostVeth(`seeds-pod-${i}-infra`));
  // The same manifest again: podman's conflict, unless --replace.
  const again = brig(['kube', 'play', file]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /pod seeds-pod-0 already exists \(kube play of .*seeds\.yaml\)\nhint: brig kube down .*seeds\.yaml, or brig kube play --replace/);
  ok(['kube', 'play', '--replace', file]);
  const replaced = inspect('seeds-pod-0-app');
  assert.notEqual(replaced.Id, ids[0]);
  ids.push(...[0, 1, 2].flatMap((i) => [inspect(`seeds-pod-${i}-app`).Id, inspect(`seeds-pod-${i}-infra`).Id]));
  veths.push(...[0, 1, 2].map((i) => hostVeth(`seeds-pod-${i}-infra`)));
  assert.deepEqual(leftovers('seeds-', ids.slice(0, 6), veths.slice(0, 3)).filter((l) => !l.startsWith('container ')), [], 'the replaced pods left nothing');
  // Scaled to one replica: the Deployment's pods are found by owner, whatever their names.
  const one = manifest('seeds-one.yaml', SEEDS.replace('replicas: 3', 'replicas: 1'));
  assert.match(brig(['kube', 'play', one]).stderr, /pod seeds-pod-0 already exists/);
  ok(['kube', 'play', '--replace', one]);
  assert.deepEqual(ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('seeds-')).sort(), ['seeds-pod-app', 'seeds-pod-infra'], "podman's name for one replica");
  ids.push(inspect('seeds-pod-app').Id, inspect('seeds-pod-infra').Id);
  veths.push(hostVeth('seeds-pod-infra'));
  ok(['kube', 'down', file]);
  assert.deepEqual(leftovers('seeds-', ids, veths), []);
});

const DUO = (port: number) => `apiVersion: v1
kind: ConfigMap
metadata: {name: duo-config}
data:
  GREETING: hello from a configmap
  index.html: |
    served from a configmap volume
---
apiVersion: v1
kind: Secret
metadata: {name: duo-secret}
type: Opaque
data:
  password: czNjcjN0
stringData:
  token: plain-token
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: duo-keep}
spec:
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
  labels: {tier: front}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: ${IMAGE}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports:
    - {containerPort: 8080, hostPort: ${port}, hostIP: 127.0.0.1, name: http}
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: duo-config, key: GREETING}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: duo-secret, key: password}}
    envFrom:
    - {secretRef: {name: duo-secret}, prefix: S_}
    volumeMounts:
    - {name: site, mountPath: /www}
    - {name: creds, mountPath: /etc/creds}
    - {name: keep, mountPath: /keep}
    - {name: scratch, mountPath: /scratch}
    livenessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
  - name: client
    image: ${IMAGE}
    command: ["sleep", "600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
  volumes:
  - name: site
    configMap: {name: duo-config, items: [{key: index.html, path: index.html}]}
  - name: creds
    secret: {secretName: duo-secret, defaultMode: 0400}
  - name: keep
    persistentVolumeClaim: {claimName: duo-keep}
  - name: scratch
    emptyDir: {}
`;

test('a pod from stdin: its containers share net/ipc/uts (seen from the host), talk on localhost; ConfigMap/Secret env and files; the hostPort answers on 127.0.0.1; generate; down (and --force for the claim)', { skip }, async () => {
  const port = 20000 + Math.floor(Math.random() * 12000); // below the ephemeral range
  const yaml = DUO(port);
  const file = manifest('duo.yaml', yaml);
  try {
    // Played from stdin, taken down from the file: down finds pods by their names and owners.
    assert.equal(ok(['kube', 'play', '-'], yaml), 'duo\n');
    const [infra, server, client] = ['duo-infra', 'duo-server', 'duo-client'].map(inspect);
    const ns = (pid: number, t: string) => readlinkSync(`/proc/${pid}/ns/${t}`);
    for (const t of ['net', 'ipc', 'uts']) {
      assert.equal(ns(server!.State.Pid, t), ns(infra!.State.Pid, t), `server's ${t} is the infra's`);
      assert.equal(ns(client!.State.Pid, t), ns(infra!.State.Pid, t), `client's ${t} is the infra's`);
      assert.notEqual(ns(server!.State.Pid, t), ns(process.pid, t), `${t} is not the host's`);
    }
    assert.notEqual(ns(server!.State.Pid, 'pid'), ns(client!.State.Pid, 'pid'), 'no shareProcessNamespace: pid namespaces apart');
    assert.equal(ok(['exec', 'duo-client', 'hostname']), 'duo\n');
    assert.equal(ok(['exec', 'duo-client', 'wget', '-qO-', 'http://localhost:8080/index.html']), 'served from a configmap volume\n', 'the client reaches the server on localhost');
    assert.equal(await fetchRetried(port), 'served from a configmap volume\n', 'the hostPort on 127.0.0.1');
    assert.equal(ok(['port', 'duo-infra']), `8080/tcp -> 127.0.0.1:${port}\n`, 'published on loopback only');
    assert.equal(ok(['exec', 'duo-server', 'sh', '-c', 'echo "$GREETING|$PASSWORD|$S_token|$S_password"']), 'hello from a configmap|s3cr3t|plain-token|s3cr3t\n');
    assert.equal(ok(['exec', 'duo-server', 'cat', '/etc/creds/token', '/etc/creds/password']), 'plain-tokens3cr3t');
    assert.match(ok(['exec', 'duo-server', 'ls', '-l', '/etc/creds/token']), /^-r-------- /, 'defaultMode 0400');
    assert.notEqual(brig(['exec', 'duo-server', 'sh', '-c', 'echo x > /www/index.html']).code, 0, 'a configMap volume is read-only');
    ok(['exec', 'duo-server', 'sh', '-c', 'echo shared > /scratch/f; echo kept > /keep/f']);
    assert.equal(ok(['exec', 'duo-client', 'cat', '/scratch/f']), 'shared\n', 'an emptyDir is the pod\'s');
    ok(['exec', 'duo-server', 'sh', '-c', 'echo posix-shm > /dev/shm/seg']);
    assert.equal(ok(['exec', 'duo-client', 'cat', '/dev/shm/seg']), 'posix-shm\n', "the pod's /dev/shm is one, with its IPC namespace");
    // The liveness probe is the container's health check.
    for (let i = 0; i < 50 && inspect('duo-server').State.Health?.Status !== 'healthy'; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(inspect('duo-server').State.Health?.Status, 'healthy');
    // generate: a Pod manifest of the running pod that kube play reads back.
    const gen = parse(ok(['kube', 'generate', 'duo'])) as { kind: string; metadata: { name: string; labels: Record<string, string> }; spec: { containers: { name: string; image: string; ports?: unknown[] }[] } };
    assert.equal(gen.kind, 'Pod');
    assert.deepEqual(gen.metadata, { name: 'duo', labels: { app: 'duo', tier: 'front' } });
    assert.deepEqual(gen.spec.containers.map((c) => [c.name, c.image]), [['client', IMAGE], ['server', IMAGE]]);
    assert.deepEqual(gen.spec.containers[0]!.ports, [{ containerPort: 8080, hostPort: port, hostIP: '127.0.0.1' }]);
    const ids = [infra!.Id, server!.Id, client!.Id];
    const veths = [hostVeth('duo-infra')];
    ok(['kube', 'down', file]);
    assert.deepEqual(leftovers('duo-', ids, veths), ['volume duo-keep'], "the claim's data stays (podman's kube down)");
    ok(['kube', 'down', '--force', file]);
    assert.deepEqual(leftovers('duo-', ids, veths), []);
  } finally {
    // A failure above must not leave the pod to the next test.
    brig(['kube', 'down', '--force', file]);
  }
});

test('bad manifests: file, document, line and path; exit non-zero; nothing made', { skip }, () => {
  const before = ok(['ps', '-aq']);
  const volumes = ok(['volume', 'ls', '-q']);
  const cases: [string, RegExp][] = [
    [SEEDS.replace('        command:', '        lifecycle: {}\n        command:'), /bad\.yaml: document 1, line 18: spec\.template\.spec\.containers\[0\]\.lifecycle: not supported by brig kube play/],
    [SEEDS.replace('memory: 128Mi', 'memory: 128MB'), /bad\.yaml: document 1, line 21: spec\.template\.spec\.containers\[0\]\.resources\.limits\.memory: invalid quantity "128MB"/],
    [`${DUO(1)}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: ${IMAGE}\n    env:\n    - name: X\n      valueFrom: {configMapKeyRef: {name: nope, key: k}}\n`, /bad\.yaml: document 5, line \d+: spec\.containers\[0\]\.env\[0\]\.valueFrom\.configMapKeyRef\.name: ConfigMap "nope" is not in the manifest/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}\n', /bad\.yaml: document 1, line \d+: /],
  ];
  for (const [yaml, pattern] of cases) {
    const r = brig(['kube', 'play', manifest('bad.yaml', yaml)]);
    assert.notEqual(r.code, 0, yaml);
    assert.match(r.stderr, pattern);
  }
  const piped = brig(['kube', 'play', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x, stdin: maybe}\n');
  assert.match(piped.stderr, /^brig: stdin: document 1, line 6: spec\.containers\[0\]\.stdin: must be true or false, not "maybe"$/m);
  // A play that fails part-way (the second pod's hostPort is the first's) undoes what it made.
  const port = 20000 + Math.floor(Math.random() * 12000);
  const late = manifest('late.yaml', `${DUO(port)}---\napiVersion: v1\nkind: Pod\nmetadata: {name: late}\nspec:\n  containers:\n  - name: a\n    image: ${IMAGE}\n    ports: [{containerPort: 80, hostPort: ${port}, hostIP: 127.0.0.1}]\n`);
  const r = brig(['kube', 'play', late]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Container duo-server {2}Started[\s\S]*late-infra/, r.stderr);
  const never = brig(['kube', 'play', manifest('never.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: never}\nspec:\n  containers:\n  - {name: a, image: localhost/absent:1, imagePullPolicy: Never}\n')]);
  assert.match(never.stderr, /image localhost\/absent:1 is not here and its imagePullPolicy is Never/);
  assert.equal(ok(['ps', '-aq']), before);
  assert.equal(ok(['volume', 'ls', '-q']), volumes);
});
