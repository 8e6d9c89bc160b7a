/**
 * A Pod (or a Deployment's pod template) as Engine requests, the way `podman kube play`
 * runs one, on containers alone (brig has no pod object):
 *
 *   infra    `<pod>-infra`, the built-in `host` image running `sleep infinity`: it owns the
 *            pod's network (with the hostPorts published), IPC and UTS namespaces and lives
 *            as long as the pod. podman's reason is brig's: a namespace must belong to a
 *            process, and the pod's must outlive any one of its containers (a container
 *            that restarts rejoins them; were they the first container's, its restart would
 *            take the pod's network with it). The host image needs no image on disk.
 *   members  `<pod>-<container>`, joined to the infra's net, ipc and uts namespaces (pid
 *            too with shareProcessNamespace); command is the entrypoint and args the cmd,
 *            as Kubernetes defines them.
 *   volumes  configMap, secret and emptyDir volumes are named volumes `<pod>-<volume>`
 *            (the play writes the configMap's and secret's files into them);
 *            persistentVolumeClaim is the named volume of the claim; hostPath a bind.
 *
 * Every field is carried out or refused by its path (spec.containers[0].lifecycle); a few
 * that change nothing on one host are warnings. The mapping is pure: what it needs of the
 * other documents (ConfigMaps, Secrets, claims) comes in a PlayContext.
 */
import type { ContainerCreateRequest, HealthConfig, HostConfig, RestartPolicy } from '../../engine/containers/config.js';
import type { MountRequest } from '../../engine/volumes/mount-spec.js';
import { expandReferences } from './expansion.js';
import type { Dict, KubeDocument } from './manifest.js';
import { bytes, cpus } from './quantity.js';

/** The labels that tie what a play made to its manifest (`kube down` finds them by these). */
export const KUBE_LABEL = {
  pod: 'io.brig.kube.pod',
  /** The manifest's absolute path. */
  file: 'io.brig.kube.file',
  /** Pod or Deployment, and its name. */
  kind: 'io.brig.kube.kind',
  owner: 'io.brig.kube.owner',
  container: 'io.brig.kube.container',
  infra: 'io.brig.kube.infra',
  /** On volumes: configmap, secret, emptydir or pvc. */
  volume: 'io.brig.kube.volume',
} as const;

/** The infra container's image and program: brig's built-in host image, nothing to pull. */
export const INFRA_IMAGE = 'host';
export const INFRA_COMMAND = ['sleep', 'infinity'];

export interface PlayContext {
  /** The manifest's absolute path (a label on everything made). */
  file: string;
  configMaps: Map<string, Record<string, Buffer>>;
  secrets: Map<string, Record<string, Buffer>>;
  /** Claims declared in the manifest (PersistentVolumeClaim documents). */
  claims: Set<string>;
  warn(message: string): void;
}

export interface VolumePlan {
  name: string;
  kind: 'configmap' | 'secret' | 'emptydir' | 'pvc';
  /** Files to write into it (configMap, secret), by path relative to its root. */
  files?: { path: string; content: Buffer; mode: number }[];
}

export interface ContainerPlan {
  name: string;
  request: ContainerCreateRequest;
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
}

export interface PodPlan {
  pod: string;
  infra: ContainerPlan;
  containers: ContainerPlan[];
  /** Volumes the pod's own (configMap, secret, emptyDir) and the claims it uses. */
  volumes: VolumePlan[];
}

/** The names of the pods a document makes: a Pod its own; a Deployment podman's `<name>-pod`, `-pod-N` past one replica. */
export function podNames(doc: KubeDocument): string[] {
  if (doc.kind === 'Pod') return [doc.name];
  if (doc.kind !== 'Deployment') return [];
  const n = replicas(doc);
  return n === 1 ? [`${doc.name}-pod`] : Array.from({ length: n }, (_, i) => `${doc.name}-pod-${i}`);
}

function replicas(doc: KubeDocument): number {
  const r = ((doc.data.spec ?? {}) as Dict).replicas;
  if (r === undefined) return 1;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) throw doc.error('spec.replicas', `replicas must be a whole number >= 0, not ${JSON.stringify(r)}`);
  return r;
}

/** Helpers bound to one document: typed reads that fail with the field's path. */
class Reader {
  constructor(
    readonly doc: KubeDocument,
    readonly ctx: PlayContext,
  ) {}

  /** Refuses keys outside `known`; `ignored` ones are warned about. */
  keys(v: unknown, at: string, known: string[], ignored: string[] = []): Dict {
    const d = this.dict(v, at);
    for (const k of Object.keys(d)) {
      const f = at ? `${at}.${k}` : k;
      if (known.includes(k)) continue;
      if (ignored.includes(k)) this.ctx.warn(`${this.doc.where(f)}: ignored (it changes nothing on one host)`);
      else throw this.doc.error(f, 'not supported by brig kube play', 'UNSUPPORTED_FIELD', 'remove it, or run this manifest on Kubernetes');
    }
    return d;
  }

  dict(v: unknown, at: string): Dict {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw this.doc.error(at, 'must be a mapping');
    return v as Dict;
  }

  list(v: unknown, at: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.doc.error(at, 'must be a list');
    return v;
  }

  str(v: unknown, at: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) throw this.doc.error(at, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') throw this.doc.error(at, `must be a string, not ${JSON.stringify(v)}`);
    return v;
  }

