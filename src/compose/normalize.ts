/**
 * One file's services in compose's canonical forms, so files merge by key and the engine
 * gets one shape (what `docker compose config` prints): environment, labels, sysctls and
 * build args as maps; ports and volumes in their long syntax (ranges expanded, bind sources
 * made absolute against the file's directory); depends_on as a map with conditions;
 * networks as a map; command and entrypoint as lists (a string split as a shell would).
 * Values a `!reset` or `!override` marks are passed through for the merge.
 */
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import { shellWords } from '../util/shell-words.js';
import { Override, Reset } from './yaml-file.js';

export type Dict = Record<string, unknown>;

export interface PortConfig {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: string;
  mode: 'ingress' | 'host';
}

export interface VolumeMount {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number };
}

const isMarker = (v: unknown) => v instanceof Reset || v instanceof Override;

function bad(where: string, why: string): BrigError {
  return new BrigError('INVALID_CONFIG', `${where}: ${why}`, { field: where });
}

/** compose's list-or-dict: `["A=1", "B"]` or `{A: 1, B: null}` → a map (null: take it from the environment). */
export function toMap(v: unknown, where: string, sep = '='): Record<string, string | null> {
  if (v === undefined || v === null) return {};
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i === 0) throw bad(where, `"${s}" has an empty key`);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
    return out;
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? null : isMarker(x) ? (x as unknown as string) : String(x);
    return out;
  }
  throw bad(where, 'must be a list or a mapping');
}

/** A string command split as compose's shlex splits it. */
export function shellSplit(s: string, where: string): string[] {
  return shellWords(s, () => bad(where, `unterminated quote in "${s}"`));
}

function command(v: unknown, where: string): unknown {
  if (v === undefined || isMarker(v) || v === null) return v;
  if (typeof v === 'string') return shellSplit(v, where);
  if (Array.isArray(v)) return v.map(String);
  throw bad(where, 'must be a string or a list');
}

