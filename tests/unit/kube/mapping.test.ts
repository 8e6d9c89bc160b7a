/**
 * kube play's pure half without root: manifests parsed (YAML 1.1, as Kubernetes reads
 * them), Kubernetes quantities, the mapping of Pods and Deployments onto Engine requests
 * (infra + members, resources, env, volumes, probes, security), errors that name the file,
 * the document, the line and the path, and kube generate's Pod of inspect data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerJSON } from '../../../src/engine/engine.js';
import { podManifest } from '../../../src/compose/kube/generate.js';
import { parseManifests } from '../../../src/compose/kube/manifest.js';
import { planPlay } from '../../../src/compose/kube/play.js';
import { INFRA_IMAGE, KUBE_LABEL } from '../../../src/compose/kube/pod.js';
import { bytes, cpus } from '../../../src/compose/kube/quantity.js';
import type { BrigError } from '../../../src/errors/index.js';

const FILE = '/m/app.yaml';

function plan(yaml: string) {
  const warnings: string[] = [];
  const p = planPlay(parseManifests(yaml, FILE), (m) => warnings.push(m));
  return { ...p, warnings };
}

function fails(yaml: string, pattern: RegExp, field?: string) {
  assert.throws(
    () => plan(yaml),
    (e: BrigError) => {
      assert.match(e.message, pattern);
      if (field !== undefined) assert.equal(e.field, field);
      return true;
    },
  );
}

const SEEDS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: localhost/app:1
        resources:
          requests: {cpu: 250m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
`;

test('quantities: 250m of a CPU is 0.25, 256Mi is 256 MiB, decimal and exponent forms; junk is undefined', () => {
  assert.equal(cpus('250m'), 0.25);
  assert.equal(cpus('2'), 2);
  assert.equal(cpus(0.5), 0.5);
  assert.equal(bytes('256Mi'), 256 * 2 ** 20);
  assert.equal(bytes('1G'), 1e9);
  assert.equal(bytes('128974848'), 128974848);
  assert.equal(bytes('129e6'), 129e6);
  assert.equal(bytes('1.5Gi'), 1.5 * 2 ** 30);
  for (const bad of ['', '12MB', '-1', 'abc', '1.2.3']) assert.equal(bytes(bad), undefined, bad);
});

test("the seeds' Deployment: 3 pods <name>-pod-N, each an infra (host image, hostPorts) and members joined to its namespaces, limits and requests as podman maps them", () => {
  const p = plan(SEEDS);
  assert.deepEqual(p.pods.map((x) => x.pod), ['web-pod-0', 'web-pod-1', 'web-pod-2']);
  const pod = p.pods[1]!;
  assert.equal(pod.infra.name, 'web-pod-1-infra');
  assert.equal(pod.infra.request.Image, INFRA_IMAGE);
  assert.deepEqual(pod.infra.request.Cmd, ['sleep', 'infinity']);
  assert.equal(pod.infra.request.HostConfig!.IpcMode, 'shareable');
  const app = pod.containers[0]!;
  assert.equal(app.name, 'web-pod-1-app');
  const h = app.request.HostConfig!;
  assert.deepEqual([h.NetworkMode, h.IpcMode, h.UTSMode, h.PidMode], ['container:web-pod-1-infra', 'container:web-pod-1-infra', 'container:web-pod-1-infra', undefined]);
  assert.equal(h.NanoCpus, 5e8, 'limits.cpu 500m → 0.5 CPU');
  assert.equal(h.Memory, 128 * 2 ** 20);
  assert.equal(h.MemoryReservation, 64 * 2 ** 20, 'requests.memory → the soft limit');
  assert.equal(h.CpuShares, 256, 'requests.cpu 250m → 1024 × 0.25 shares');
  assert.deepEqual(h.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.equal(app.request.Hostname, 'web-pod-1');
  assert.equal(app.pullPolicy, 'IfNotPresent');
  const l = app.request.Labels!;
  assert.deepEqual([l[KUBE_LABEL.pod], l[KUBE_LABEL.file], l[KUBE_LABEL.kind], l[KUBE_LABEL.owner], l[KUBE_LABEL.container], l.app], ['web-pod-1', FILE, 'Deployment', 'web', 'app', 'web']);
  // One replica: podman's own name.
  assert.deepEqual(plan(SEEDS.replace('replicas: 3', 'replicas: 1')).pods.map((x) => x.pod), ['web-pod']);
  assert.deepEqual(plan(SEEDS.replace('replicas: 3', 'replicas: 0')).pods, []);
});

const POD = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  GREETING: hello
  index.html: "<p>hi</p>"
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data:
  password: czNjcjN0
stringData:
  token: tok
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
  labels: {tier: front}
spec:
  restartPolicy: OnFailure
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 3
  securityContext: {runAsUser: 1000, supplementalGroups: [10]}
  containers:
  - name: server
    image: localhost/app:latest
    command: [httpd, -f]
    args: [-p, "8080"]
    workingDir: /www
    ports:
    - {containerPort: 8080, hostPort: 18080, hostIP: 127.0.0.1, name: http}
    - {containerPort: 53, protocol: UDP}
    env:
    - {name: PLAIN, value: v}
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: sec, key: password}}
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    envFrom:
    - {configMapRef: {name: cfg}, prefix: CFG_}
    volumeMounts:
    - {name: site, mountPath: /www}
    - {name: creds, mountPath: /creds}
    - {name: data, mountPath: /data, subPath: sub}
    - {name: scratch, mountPath: /scratch}
    - {name: host, mountPath: /host, readOnly: true}
    - {name: mem, mountPath: /mem}
    livenessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 5
      failureThreshold: 2
    securityContext:
      runAsGroup: 1000
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
  - name: client
    image: localhost/app:1
    args: [sleep, "100"]
    readinessProbe:
      tcpSocket: {port: 8080}
    securityContext: {privileged: true}
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
  - name: checker
    image: localhost/app:1
    imagePullPolicy: Never
    livenessProbe:
      exec: {command: [cat, /tmp/ok]}
  volumes:
  - name: site
    configMap: {name: cfg, items: [{key: index.html, path: html/index.html}]}
  - name: creds
    secret: {secretName: sec, defaultMode: 0400}
  - name: data
    persistentVolumeClaim: {claimName: keep}
  - name: scratch
    emptyDir: {}
  - name: host
    hostPath: {path: /srv/x, type: DirectoryOrCreate}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 16Mi}
`;

test('a Pod: command is the entrypoint and args the cmd, env from values, ConfigMaps, Secrets and fields, ports on the infra, volumes, probes, security', () => {
  const p = plan(POD);
  assert.equal(p.pods.length, 1);
  const pod = p.pods[0]!;
  const [server, client, checker] = pod.containers.map((c) => c.request);
  assert.deepEqual(server!.Entrypoint, ['httpd', '-f']);
  assert.deepEqual(server!.Cmd, ['-p', '8080']);
  assert.equal(client!.Entrypoint, undefined, "args alone keep the image's entrypoint");
  assert.deepEqual(client!.Cmd, ['sleep', '100']);
  assert.equal(server!.WorkingDir, '/www');
  assert.deepEqual(server!.Env, ['CFG_GREETING=hello', 'CFG_index.html=<p>hi</p>', 'PLAIN=v', 'GREETING=hello', 'PASSWORD=s3cr3t', 'POD=duo']);
  // The pod's network is the infra's: ports published there, loopback as asked.
  assert.deepEqual(pod.infra.request.HostConfig!.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
  assert.deepEqual(Object.keys(pod.infra.request.ExposedPorts!).sort(), ['53/udp', '8080/tcp']);
  assert.deepEqual(pod.infra.request.HostConfig!.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  const h = server!.HostConfig!;
  assert.equal(h.PidMode, 'container:duo-infra', 'shareProcessNamespace');
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.equal(server!.StopTimeout, 3);
  assert.equal(server!.User, '1000:1000', "the pod's runAsUser, the container's runAsGroup");
  assert.deepEqual(h.GroupAdd, ['10']);
  assert.deepEqual([h.CapAdd, h.CapDrop, h.ReadonlyRootfs, h.SecurityOpt], [['NET_ADMIN'], ['ALL'], true, ['no-new-privileges']]);
  assert.equal(client!.HostConfig!.Privileged, true);
  assert.deepEqual(h.Mounts, [
    { Type: 'volume', Source: 'duo-site', Target: '/www', ReadOnly: true, VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: 'duo-creds', Target: '/creds', ReadOnly: true, VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: 'keep', Target: '/data', VolumeOptions: { Subpath: 'sub' } },
    { Type: 'volume', Source: 'duo-scratch', Target: '/scratch' },
    { Type: 'bind', Source: '/srv/x', Target: '/host', ReadOnly: true, BindOptions: { CreateMountpoint: true } },
    { Type: 'tmpfs', Target: '/mem', TmpfsOptions: { SizeBytes: 16 * 2 ** 20 } },
  ]);
  const files = (n: string) => pod.volumes.find((v) => v.name === n)!.files!.map((f) => [f.path, f.content.toString(), f.mode.toString(8)]);
  assert.deepEqual(files('duo-site'), [['html/index.html', '<p>hi</p>', '644']]);
  assert.deepEqual(files('duo-creds'), [['password', 's3cr3t', '400'], ['token', 'tok', '400']], 'YAML 1.1: 0400 is octal, as Kubernetes reads it');
  assert.deepEqual(pod.volumes.map((v) => [v.name, v.kind]), [['duo-site', 'configmap'], ['duo-creds', 'secret'], ['keep', 'pvc'], ['duo-scratch', 'emptydir']]);
  // Probes: a named port resolved; Kubernetes' defaults for what is left out.
  const url = "'http://localhost:8080/index.html'";
  assert.deepEqual(server!.Healthcheck, { Test: ['CMD-SHELL', `curl -fsS -o /dev/null ${url} || wget -q -O /dev/null ${url}`], Interval: 5e9, Timeout: 1e9, StartPeriod: 0, Retries: 2 });
  assert.deepEqual(client!.Healthcheck!.Test, ['CMD-SHELL', "nc -z 'localhost' 8080"]);
  assert.deepEqual(checker!.Healthcheck!.Test, ['CMD', 'cat', '/tmp/ok']);
  assert.deepEqual(pod.containers.map((c) => c.pullPolicy), ['Always', 'IfNotPresent', 'Never'], ':latest pulls always, as Kubernetes defaults it');
  assert.equal(server!.Labels!.tier, 'front');
});

test('bad manifests: the file, the document, the line and the path; unknown fields refused, server-side ones warned', () => {
  fails(SEEDS.replace('        image: localhost/app:1\n', '        image: localhost/app:1\n        lifecycle: {}\n'), /^\/m\/app\.yaml: document 1, line 16: spec\.template\.spec\.containers\[0\]\.lifecycle: not supported by brig kube play$/, 'spec.template.spec.containers[0].lifecycle');
  fails(SEEDS.replace('cpu: 500m', 'cpu: lots'), /document 1, line 18: spec\.template\.spec\.containers\[0\]\.resources\.limits\.cpu: invalid quantity "lots"/);
  fails(SEEDS.replace('matchLabels: {app: web}', 'matchLabels: {app: api}'), /line 8: spec\.selector\.matchLabels\.app: selector does not match/);
  // Lines count in the whole file, as an editor shows them.
  fails(`${POD}---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n`, new RegExp(`document 4, line ${POD.split('\n').length + 2}: kind: kind Service is not supported`));
  fails(POD.replace('key: GREETING}', 'key: NOPE}'), /document 3, line \d+: spec\.containers\[0\]\.env\[1\]\.valueFrom\.configMapKeyRef\.key: ConfigMap "cfg" has no key "NOPE"/);
  fails(POD.replace('secretName: sec,', 'secretName: other,'), /spec\.volumes\[1\]\.secret\.secretName: Secret "other" is not in the manifest/);
  fails(POD.replace('{name: scratch, mountPath: /scratch}\n  - name: checker', '{name: nope, mountPath: /scratch}\n  - name: checker'), /spec\.containers\[1\]\.volumeMounts\[0\]\.name: no volume "nope"/);
  fails('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  name: y\n', /^\/m\/app\.yaml: document 1, line 5: Map keys must be unique/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: a, image: i}]}\n', /metadata\.name: invalid name "Bad_Name"/);
  fails('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Sometimes, containers: [{name: a, image: i}]}\n', /spec\.restartPolicy: invalid restartPolicy "Sometimes"/);
  fails(SEEDS.replace('spec:\n      containers', 'spec:\n      restartPolicy: Never\n      containers'), /a Deployment's pods restart Always/);
  fails(`${SEEDS}---\n${SEEDS}`, new RegExp(`document 2, line ${SEEDS.split('\n').length + 4}: metadata\\.name: Deployment "web" is also document 1`));
  const w = plan(SEEDS.replace('metadata:\n  name: web', 'metadata:\n  name: web\n  uid: abc\n  namespace: prod')).warnings;
  assert.ok(w.some((m) => /document 1, line 5: metadata\.uid: ignored/.test(m)), w.join('\n'));
  assert.ok(w.some((m) => /metadata\.namespace: brig has no namespaces; "prod" is ignored/.test(m)));
});

test('kube generate: a Pod of inspect data, only what differs from the image; ports from the infra; limits back as quantities', () => {
  const inspect = {
    Id: 'f'.repeat(64),
    Name: '/duo-server',
    Image: 'sha256:x',
    Mounts: [{ Type: 'volume', Name: 'keep', Source: '/v', Destination: '/data', RW: true }, { Type: 'bind', Source: '/srv', Destination: '/srv', RW: false }],
    Config: { Image: 'localhost/app:1', Hostname: 'duo', Env: ['PATH=/bin', 'A=1'], Entrypoint: ['httpd'], Cmd: ['-f'], WorkingDir: '', User: '1000', Labels: { [KUBE_LABEL.container]: 'server', [KUBE_LABEL.pod]: 'duo', tier: 'front' }, Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 } },
    HostConfig: { NanoCpus: 5e8, Memory: 128 * 2 ** 20, MemoryReservation: 64 * 2 ** 20, CpuShares: 256, CapDrop: ['NET_RAW'], RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } },
  } as unknown as ContainerJSON;
  const infra = { HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] } } } as unknown as ContainerJSON;
  const m = podManifest('duo', [{ inspect, image: { Env: ['PATH=/bin'], Cmd: ['sh'] } }], infra) as { metadata: unknown; spec: { containers: unknown[]; volumes: unknown[]; restartPolicy: string; hostname: string } };
  assert.deepEqual(m.metadata, { name: 'duo', labels: { app: 'duo', tier: 'front' } });
  assert.equal(m.spec.restartPolicy, 'Always');
  assert.equal(m.spec.hostname, 'duo');
  assert.deepEqual(m.spec.containers[0], {
    name: 'server',
    image: 'localhost/app:1',
    command: ['httpd'],
    args: ['-f'],
    env: [{ name: 'A', value: '1' }],
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
    volumeMounts: [{ name: 'keep', mountPath: '/data' }, { name: 'srv', mountPath: '/srv', readOnly: true }],
    securityContext: { runAsUser: 1000, capabilities: { drop: ['NET_RAW'] } },
    livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5, failureThreshold: 2 },
    ports: [{ containerPort: 8080, hostPort: 18080, hostIP: '127.0.0.1' }],
  });
  assert.deepEqual(m.spec.volumes, [{ name: 'keep', persistentVolumeClaim: { claimName: 'keep' } }, { name: 'srv', hostPath: { path: '/srv' } }]);
});