  strings(v: unknown, at: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    return this.list(v, at).map((x, i) => (typeof x === 'number' ? String(x) : this.str(x, `${at}[${i}]`, true)!));
  }

  int(v: unknown, at: string, min = 0): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw this.doc.error(at, `must be a whole number >= ${min}, not ${JSON.stringify(v)}`);
    return v;
  }

  bool(v: unknown, at: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw this.doc.error(at, `must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  labels(v: unknown, at: string): Record<string, string> {
    return Object.fromEntries(Object.entries(this.dict(v, at)).map(([k, x]) => [k, typeof x === 'string' ? x : String(x)]));
  }
}

const METADATA = ['name', 'namespace', 'labels', 'annotations'];
/** What `kubectl get -o yaml` adds: the server's, meaningless to a play. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'generateName', 'ownerReferences', 'finalizers'];
const POD_SPEC = ['containers', 'restartPolicy', 'volumes', 'hostname', 'hostNetwork', 'hostIPC', 'hostPID', 'shareProcessNamespace', 'securityContext', 'terminationGracePeriodSeconds'];
const POD_SPEC_IGNORED = ['dnsPolicy', 'schedulerName', 'serviceAccount', 'serviceAccountName', 'nodeName', 'nodeSelector', 'tolerations', 'affinity', 'priority', 'priorityClassName', 'enableServiceLinks', 'preemptionPolicy', 'automountServiceAccountToken'];
const CONTAINER = ['name', 'image', 'command', 'args', 'workingDir', 'env', 'envFrom', 'ports', 'resources', 'volumeMounts', 'livenessProbe', 'readinessProbe', 'securityContext', 'imagePullPolicy', 'stdin', 'tty'];
const CONTAINER_IGNORED = ['terminationMessagePath', 'terminationMessagePolicy'];
const PROBE = ['exec', 'httpGet', 'tcpSocket', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold'];
const SECURITY = ['runAsUser', 'runAsGroup', 'capabilities', 'privileged', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'seccompProfile'];
const POD_SECURITY = ['runAsUser', 'runAsGroup', 'supplementalGroups', 'seccompProfile'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function checkMetadata(r: Reader, v: unknown, at: string): Dict {
  const meta = r.keys(v, at, METADATA, SERVER_METADATA);
  if (meta.namespace !== undefined && meta.namespace !== 'default') r.ctx.warn(`${r.doc.where(`${at}.namespace`)}: brig has no namespaces; "${String(meta.namespace)}" is ignored`);
  return meta;
}

/** The pod template of a Deployment, with its checks: a selector that matches the template's labels. */
function podTemplate(r: Reader): { at: string; meta: Dict; spec: Dict } {
  const doc = r.doc;
  if (doc.kind === 'Pod') {
    r.keys(doc.data, '', ['apiVersion', 'kind', 'metadata', 'spec'], ['status']);
    return { at: 'spec', meta: checkMetadata(r, doc.data.metadata, 'metadata'), spec: r.dict(doc.data.spec, 'spec') };
  }
  r.keys(doc.data, '', ['apiVersion', 'kind', 'metadata', 'spec'], ['status']);
  checkMetadata(r, doc.data.metadata, 'metadata');
  const spec = r.keys(doc.data.spec, 'spec', ['replicas', 'selector', 'template'], ['strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused']);
  const template = r.keys(spec.template, 'spec.template', ['metadata', 'spec']);
  const meta = checkMetadata(r, template.metadata, 'spec.template.metadata');
  const selector = r.keys(spec.selector, 'spec.selector', ['matchLabels']);
  const labels = r.labels(meta.labels, 'spec.template.metadata.labels');
  for (const [k, v] of Object.entries(r.labels(selector.matchLabels, 'spec.selector.matchLabels'))) {
    if (labels[k] !== v) throw doc.error(`spec.selector.matchLabels.${k}`, `selector does not match template labels (${k}=${v})`);
  }
  return { at: 'spec.template.spec', meta, spec: r.dict(template.spec, 'spec.template.spec') };
}

function restartPolicy(r: Reader, v: unknown, at: string): RestartPolicy {
  const p = r.str(v, at) ?? 'Always';
  if (r.doc.kind === 'Deployment' && p !== 'Always') throw r.doc.error(at, `a Deployment's pods restart Always, not ${p}`);
  const name = ({ Always: 'always', OnFailure: 'on-failure', Never: 'no' } as const)[p as 'Always'];
  if (!name) throw r.doc.error(at, `invalid restartPolicy "${p}" (Always, OnFailure or Never)`);
  return { Name: name, MaximumRetryCount: 0 };
}

/** resources.limits → limits, resources.requests → reservations, as podman maps them. */
function resources(r: Reader, v: unknown, at: string): Partial<HostConfig> {
  const res = r.keys(v, at, ['limits', 'requests']);
  const out: Partial<HostConfig> = {};
  const amount = (k: string, x: unknown, f: string): number => {
    const n = k === 'cpu' ? cpus(x) : bytes(x);
    if (n === undefined) throw r.doc.error(f, `invalid quantity ${JSON.stringify(x)}`, 'INVALID_CONFIG', k === 'cpu' ? 'CPUs as 0.5 or 500m' : 'bytes as 128Mi, 1Gi or 128974848');
    return n;
  };
  for (const [k, x] of Object.entries(r.dict(res.limits, `${at}.limits`))) {
    const f = `${at}.limits.${k}`;
    // cpu: a CFS quota of that many CPUs (NanoCpus); memory: the hard limit.
    if (k === 'cpu') out.NanoCpus = Math.round(amount(k, x, f) * 1e9);
    else if (k === 'memory') out.Memory = amount(k, x, f);
    else throw r.doc.error(f, `resource ${k} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'cpu and memory');
  }
  for (const [k, x] of Object.entries(r.dict(res.requests, `${at}.requests`))) {
    const f = `${at}.requests.${k}`;
    // cpu: a weight under contention, 1024 shares a CPU (the kubelet's and podman's
    // milliCPUToShares, at least 2); memory: the soft limit the kernel reclaims down to.
    if (k === 'cpu') out.CpuShares = Math.max(2, Math.floor((Math.round(amount(k, x, f) * 1000) * 1024) / 1000));
    else if (k === 'memory') out.MemoryReservation = amount(k, x, f);
    else throw r.doc.error(f, `resource ${k} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'cpu and memory');
  }
  if (out.Memory !== undefined && out.MemoryReservation !== undefined && out.MemoryReservation > out.Memory) throw r.doc.error(`${at}.requests.memory`, 'a memory request above the limit');
  return out;
}

/** A probe's port: a number, or the name of one of the container's ports. */
function probePort(r: Reader, v: unknown, at: string, named: Map<string, number>): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536) return v;
  if (typeof v === 'string' && named.has(v)) return named.get(v)!;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw r.doc.error(at, `invalid port ${JSON.stringify(v)} (a number, or the name of a port of the container)`);
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A probe as the engine's health check; Kubernetes' defaults for what it leaves out. */
function probe(r: Reader, v: unknown, at: string, named: Map<string, number>): HealthConfig {
  const p = r.keys(v, at, PROBE);
  const handlers = ['exec', 'httpGet', 'tcpSocket'].filter((k) => p[k] !== undefined);
  if (handlers.length !== 1) throw r.doc.error(at, 'a probe needs exactly one of exec, httpGet, tcpSocket');
  let test: string[];
  if (p.exec !== undefined) {
    const cmd = r.strings(r.keys(p.exec, `${at}.exec`, ['command']).command, `${at}.exec.command`);
    if (!cmd?.length) throw r.doc.error(`${at}.exec.command`, 'is required');
    test = ['CMD', ...cmd];
  } else if (p.httpGet !== undefined) {
    const h = r.keys(p.httpGet, `${at}.httpGet`, ['path', 'port', 'host', 'scheme']);
    const scheme = (r.str(h.scheme, `${at}.httpGet.scheme`) ?? 'HTTP').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') throw r.doc.error(`${at}.httpGet.scheme`, 'HTTP or HTTPS');
    const url = `${scheme}://${r.str(h.host, `${at}.httpGet.host`) ?? 'localhost'}:${probePort(r, h.port, `${at}.httpGet.port`, named)}${r.str(h.path, `${at}.httpGet.path`) ?? '/'}`;
    // The image's own client: curl (podman's) or busybox's wget; a status >= 400 fails both.
    test = ['CMD-SHELL', `curl -fsS -o /dev/null ${shellQuote(url)} || wget -q -O /dev/null ${shellQuote(url)}`];
  } else {
    const t = r.keys(p.tcpSocket, `${at}.tcpSocket`, ['port', 'host']);
    test = ['CMD-SHELL', `nc -z ${shellQuote(r.str(t.host, `${at}.tcpSocket.host`) ?? 'localhost')} ${probePort(r, t.port, `${at}.tcpSocket.port`, named)}`];
  }
  const success = r.int(p.successThreshold, `${at}.successThreshold`, 1);
  if (success !== undefined && success !== 1) throw r.doc.error(`${at}.successThreshold`, 'only 1 is supported (the engine counts failures only)', 'UNSUPPORTED_FIELD');
  const sec = (k: string, dflt: number, min = 1) => (r.int(p[k], `${at}.${k}`, min) ?? dflt) * 1e9;
  return {
    Test: test,
    Interval: sec('periodSeconds', 10),
    Timeout: sec('timeoutSeconds', 1),
    StartPeriod: sec('initialDelaySeconds', 0, 0),
    Retries: r.int(p.failureThreshold, `${at}.failureThreshold`, 1) ?? 3,
  };
}