function range(s: string, where: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw bad(where, `invalid port "${s}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 0 || b > 65535 || b < a) throw bad(where, `invalid port range "${s}"`);
  return [a, b];
}

/** `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`, ranges expanded pairwise. */
export function parsePort(spec: string | number, where: string): PortConfig[] {
  let s = String(spec);
  let protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1);
    s = s.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw bad(where, `invalid protocol "${protocol}"`);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(s);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2]!.split(':');
  } else {
    parts = s.split(':');
    if (parts.length === 3) hostIp = parts.shift();
  }
  if (parts.length > 2 || parts.some((p) => p === '' && parts.length === 1)) throw bad(where, `invalid port "${spec}"`);
  const [pubText, targetText] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  const [t0, t1] = range(targetText, where);
  const pub = pubText === undefined || pubText === '' ? undefined : range(pubText, where);
  if (pub && pub[1] - pub[0] !== t1 - t0 && pub[0] !== pub[1]) throw bad(where, `port ranges of different lengths in "${spec}"`);
  const out: PortConfig[] = [];
  for (let t = t0; t <= t1; t++) {
    const published = pub === undefined ? undefined : pub[0] === pub[1] && t1 !== t0 ? `${pub[0]}` : `${pub[0] + (t - t0)}`;
    out.push({ target: t, ...(published !== undefined ? { published } : {}), ...(hostIp !== undefined && hostIp !== '' ? { host_ip: hostIp } : {}), protocol, mode: 'ingress' });
  }
  return out;
}

function port(v: unknown, where: string): PortConfig[] {
  if (typeof v === 'string' || typeof v === 'number') return parsePort(v, where);
  const d = v as Dict;
  const target = Number(d.target);
  if (!Number.isInteger(target) || target < 1 || target > 65535) throw bad(`${where}.target`, `invalid port "${String(d.target)}"`);
  return [
    {
      target,
      ...(d.published !== undefined && d.published !== null ? { published: String(d.published) } : {}),
      ...(typeof d.host_ip === 'string' ? { host_ip: d.host_ip } : {}),
      protocol: typeof d.protocol === 'string' ? d.protocol : 'tcp',
      mode: d.mode === 'host' ? 'host' : 'ingress',
    },
  ];
}

/** Is a short-syntax volume source a host path (not a volume name)? compose's rule. */
function isPath(s: string): boolean {
  return s.startsWith('/') || s.startsWith('.') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);
}

function hostPath(s: string, dir: string, home: string): string {
  if (s === '~' || s.startsWith('~/')) return path.join(home, s.slice(1));
  return path.resolve(dir, s);
}

/** `[SOURCE:]TARGET[:MODE]` or the long syntax, bind sources absolute. */
export function parseVolume(v: unknown, where: string, dir: string, home: string): VolumeMount {
  if (typeof v === 'string') {
    const parts = v.split(':');
    if (parts.length > 3 || parts.some((p) => p === '')) throw bad(where, `invalid volume "${v}"`);
    if (parts.length === 1) return { type: 'volume', target: parts[0]! };
    const [source, target, mode] = parts as [string, string, string | undefined];
    const opts = (mode ?? '').split(',').filter(Boolean);
    for (const o of opts) if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(o)) throw bad(where, `invalid mode "${o}" in "${v}"`);
    const ro = opts.includes('ro');
    const prop = opts.find((o) => /shared|slave|private/.test(o));
    const selinux = opts.find((o) => o === 'z' || o === 'Z');
    if (isPath(source)) {
      return {
        type: 'bind',
        source: hostPath(source, dir, home),
        target,
        ...(ro ? { read_only: true } : {}),
        bind: { create_host_path: true, ...(prop ? { propagation: prop } : {}), ...(selinux ? { selinux } : {}) },
      };
    }
    return { type: 'volume', source, target, ...(ro ? { read_only: true } : {}), ...(opts.includes('nocopy') ? { volume: { nocopy: true } } : {}) };
  }
  const d = v as Dict;
  const type = d.type as VolumeMount['type'];
  if (!['volume', 'bind', 'tmpfs'].includes(type)) throw bad(where, `volume type "${String(d.type)}" is not supported (volume, bind, tmpfs)`);
  const source = typeof d.source === 'string' ? (type === 'bind' ? hostPath(d.source, dir, home) : d.source) : undefined;
  return {
    type,
    ...(source !== undefined ? { source } : {}),
    target: String(d.target),
    ...(d.read_only === true ? { read_only: true } : {}),
    ...(d.bind ? { bind: d.bind as VolumeMount['bind'] } : {}),
    ...(d.volume ? { volume: d.volume as VolumeMount['volume'] } : {}),
    ...(d.tmpfs ? { tmpfs: d.tmpfs as VolumeMount['tmpfs'] } : {}),
  };
}

/** A service of one file, canonical; `dir` is the file's directory. */
export function normalizeService(name: string, svc: Dict, dir: string, home: string): Dict {
  const at = (k: string) => `services.${name}.${k}`;
  const out: Dict = { ...svc };
  const mapKeys = ['environment', 'labels', 'annotations', 'sysctls'];
  for (const k of mapKeys) if (svc[k] !== undefined && !isMarker(svc[k])) out[k] = toMap(svc[k], at(k));
  if (svc.command !== undefined) out.command = command(svc.command, at('command'));
  if (svc.entrypoint !== undefined) out.entrypoint = command(svc.entrypoint, at('entrypoint'));
  if (Array.isArray(svc.ports)) out.ports = svc.ports.flatMap((p, i): unknown[] => (isMarker(p) ? [p] : port(p, `${at('ports')}[${i}]`)));
  if (Array.isArray(svc.expose)) out.expose = svc.expose.map(String);
  if (Array.isArray(svc.volumes)) out.volumes = svc.volumes.map((v, i) => (isMarker(v) ? v : parseVolume(v, `${at('volumes')}[${i}]`, dir, home)));
  if (svc.build !== undefined && !isMarker(svc.build)) {
    const b: Dict = typeof svc.build === 'string' ? { context: svc.build } : { ...(svc.build as Dict) };
    const ctx = typeof b.context === 'string' ? b.context : '.';
    b.context = /^[a-z]+:\/\//.test(ctx) ? ctx : path.resolve(dir, ctx);
    if (b.args !== undefined) b.args = toMap(b.args, `${at('build')}.args`);
    if (b.labels !== undefined) b.labels = toMap(b.labels, `${at('build')}.labels`);
    out.build = b;
  }
  if (svc.env_file !== undefined && !isMarker(svc.env_file)) {
    const list = Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
    out.env_file = list.map((e) => (typeof e === 'string' ? { path: path.resolve(dir, e), required: true } : { ...(e as Dict), path: path.resolve(dir, String((e as Dict).path)) }));
  }
  if (svc.depends_on !== undefined && !isMarker(svc.depends_on)) {
    out.depends_on = Array.isArray(svc.depends_on)
      ? Object.fromEntries(svc.depends_on.map((d) => [String(d), { condition: 'service_started', required: true }]))
      : Object.fromEntries(Object.entries(svc.depends_on as Dict).map(([k, v]) => [k, { required: true, ...(v as Dict) }]));
  }
  // compose's implicit dependencies: a service whose network, IPC or PID namespace is
  // another service's starts after it (compose-go's GetDependencies).
  for (const k of ['network_mode', 'ipc', 'pid']) {
    const v = svc[k];
    if (typeof v !== 'string' || !v.startsWith('service:')) continue;
    const dep = v.slice('service:'.length);
    const deps = (out.depends_on ?? {}) as Dict;
    if (!Object.hasOwn(deps, dep)) out.depends_on = { ...deps, [dep]: { condition: 'service_started', required: true } };
  }
  if (Array.isArray(svc.networks)) out.networks = Object.fromEntries(svc.networks.map((n) => [String(n), null]));
  for (const k of ['dns', 'dns_search', 'tmpfs']) if (typeof svc[k] === 'string') out[k] = [svc[k]];
  if (svc.extra_hosts !== undefined && !Array.isArray(svc.extra_hosts) && typeof svc.extra_hosts === 'object' && !isMarker(svc.extra_hosts)) {
    out.extra_hosts = Object.entries(svc.extra_hosts as Dict).flatMap(([h, ip]) => (Array.isArray(ip) ? ip.map((x) => `${h}=${String(x)}`) : [`${h}=${String(ip)}`]));
  }
  if (svc.healthcheck && typeof svc.healthcheck === 'object' && !isMarker(svc.healthcheck)) {
    const h = { ...(svc.healthcheck as Dict) };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    out.healthcheck = h;
  }
  return out;
}
