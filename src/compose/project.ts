/**
 * A compose project from its files, as the Compose Specification and docker compose load it:
 *
 *   files        -f (several, merged in order), else COMPOSE_FILE, else compose.yaml /
 *                compose.yml / docker-compose.yaml / docker-compose.yml in the directory or
 *                the nearest parent that has one, plus its *.override.* beside it
 *   environment  the process's, over the project directory's .env (or --env-file files)
 *   each file    parsed (line numbers kept), the obsolete `version` warned about,
 *                interpolated, checked against the spec's JSON schema, `extends` resolved,
 *                services normalized (normalize.ts)
 *   then         merged (merge.ts); named (-p, COMPOSE_PROJECT_NAME, `name:`, the directory);
 *                profiles applied (--profile, COMPOSE_PROFILES); references checked
 *                (depends_on, networks, volumes), each error naming the service and field.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import { readTextSync } from '../util/read-text.js';
import { parseDotenv } from './dotenv.js';
import { interpolateTree, type Lookup } from './interpolate.js';
import { mergeValue, stripMarkers } from './merge.js';
import { type Dict, normalizeService } from './normalize.js';
import { validateComposeFile } from './validate.js';
import { parseComposeYaml } from './yaml-file.js';

export interface ProjectOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  warn: (message: string) => void;
}

export interface Project {
  name: string;
  workingDir: string;
  files: string[];
  /** Enabled services, canonical, by name. */
  services: Record<string, Dict>;
  /** Services a profile leaves out. */
  disabled: Record<string, Dict>;
  networks: Record<string, Dict>;
  volumes: Record<string, Dict>;
  /** What interpolation saw: the .env files under the process's environment. */
  environment: Record<string, string>;
}

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

function findDefault(cwd: string, warn: (m: string) => void): string[] {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const found = DEFAULT_FILES.filter((f) => existsSync(path.join(dir, f)));
    if (found.length > 0) {
      if (found.length > 1) warn(`Found multiple config files with supported names: ${found.map((f) => path.join(dir, f)).join(', ')}\nUsing ${path.join(dir, found[0]!)}`);
      const override = OVERRIDE_FILES.find((f) => existsSync(path.join(dir, f)));
      return [path.join(dir, found[0]!), ...(override ? [path.join(dir, override)] : [])];
    }
    if (dir === path.dirname(dir)) break;
  }
  throw new BrigError('INVALID_ARGUMENT', `no configuration file provided: not found (looked for ${DEFAULT_FILES.join(', ')} in ${cwd} and its parents)`, { hint: 'name one with -f' });
}

/** docker compose's rule for project names. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

function checkProjectName(name: string, from: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new BrigError('INVALID_ARGUMENT', `invalid project name "${name}" (from ${from}): must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`, { field: '--project-name' });
  }
  return name;
}

interface Loaded {
  path: string;
  data: Dict;
  lineOf(path: (string | number)[]): number | undefined;
}

/** Each project's files, for locateField. */
const sources = new WeakMap<Project, Loaded[]>();