function user(r: Reader, sc: Dict, podSc: Dict, at: string): string | undefined {
  const uid = r.int(sc.runAsUser, `${at}.runAsUser`) ?? r.int(podSc.runAsUser, 'securityContext.runAsUser');
  const gid = r.int(sc.runAsGroup, `${at}.runAsGroup`) ?? r.int(podSc.runAsGroup, 'securityContext.runAsGroup');
  if (uid === undefined) {
    if (gid !== undefined) throw r.doc.error(sc.runAsGroup !== undefined ? `${at}.runAsGroup` : 'securityContext.runAsGroup', 'runAsGroup without runAsUser is not supported by brig kube play', 'UNSUPPORTED_FIELD', 'give runAsUser too');
    return undefined;
  }
  return gid === undefined ? String(uid) : `${uid}:${gid}`;
}

function seccomp(r: Reader, v: unknown, at: string): string[] {
  if (v === undefined) return [];
  const s = r.keys(v, at, ['type']);
  if (s.type === 'RuntimeDefault') return [];
  if (s.type === 'Unconfined') return ['seccomp=unconfined'];
  throw r.doc.error(`${at}.type`, `seccompProfile type ${JSON.stringify(s.type)} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'RuntimeDefault or Unconfined');
}

function security(r: Reader, v: unknown, at: string, podSc: Dict): Partial<HostConfig> & { User?: string } {
  const sc = r.keys(v, at, SECURITY);
  const caps = r.keys(sc.capabilities, `${at}.capabilities`, ['add', 'drop']);
  const add = r.strings(caps.add, `${at}.capabilities.add`);
  const drop = r.strings(caps.drop, `${at}.capabilities.drop`);
  const u = user(r, sc, podSc, at);
  const secOpts = [...(r.bool(sc.allowPrivilegeEscalation, `${at}.allowPrivilegeEscalation`) === false ? ['no-new-privileges'] : []), ...seccomp(r, sc.seccompProfile ?? podSc.seccompProfile, sc.seccompProfile ? `${at}.seccompProfile` : 'securityContext.seccompProfile')];
  return {
    ...(u !== undefined ? { User: u } : {}),
    ...(add?.length ? { CapAdd: add } : {}),
    ...(drop?.length ? { CapDrop: drop } : {}),
    ...(r.bool(sc.privileged, `${at}.privileged`) ? { Privileged: true } : {}),
    ...(r.bool(sc.readOnlyRootFilesystem, `${at}.readOnlyRootFilesystem`) ? { ReadonlyRootfs: true } : {}),
    ...(secOpts.length ? { SecurityOpt: secOpts } : {}),
  };
}

/** A ConfigMap's or Secret's key, or undefined when an optional reference finds nothing. */
function lookupKey(r: Reader, ref: Dict, at: string, kind: 'configMap' | 'secret'): string | undefined {
  const name = r.str(ref.name, `${at}.name`, true)!;
  const key = r.str(ref.key, `${at}.key`, true)!;
  const optional = r.bool(ref.optional, `${at}.optional`) === true;
  const source = (kind === 'configMap' ? r.ctx.configMaps : r.ctx.secrets).get(name);
  if (!source) {
    if (optional) return undefined;
    throw r.doc.error(`${at}.name`, `${kind === 'configMap' ? 'ConfigMap' : 'Secret'} "${name}" is not in the manifest`, 'INVALID_CONFIG', 'add its document to the file (or mark the reference optional: true)');
  }
  if (!Object.hasOwn(source, key)) {
    if (optional) return undefined;
    throw r.doc.error(`${at}.key`, `${kind === 'configMap' ? 'ConfigMap' : 'Secret'} "${name}" has no key "${key}"`);
  }
  return source[key]!.toString('utf8');
}

/** `$(VAR)` expanded from `env`; a reference to nothing stays as written, with a warning naming it. */
function expand(r: Reader, input: string, env: Map<string, string>, at: string): string {
  const { value, undefinedNames } = expandReferences(input, (n) => env.get(n));
  const scope = at.endsWith('.value') ? 'the variables defined before this one' : "the container's environment";
  for (const n of undefinedNames) r.ctx.warn(`${r.doc.where(at)}: $(${n}) is not among ${scope}; left as written, as Kubernetes does`);
  return value;
}

/** The container's environment in order (envFrom, then env); env values expand `$(VAR)` of what came before. */
function environment(r: Reader, c: Dict, at: string, pod: string): Map<string, string> {
  const env = new Map<string, string>();
  r.list(c.envFrom, `${at}.envFrom`).forEach((x, i) => {
    const f = `${at}.envFrom[${i}]`;
    const e = r.keys(x, f, ['configMapRef', 'secretRef', 'prefix']);
    const prefix = r.str(e.prefix, `${f}.prefix`) ?? '';
    const kind = e.configMapRef !== undefined ? 'configMapRef' : e.secretRef !== undefined ? 'secretRef' : undefined;
    if (!kind || (e.configMapRef !== undefined && e.secretRef !== undefined)) throw r.doc.error(f, 'needs one of configMapRef, secretRef');
    const ref = r.keys(e[kind], `${f}.${kind}`, ['name', 'optional']);
    const name = r.str(ref.name, `${f}.${kind}.name`, true)!;
    const source = (kind === 'configMapRef' ? r.ctx.configMaps : r.ctx.secrets).get(name);
    if (!source) {
      if (r.bool(ref.optional, `${f}.${kind}.optional`) === true) return;
      throw r.doc.error(`${f}.${kind}.name`, `${kind === 'configMapRef' ? 'ConfigMap' : 'Secret'} "${name}" is not in the manifest`);
    }
    for (const [k, v] of Object.entries(source)) env.set(`${prefix}${k}`, v.toString('utf8'));
  });
  r.list(c.env, `${at}.env`).forEach((x, i) => {
    const f = `${at}.env[${i}]`;
    const e = r.keys(x, f, ['name', 'value', 'valueFrom']);
    const name = r.str(e.name, `${f}.name`, true)!;
    if (e.valueFrom === undefined) {
      env.set(name, e.value === undefined || e.value === null ? '' : expand(r, String(e.value), env, `${f}.value`));
      return;
    }
    if (e.value !== undefined) throw r.doc.error(`${f}.value`, 'value and valueFrom together');
    const from = r.keys(e.valueFrom, `${f}.valueFrom`, ['configMapKeyRef', 'secretKeyRef', 'fieldRef']);
    let value: string | undefined;
    if (from.configMapKeyRef !== undefined) value = lookupKey(r, r.keys(from.configMapKeyRef, `${f}.valueFrom.configMapKeyRef`, ['name', 'key', 'optional']), `${f}.valueFrom.configMapKeyRef`, 'configMap');
    else if (from.secretKeyRef !== undefined) value = lookupKey(r, r.keys(from.secretKeyRef, `${f}.valueFrom.secretKeyRef`, ['name', 'key', 'optional']), `${f}.valueFrom.secretKeyRef`, 'secret');
    else if (from.fieldRef !== undefined) {
      const path = r.str(r.keys(from.fieldRef, `${f}.valueFrom.fieldRef`, ['fieldPath', 'apiVersion']).fieldPath, `${f}.valueFrom.fieldRef.fieldPath`, true);
      if (path === 'metadata.name') value = pod;
      else if (path === 'metadata.namespace') value = 'default';
      else throw r.doc.error(`${f}.valueFrom.fieldRef.fieldPath`, `fieldPath ${path} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'metadata.name or metadata.namespace');
    } else throw r.doc.error(`${f}.valueFrom`, 'needs one of configMapKeyRef, secretKeyRef, fieldRef');
    if (value !== undefined) env.set(name, value);
  });
  return env;
}

/** A configMap's or secret's files: every key, or the items asked for, with their modes. */
function projectedFiles(r: Reader, v: Dict, at: string, source: Record<string, Buffer> | undefined): VolumePlan['files'] {
  const defaultMode = r.int(v.defaultMode, `${at}.defaultMode`) ?? 0o644;
  if (defaultMode > 0o777) throw r.doc.error(`${at}.defaultMode`, 'a file mode (0 to 0777)');
  if (!source) return [];
  const items = r.list(v.items, `${at}.items`);
  if (!items.length) return Object.entries(source).map(([k, content]) => ({ path: k, content, mode: defaultMode }));
  return items.map((x, i) => {
    const f = `${at}.items[${i}]`;
    const it = r.keys(x, f, ['key', 'path', 'mode']);
    const key = r.str(it.key, `${f}.key`, true)!;
    const p = r.str(it.path, `${f}.path`, true)!;
    if (p.startsWith('/') || p.split('/').includes('..')) throw r.doc.error(`${f}.path`, `a relative path without "..", not ${p}`);
    if (!Object.hasOwn(source, key)) throw r.doc.error(`${f}.key`, `no key "${key}"`);
    return { path: p, content: source[key]!, mode: r.int(it.mode, `${f}.mode`) ?? defaultMode };
  });
}