/** `services.web.ports[0].target` → ['services', 'web', 'ports', 0, 'target']. */
function fieldParts(field: string): (string | number)[] {
  return [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

function at(loaded: Loaded, parts: (string | number)[]): string {
  const line = loaded.lineOf(parts);
  return `${loaded.path}${line ? `:${line}` : ''}`;
}

/**
 * `file:line` of a field of the project (services.web.gpus): the last file that defines the
 * service, network or volume it belongs to (later files override earlier ones).
 */
export function locateField(p: Project, field: string): string | undefined {
  return locateIn(sources.get(p) ?? [], field);
}

function locateIn(files: Loaded[], field: string): string | undefined {
  const parts = fieldParts(field);
  const owner = [...files].reverse().find((f) => {
    let v: unknown = f.data;
    for (const k of parts.slice(0, 2)) v = v && typeof v === 'object' ? (v as Dict)[k as string] : undefined;
    return v !== undefined;
  });
  return owner ? at(owner, parts) : undefined;
}

/**
 * An external network or volume is named by its key (the project did not make it, so it has no
 * project prefix), or by `name:`. The legacy `external: {name: x}` becomes `name: x` with
 * compose's deprecation warning; `external` is then plain `true`, as `compose config` prints it.
 */
function resolveExternal(kind: 'network' | 'volume', key: string, d: Dict, warn: (m: string) => void): void {
  if (d.external === undefined || d.external === false) return;
  const legacy = typeof d.external === 'object' && d.external !== null ? (d.external as Dict).name : undefined;
  if (typeof legacy === 'string') {
    if (typeof d.name === 'string' && d.name !== legacy) throw new BrigError('INVALID_CONFIG', `${kind} ${key}: ${kind}.external.name and ${kind}.name conflict; only use ${kind}.name`, { field: `${kind}s.${key}.external` });
    warn(kind === 'network' ? `network ${key}: network.external.name is deprecated. Please set network.name with external: true` : `volume ${key}: volume.external.name is deprecated in favor of volume.name`);
    d.name = legacy;
  }
  d.name ??= key;
  d.external = true;
}

/** The error with the file and line of its field in front, unless it names a place already. */
export function withLocation(e: unknown, where: string | undefined): unknown {
  if (!(e instanceof BrigError) || where === undefined || e.message.startsWith('/')) return e;
  return new BrigError(e.code, `${where}: ${e.message}`, { ...(e.field !== undefined ? { field: e.field } : {}), ...(e.hint !== undefined ? { hint: e.hint } : {}), path: where.replace(/:\d+$/, ''), cause: e });
}

export function loadProject(opts: ProjectOptions): Project {
  const files = (opts.files?.length ? opts.files : opts.env.COMPOSE_FILE ? opts.env.COMPOSE_FILE.split(opts.env.COMPOSE_PATH_SEPARATOR ?? ':') : findDefault(opts.cwd, opts.warn)).map((f) => path.resolve(opts.cwd, f));
  const workingDir = path.resolve(opts.cwd, opts.projectDirectory ?? path.dirname(files[0]!));
  // The .env files first, each interpolated against the process's environment and what came before.
  const dotenv = new Map<string, string>();
  const envFiles = opts.envFiles?.length ? opts.envFiles.map((f) => path.resolve(opts.cwd, f)) : [path.join(workingDir, '.env')];
  for (const f of envFiles) {
    if (!existsSync(f)) {
      if (opts.envFiles?.length) throw new BrigError('INVALID_ARGUMENT', `couldn't find env file: ${f}`, { path: f });
      continue;
    }
    for (const [k, v] of parseDotenv(readTextSync(f), f, (n) => opts.env[n] ?? dotenv.get(n))) dotenv.set(k, v);
  }
  const environment: Record<string, string> = Object.fromEntries(dotenv);
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) environment[k] = v;
  const lookup: Lookup = (n) => environment[n];

  const cache = new Map<string, Loaded>();
  const read = (file: string): Loaded => {
    const hit = cache.get(file);
    if (hit) return hit;
    let text: string;
    try {
      text = readTextSync(file);
    } catch (e) {
      throw new BrigError('INVALID_ARGUMENT', `cannot read ${file}: ${(e as Error).message}`, { path: file });
    }
    const f = parseComposeYaml(text, file);
    if (f.data.version !== undefined) opts.warn(`${file}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
    const data = interpolateTree(f.data, { lookup, warn: opts.warn }) as Dict;
    validateComposeFile({ ...f, data });
    const loaded = { path: file, data, lineOf: f.lineOf };
    cache.set(file, loaded);
    return loaded;
  };

  /** A service with its `extends` chain merged under it, normalized against its own file's directory. */
  const resolveService = (file: Loaded, name: string, seen: string[]): Dict => {
    const key = `${file.path}#${name}`;
    if (seen.includes(key)) throw new BrigError('INVALID_CONFIG', `circular extends: ${[...seen, key].join(' -> ')}`, { path: file.path, field: `services.${name}.extends` });
    const services = (file.data.services ?? {}) as Record<string, Dict>;
    const raw = services[name];
    if (!raw) throw new BrigError('INVALID_CONFIG', `${file.path}: extends names service "${name}", which the file does not define`, { path: file.path, field: `services.${name}` });
    let own: Dict;
    try {
      own = normalizeService(name, raw, path.dirname(file.path), opts.home);
    } catch (e) {
      throw withLocation(e, e instanceof BrigError && e.field ? at(file, fieldParts(e.field)) : undefined);
    }
    const ext = raw.extends as string | { service: string; file?: string } | undefined;
    if (ext === undefined) return own;
    const spec = typeof ext === 'string' ? { service: ext } : ext;
    const baseFile = spec.file ? read(path.resolve(path.dirname(file.path), spec.file)) : file;
    const base = resolveService(baseFile, spec.service, [...seen, key]);
    // What extends never takes from the base (compose-spec 05-services.md#extends).
    delete base.depends_on;
    const { extends: _drop, ...rest } = own;
    return mergeValue(base, rest) as Dict;
  };

  let merged: Dict = {};
  for (const file of files) {
    const loaded = read(file);
    const services = Object.fromEntries(Object.keys((loaded.data.services ?? {}) as Dict).map((n) => [n, resolveService(loaded, n, [])]));
    merged = mergeValue(merged, { ...loaded.data, services }) as Dict;
  }
  merged = stripMarkers(merged) as Dict;

  const fromEnv = opts.env.COMPOSE_PROJECT_NAME;
  const name =
    opts.projectName !== undefined
      ? checkProjectName(opts.projectName, '-p')
      : fromEnv
        ? checkProjectName(fromEnv, 'COMPOSE_PROJECT_NAME')
        : typeof merged.name === 'string'
          ? checkProjectName(merged.name, 'the name attribute')
          : checkProjectName(normalizeProjectName(path.basename(workingDir)), `the directory ${workingDir}`);

  const active = new Set([...(opts.profiles ?? []), ...(opts.env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean)]);
  const all = (merged.services ?? {}) as Record<string, Dict>;
  const services: Record<string, Dict> = {};
  const disabled: Record<string, Dict> = {};
  for (const [n, s] of Object.entries(all)) {
    const profiles = (s.profiles as string[] | undefined) ?? [];
    if (profiles.length === 0 || active.has('*') || profiles.some((p) => active.has(p))) services[n] = s;
    else disabled[n] = s;
  }
  // `name:` with nothing under it is a resource with every default.
  const resources = (v: unknown) => Object.fromEntries(Object.entries((v ?? {}) as Record<string, Dict | null>).map(([k, x]) => [k, x ?? {}]));
  const networks = resources(merged.networks);
  const volumes = resources(merged.volumes);
  try {
    for (const [k, n] of Object.entries(networks)) resolveExternal('network', k, n, opts.warn);
    for (const [k, v] of Object.entries(volumes)) resolveExternal('volume', k, v, opts.warn);
  } catch (e) {
    throw withLocation(e, e instanceof BrigError && e.field ? locateIn([...cache.values()], e.field) : undefined);
  }
  try {
    for (const [n, s] of Object.entries(services)) {
      if (s.image === undefined && s.build === undefined) throw new BrigError('INVALID_CONFIG', `service "${n}" has neither an image nor a build context specified`, { field: `services.${n}` });
      for (const dep of Object.keys((s.depends_on ?? {}) as Dict)) {
        if (disabled[dep]) throw new BrigError('INVALID_CONFIG', `service "${n}" depends on service "${dep}", which a profile disables`, { field: `services.${n}.depends_on` });
        if (!all[dep]) throw new BrigError('INVALID_CONFIG', `service "${n}" depends on undefined service "${dep}": invalid compose project`, { field: `services.${n}.depends_on` });
      }
      const nets = (s.networks ?? { default: null }) as Dict;
      for (const net of Object.keys(nets)) {
        if (net !== 'default' && !networks[net]) throw new BrigError('INVALID_CONFIG', `service "${n}" refers to undefined network ${net}: invalid compose project`, { field: `services.${n}.networks` });
      }
      if (s.network_mode === undefined && Object.hasOwn(nets, 'default')) networks.default ??= {};
      for (const [i, v] of ((s.volumes ?? []) as { type: string; source?: string }[]).entries()) {
        if (v.type === 'volume' && v.source !== undefined && !volumes[v.source]) {
          throw new BrigError('INVALID_CONFIG', `service "${n}" refers to undefined volume ${v.source}: invalid compose project`, { field: `services.${n}.volumes[${i}]` });
        }
      }
    }
  } catch (e) {
    throw withLocation(e, e instanceof BrigError && e.field ? locateIn([...cache.values()], e.field) : undefined);
  }
  const project = { name, workingDir, files, services, disabled, networks, volumes, environment };
  sources.set(project, [...cache.values()]);
  return project;
}