interface PodVolume {
  plan?: VolumePlan;
  mount: (target: string, readOnly: boolean, subPath: string | undefined) => MountRequest;
}

function podVolumes(r: Reader, v: unknown, at: string, pod: string): Map<string, PodVolume> {
  const out = new Map<string, PodVolume>();
  r.list(v, at).forEach((x, i) => {
    const f = `${at}[${i}]`;
    const vol = r.keys(x, f, ['name', 'configMap', 'secret', 'persistentVolumeClaim', 'emptyDir', 'hostPath']);
    const name = r.str(vol.name, `${f}.name`, true)!;
    if (out.has(name)) throw r.doc.error(`${f}.name`, `volume "${name}" is declared twice`);
    const sources = Object.keys(vol).filter((k) => k !== 'name');
    if (sources.length !== 1) throw r.doc.error(f, 'a volume needs exactly one of configMap, secret, persistentVolumeClaim, emptyDir, hostPath');
    const own = `${pod}-${name}`;
    const named = (source: string, nocopy: boolean) => (target: string, readOnly: boolean, subPath: string | undefined): MountRequest => ({
      Type: 'volume',
      Source: source,
      Target: target,
      ...(readOnly ? { ReadOnly: true } : {}),
      ...(nocopy || subPath ? { VolumeOptions: { ...(nocopy ? { NoCopy: true } : {}), ...(subPath ? { Subpath: subPath } : {}) } } : {}),
    });
    if (vol.configMap !== undefined || vol.secret !== undefined) {
      const isMap = vol.configMap !== undefined;
      const fa = `${f}.${isMap ? 'configMap' : 'secret'}`;
      const c = r.keys(isMap ? vol.configMap : vol.secret, fa, [isMap ? 'name' : 'secretName', 'items', 'defaultMode', 'optional']);
      const ref = r.str(isMap ? c.name : c.secretName, `${fa}.${isMap ? 'name' : 'secretName'}`, true)!;
      const source = (isMap ? r.ctx.configMaps : r.ctx.secrets).get(ref);
      if (!source && r.bool(c.optional, `${fa}.optional`) !== true) throw r.doc.error(`${fa}.${isMap ? 'name' : 'secretName'}`, `${isMap ? 'ConfigMap' : 'Secret'} "${ref}" is not in the manifest`);
      // Kubernetes mounts these read-only whatever the mount says.
      out.set(name, { plan: { name: own, kind: isMap ? 'configmap' : 'secret', files: projectedFiles(r, c, fa, source) }, mount: (t, _ro, sub) => named(own, true)(t, true, sub) });
    } else if (vol.emptyDir !== undefined) {
      const e = r.keys(vol.emptyDir, `${f}.emptyDir`, ['medium', 'sizeLimit']);
      const medium = r.str(e.medium, `${f}.emptyDir.medium`) ?? '';
      if (medium === 'Memory') {
        // A tmpfs is each container's own: shared only when one container mounts it.
        const size = e.sizeLimit === undefined ? undefined : bytes(e.sizeLimit);
        if (e.sizeLimit !== undefined && size === undefined) throw r.doc.error(`${f}.emptyDir.sizeLimit`, `invalid quantity ${JSON.stringify(e.sizeLimit)}`);
        out.set(name, { mount: (t, ro) => ({ Type: 'tmpfs', Target: t, ...(ro ? { ReadOnly: true } : {}), ...(size ? { TmpfsOptions: { SizeBytes: size } } : {}) }) });
      } else if (medium === '') {
        if (e.sizeLimit !== undefined) r.ctx.warn(`${r.doc.where(`${f}.emptyDir.sizeLimit`)}: not enforced on a disk-backed emptyDir (a local volume has no size limit)`);
        out.set(name, { plan: { name: own, kind: 'emptydir' }, mount: named(own, false) });
      } else throw r.doc.error(`${f}.emptyDir.medium`, `medium ${medium} is not supported ("" or Memory)`, 'UNSUPPORTED_FIELD');
    } else if (vol.persistentVolumeClaim !== undefined) {
      const c = r.keys(vol.persistentVolumeClaim, `${f}.persistentVolumeClaim`, ['claimName', 'readOnly']);
      const claim = r.str(c.claimName, `${f}.persistentVolumeClaim.claimName`, true)!;
      const ro = r.bool(c.readOnly, `${f}.persistentVolumeClaim.readOnly`) === true;
      out.set(name, { plan: { name: claim, kind: 'pvc' }, mount: (t, mro, sub) => named(claim, false)(t, ro || mro, sub) });
    } else {
      const h = r.keys(vol.hostPath, `${f}.hostPath`, ['path', 'type']);
      const p = r.str(h.path, `${f}.hostPath.path`, true)!;
      if (!p.startsWith('/')) throw r.doc.error(`${f}.hostPath.path`, 'an absolute path');
      const type = r.str(h.type, `${f}.hostPath.type`) ?? '';
      if (!['', 'DirectoryOrCreate', 'Directory', 'File', 'Socket', 'CharDevice', 'BlockDevice'].includes(type)) throw r.doc.error(`${f}.hostPath.type`, `type ${type} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'DirectoryOrCreate, Directory, File, Socket, CharDevice, BlockDevice or none');
      out.set(name, {
        mount: (t, ro, sub) => ({ Type: 'bind', Source: sub ? `${p.replace(/\/$/, '')}/${sub}` : p, Target: t, ...(ro ? { ReadOnly: true } : {}), ...(type === 'DirectoryOrCreate' ? { BindOptions: { CreateMountpoint: true } } : {}) }),
      });
    }
  });
  return out;
}

/** The pods a Pod or Deployment document makes. */
export function podPlans(doc: KubeDocument, ctx: PlayContext): PodPlan[] {
  const r = new Reader(doc, ctx);
  const { at, meta, spec: raw } = podTemplate(r);
  const names = podNames(doc);
  const spec = r.keys(raw, at, POD_SPEC, POD_SPEC_IGNORED);
  // Checked once, whatever the replica count (a Deployment of 0 still gets its errors).
  const plans = (names.length ? names : [`${doc.name}-pod`]).map((pod) => podPlan(r, at, meta, spec, pod));
  return names.length ? plans : [];
}

function podPlan(r: Reader, at: string, meta: Dict, spec: Dict, pod: string): PodPlan {
  const doc = r.doc;
  const ctx = r.ctx;
  const podLabels = { ...r.labels(meta.annotations, 'metadata.annotations'), ...r.labels(meta.labels, 'metadata.labels') };
  const labels = (extra: Record<string, string>) => ({ ...podLabels, [KUBE_LABEL.pod]: pod, [KUBE_LABEL.file]: ctx.file, [KUBE_LABEL.kind]: doc.kind, [KUBE_LABEL.owner]: doc.name, ...extra });
  const hostNetwork = r.bool(spec.hostNetwork, `${at}.hostNetwork`) === true;
  const hostIPC = r.bool(spec.hostIPC, `${at}.hostIPC`) === true;
  const hostPID = r.bool(spec.hostPID, `${at}.hostPID`) === true;
  const sharePid = r.bool(spec.shareProcessNamespace, `${at}.shareProcessNamespace`) === true;
  if (hostPID && sharePid) throw r.doc.error(`${at}.shareProcessNamespace`, 'hostPID and shareProcessNamespace together');
  const hostname = r.str(spec.hostname, `${at}.hostname`) ?? pod;
  if (!DNS_LABEL.test(hostname)) throw doc.error(`${at}.hostname`, `invalid hostname "${hostname}" (a DNS label)`);
  const restart = restartPolicy(r, spec.restartPolicy, `${at}.restartPolicy`);
  const grace = r.int(spec.terminationGracePeriodSeconds, `${at}.terminationGracePeriodSeconds`);
  const podSc = r.keys(spec.securityContext, `${at}.securityContext`, POD_SECURITY);
  const groups = r.strings(podSc.supplementalGroups, `${at}.securityContext.supplementalGroups`);
  const volumes = podVolumes(r, spec.volumes, `${at}.volumes`, pod);
  const used = new Set<string>();
  const infraName = `${pod}-infra`;
  const ports: NonNullable<HostConfig['PortBindings']> = {};
  const exposed: Record<string, Record<string, never>> = {};
  const containers = r.list(spec.containers, `${at}.containers`);
  if (!containers.length) throw doc.error(`${at}.containers`, 'a pod needs at least one container');
  const seen = new Set<string>();
  const planned = containers.map((x, i): ContainerPlan => {
    const f = `${at}.containers[${i}]`;
    const c = r.keys(x, f, CONTAINER, CONTAINER_IGNORED);
    const name = r.str(c.name, `${f}.name`, true)!;
    if (!DNS_LABEL.test(name)) throw doc.error(`${f}.name`, `invalid container name "${name}" (a DNS label: lower case letters, digits and '-')`);
    if (seen.has(name)) throw doc.error(`${f}.name`, `container "${name}" is declared twice`);
    if (name === 'infra') throw doc.error(`${f}.name`, 'the name "infra" is the pod\'s infra container\'s (<pod>-infra)');
    seen.add(name);
    const image = r.str(c.image, `${f}.image`, true)!;
    const pull = r.str(c.imagePullPolicy, `${f}.imagePullPolicy`) ?? (/:[^/]+$/.test(image) && !image.endsWith(':latest') ? 'IfNotPresent' : image.includes('@') ? 'IfNotPresent' : 'Always');
    if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) throw doc.error(`${f}.imagePullPolicy`, `invalid imagePullPolicy "${pull}" (Always, IfNotPresent or Never)`);
    // Ports go on the infra container, which owns the pod's network namespace.
    const named = new Map<string, number>();
    r.list(c.ports, `${f}.ports`).forEach((y, j) => {
      const pf = `${f}.ports[${j}]`;
      const p = r.keys(y, pf, ['containerPort', 'hostPort', 'protocol', 'hostIP', 'name']);
      const port = r.int(p.containerPort, `${pf}.containerPort`, 1);
      if (port === undefined || port > 65535) throw doc.error(`${pf}.containerPort`, 'a port number (1-65535) is required');
      const proto = (r.str(p.protocol, `${pf}.protocol`) ?? 'TCP').toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp') throw doc.error(`${pf}.protocol`, `protocol ${proto.toUpperCase()} is not supported (TCP or UDP)`, 'UNSUPPORTED_FIELD');
      const pname = r.str(p.name, `${pf}.name`);
      if (pname !== undefined) named.set(pname, port);
      const key = `${port}/${proto}`;
      exposed[key] = {};
      const hostPort = r.int(p.hostPort, `${pf}.hostPort`, 1);
      if (hostPort !== undefined) {
        if (hostNetwork) throw doc.error(`${pf}.hostPort`, 'with hostNetwork the container port is the host port; leave hostPort out');
        (ports[key] ??= []).push({ HostIp: r.str(p.hostIP, `${pf}.hostIP`) ?? '', HostPort: String(hostPort) });
      } else if (p.hostIP !== undefined) throw doc.error(`${pf}.hostIP`, 'hostIP without hostPort');
    });
    const liveness = c.livenessProbe !== undefined ? probe(r, c.livenessProbe, `${f}.livenessProbe`, named) : undefined;
    const readiness = c.readinessProbe !== undefined ? probe(r, c.readinessProbe, `${f}.readinessProbe`, named) : undefined;
    if (liveness && readiness) ctx.warn(`${doc.where(`${f}.readinessProbe`)}: the engine has one health check per container: the livenessProbe is it, the readinessProbe is not run`);
    const mounts = r.list(c.volumeMounts, `${f}.volumeMounts`).map((y, j): MountRequest => {
      const mf = `${f}.volumeMounts[${j}]`;
      const m = r.keys(y, mf, ['name', 'mountPath', 'readOnly', 'subPath']);
      const vname = r.str(m.name, `${mf}.name`, true)!;
      const target = r.str(m.mountPath, `${mf}.mountPath`, true)!;
      if (!target.startsWith('/')) throw doc.error(`${mf}.mountPath`, 'an absolute path');
      const vol = volumes.get(vname);
      if (!vol) throw doc.error(`${mf}.name`, `no volume "${vname}" in ${at}.volumes`);
      used.add(vname);
      const sub = r.str(m.subPath, `${mf}.subPath`);
      if (sub !== undefined && (sub.startsWith('/') || sub.split('/').includes('..'))) throw doc.error(`${mf}.subPath`, 'a relative path without ".."');
      return vol.mount(target, r.bool(m.readOnly, `${mf}.readOnly`) === true, sub || undefined);
    });
    const sec = security(r, c.securityContext, `${f}.securityContext`, podSc);
    const { User, ...secHost } = sec;
    const shared = `container:${infraName}`;
    // Kubernetes expands command and args against the container's whole environment.
    const env = environment(r, c, f, pod);
    const command = r.strings(c.command, `${f}.command`)?.map((x, j) => expand(r, x, env, `${f}.command[${j}]`));
    const args = r.strings(c.args, `${f}.args`)?.map((x, j) => expand(r, x, env, `${f}.args[${j}]`));
    const workingDir = r.str(c.workingDir, `${f}.workingDir`);
    if (workingDir !== undefined && !workingDir.startsWith('/')) throw doc.error(`${f}.workingDir`, 'an absolute path');
    const request: ContainerCreateRequest = {
      Image: image,
      // Kubernetes: command replaces the image's entrypoint (and so its cmd), args its cmd.
      ...(command !== undefined ? { Entrypoint: command } : {}),
      ...(args !== undefined ? { Cmd: args } : {}),
      Env: [...env].map(([k, v]) => `${k}=${v}`),
      ...(workingDir !== undefined ? { WorkingDir: workingDir } : {}),
      ...(User !== undefined ? { User } : {}),
      Hostname: hostname,
      ...(liveness ?? readiness ? { Healthcheck: (liveness ?? readiness)! } : {}),
      ...(r.bool(c.tty, `${f}.tty`) ? { Tty: true } : {}),
      ...(r.bool(c.stdin, `${f}.stdin`) ? { OpenStdin: true } : {}),
      ...(grace !== undefined ? { StopTimeout: grace } : {}),
      Labels: labels({ [KUBE_LABEL.container]: name }),
      HostConfig: {
        NetworkMode: shared,
        IpcMode: shared,
        UTSMode: shared,
        ...(sharePid ? { PidMode: shared } : hostPID ? { PidMode: 'host' } : {}),
        RestartPolicy: restart,
        ...resources(r, c.resources, `${f}.resources`),
        ...secHost,
        ...(groups?.length ? { GroupAdd: groups } : {}),
        ...(mounts.length ? { Mounts: mounts } : {}),
      },
    };
    return { name: `${pod}-${name}`, request, pullPolicy: pull as ContainerPlan['pullPolicy'] };
  });
  for (const name of volumes.keys()) if (!used.has(name)) ctx.warn(`${doc.where(`${at}.volumes`)}: volume "${name}" is mounted by no container`);
  // A claim not declared in the manifest must exist already; the play checks (it needs the engine).
  const infra: ContainerPlan = {
    name: infraName,
    pullPolicy: 'Never',
    request: {
      Image: INFRA_IMAGE,
      Cmd: INFRA_COMMAND,
      ...(hostNetwork ? {} : { Hostname: hostname }),
      ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
      Labels: labels({ [KUBE_LABEL.infra]: 'true' }),
      HostConfig: {
        NetworkMode: hostNetwork ? 'host' : 'bridge',
        ...(Object.keys(ports).length ? { PortBindings: ports } : {}),
        IpcMode: hostIPC ? 'host' : 'shareable',
        // Kubernetes' hostNetwork pods have the host's name too.
        ...(hostNetwork ? { UTSMode: 'host' } : {}),
        ...(hostPID ? { PidMode: 'host' } : {}),
        RestartPolicy: { Name: restart.Name === 'no' ? 'no' : 'always', MaximumRetryCount: 0 },
      },
    },
  };
  const seenVolumes = new Set<string>();
  const volumePlans = [...volumes.entries()].filter(([n, v]) => used.has(n) && v.plan).map(([, v]) => v.plan!).filter((v) => !seenVolumes.has(v.name) && seenVolumes.add(v.name));
  return { pod, infra, containers: planned, volumes: volumePlans };
}

/** A ConfigMap's data and binaryData; a Secret's data (base64) and stringData. */
export function resourceData(doc: KubeDocument): Record<string, Buffer> {
  const r = new Reader(doc, { file: '', configMaps: new Map(), secrets: new Map(), claims: new Set(), warn: () => undefined });
  const isMap = doc.kind === 'ConfigMap';
  const d = r.keys(doc.data, '', ['apiVersion', 'kind', 'metadata', ...(isMap ? ['data', 'binaryData', 'immutable'] : ['data', 'stringData', 'type', 'immutable'])]);
  checkMetadata(r, d.metadata, 'metadata');
  if (!isMap && d.type !== undefined && d.type !== 'Opaque') throw doc.error('type', `Secret type ${String(d.type)} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', 'Opaque');
  const out: Record<string, Buffer> = {};
  const key = (k: string, f: string) => {
    if (!/^[-._a-zA-Z0-9]+$/.test(k)) throw doc.error(f, `invalid key "${k}" (letters, digits, '-', '_' and '.')`);
    if (Object.hasOwn(out, k)) throw doc.error(f, `key "${k}" is given twice`);
  };
  const base64 = (v: unknown, f: string): Buffer => {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) throw doc.error(f, 'must be base64');
    return Buffer.from(v, 'base64');
  };
  for (const [k, v] of Object.entries(r.dict(d.data, 'data'))) {
    key(k, `data.${k}`);
    out[k] = isMap ? Buffer.from(typeof v === 'string' ? v : String(v)) : base64(v, `data.${k}`);
  }
  for (const [k, v] of Object.entries(r.dict(isMap ? d.binaryData : d.stringData, isMap ? 'binaryData' : 'stringData'))) {
    const f = `${isMap ? 'binaryData' : 'stringData'}.${k}`;
    // stringData wins over data for one key, as the API server merges them.
    if (isMap) key(k, f);
    out[k] = isMap ? base64(v, f) : Buffer.from(typeof v === 'string' ? v : String(v));
  }
  return out;
}

/** A PersistentVolumeClaim's checks: only what a local volume can be. */
export function claimVolume(doc: KubeDocument, warn: (m: string) => void): string {
  const r = new Reader(doc, { file: '', configMaps: new Map(), secrets: new Map(), claims: new Set(), warn });
  const d = r.keys(doc.data, '', ['apiVersion', 'kind', 'metadata', 'spec'], ['status']);
  checkMetadata(r, d.metadata, 'metadata');
  r.keys(d.spec, 'spec', [], ['accessModes', 'resources', 'storageClassName', 'volumeMode']);
  return doc.name;
}
