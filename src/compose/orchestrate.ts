/**
 * A project onto an Engine, on Engine calls only (so it works as well through `brig serve`):
 * what belongs to a project is found by compose's labels, never remembered elsewhere, so
 * `docker compose` and brig see the same project and a failed `up` leaves only labelled
 * resources that `down` finds and removes.
 *
 *   build the services' images (build.ts), one build per distinct request, before anything
 *         else is made, so a failed build leaves nothing behind
 *   up    the images to build first (--build: every one; else those missing), then networks
 *         and volumes (external ones must exist), then each service once its dependencies
 *         meet their conditions (independent services at the same time); a service
 *         converges: replicas whose config-hash and image are current stay (started if
 *         stopped), the others are recreated, replicas past the scale go
 *   down  the project's containers (orphans with removeOrphans), its networks, its volumes (-v)
 */
import type { BuildProgress, ContainerJSON, ContainerSummary, Engine } from '../engine/engine.js';
import { BrigError } from '../errors/index.js';
import { type BuildFlags, planBuilds, type ServiceBuild } from './build.js';
import { containerRequest, isExternal, LABEL, networkName, projectLabels, serviceImage, serviceScale, volumeName } from './container-config.js';
import type { Dict } from './normalize.js';
import type { Project } from './project.js';

export interface Reporter {
  /** One resource's progress, as compose prints it: ` ✔ Container p-web-1  Started`. */
  progress(kind: string, name: string, status: string): void;
  warn(message: string): void;
  /** A build's progress display (brig build's renderer), ended when the build ends. */
  build?(b: ServiceBuild): { onProgress?: (p: BuildProgress) => void; end(): void };
}

export interface UpOptions {
  services?: string[];
  scale?: Record<string, number>;
  forceRecreate?: boolean;
  noStart?: boolean;
  removeOrphans?: boolean;
  /** Wait for the services to be running and healthy (--wait). */
  wait?: boolean;
  /** --build: build every service that has a build section, present or not. */
  build?: boolean;
  /** --no-build: never build; a missing image is an error. */
  noBuild?: boolean;
  buildFlags?: BuildFlags;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function containerNumber(c: ContainerSummary): number {
  return Number(c.Labels[LABEL.number] ?? 0);
}

export function displayName(c: ContainerSummary): string {
  return (c.Names[0] ?? c.Id).replace(/^\//, '');
}

/** The project's containers (stopped too), by compose's labels; one-off (`run`) ones only with oneoff. */
export async function projectContainers(engine: Engine, project: string, opts: { oneoff?: boolean; services?: string[] } = {}): Promise<ContainerSummary[]> {
  const list = await engine.listContainers({ all: true, filters: { label: [`${LABEL.project}=${project}`] } });
  return list
    .filter((c) => opts.oneoff || c.Labels[LABEL.oneoff] !== 'True')
    .filter((c) => !opts.services?.length || opts.services.includes(c.Labels[LABEL.service] ?? ''))
    .sort((a, b) => (a.Labels[LABEL.service] ?? '').localeCompare(b.Labels[LABEL.service] ?? '') || containerNumber(a) - containerNumber(b));
}

/** Services in depends_on order (dependencies first); a cycle is an error naming it. */
export function dependencyOrder(p: Project, wanted: string[]): string[] {
  const out: string[] = [];
  const visiting: string[] = [];
  const visit = (n: string) => {
    if (out.includes(n)) return;
    if (visiting.includes(n)) throw new BrigError('INVALID_CONFIG', `dependency cycle detected: ${[...visiting.slice(visiting.indexOf(n)), n].join(' -> ')}`, { field: `services.${n}.depends_on` });
    const s = p.services[n];
    if (!s) throw new BrigError('INVALID_ARGUMENT', `no such service: ${n}`, { field: 'SERVICE' });
    visiting.push(n);
    for (const d of Object.keys((s.depends_on ?? {}) as Dict)) if (p.services[d]) visit(d);
    visiting.pop();
    out.push(n);
  };
  for (const n of wanted) visit(n);
  return out;
}

/** Each service's depth in the dependency graph: 0 for one that depends on nothing. */
export function dependencyLevels(p: Project): Map<string, number> {
  const level = new Map<string, number>();
  for (const s of dependencyOrder(p, Object.keys(p.services))) {
    const deps = Object.keys((p.services[s]!.depends_on ?? {}) as Dict).filter((d) => p.services[d]);
    level.set(s, deps.length ? 1 + Math.max(...deps.map((d) => level.get(d)!)) : 0);
  }
  return level;
}

const NETWORK_KEYS = new Set(['name', 'driver', 'driver_opts', 'ipam', 'internal', 'labels', 'external', 'attachable', 'enable_ipv6']);
const VOLUME_KEYS = new Set(['name', 'driver', 'driver_opts', 'labels', 'external']);

function labelMap(v: unknown): Record<string, string> {
  if (Array.isArray(v)) return Object.fromEntries(v.map((s) => String(s).split(/=(.*)/s).slice(0, 2) as [string, string]));
  return Object.fromEntries(Object.entries((v ?? {}) as Dict).map(([k, x]) => [k, String(x)]));
}

function unsupported(field: string, why = 'not supported by brig compose'): BrigError {
  return new BrigError('UNSUPPORTED_FIELD', `${field}: ${why}`, { field });
}

/**
 * Everything `up` would refuse, before it makes anything: each service's request (every
 * field carried out or refused by its path), the networks' and volumes' keys.
 */
export function preflight(p: Project, services: string[], warn: (m: string) => void): void {
  for (const s of services) {
    containerRequest(p, s, 1, { warn });
    for (const [dep, c] of Object.entries((p.services[s]!.depends_on ?? {}) as Record<string, Dict>)) {
      if (c.restart === true) warn(`services.${s}.depends_on.${dep}.restart: not carried out by brig compose yet (${s} is not restarted when ${dep} is recreated)`);
    }
  }
  planBuilds(p, services);
  for (const [key, n] of Object.entries(p.networks)) {
    for (const k of Object.keys(n)) if (!NETWORK_KEYS.has(k) && !k.startsWith('x-')) throw unsupported(`networks.${key}.${k}`);
    if (n.enable_ipv6 === true) throw unsupported(`networks.${key}.enable_ipv6`);
    if (n.driver !== undefined && n.driver !== 'bridge') throw unsupported(`networks.${key}.driver`, `"${String(n.driver)}" is not supported (bridge)`);
  }
  for (const [key, v] of Object.entries(p.volumes)) for (const k of Object.keys(v)) if (!VOLUME_KEYS.has(k) && !k.startsWith('x-')) throw unsupported(`volumes.${key}.${k}`);
}

/** The networks the given services use, made when missing; an external one must exist. */
export async function ensureNetworks(engine: Engine, p: Project, services: string[], r: Reporter): Promise<void> {
  const used = new Set(services.flatMap((s) => (p.services[s]!.network_mode === undefined ? Object.keys((p.services[s]!.networks ?? { default: null }) as Dict) : [])));
  for (const key of [...used].sort()) {
    const n = p.networks[key] ?? {};
    const name = networkName(p, key);
    if (isExternal(n)) {
      await engine.inspectNetwork(name).catch((e: unknown) => {
        throw new BrigError('INVALID_CONFIG', `network ${name} declared as external, but could not be found`, { field: `networks.${key}`, cause: e });
      });
      continue;
    }
    const existing = await engine.inspectNetwork(name).catch(() => undefined);
    if (existing) {
      if (existing.Labels?.[LABEL.project] !== undefined && existing.Labels[LABEL.project] !== p.name) r.warn(`a network with name ${name} exists but was not created for project "${p.name}"`);
      continue;
    }
    const ipam = (n.ipam ?? {}) as Dict;
    await engine.createNetwork({
      Name: name,
      Driver: 'bridge',
      ...(n.internal === true ? { Internal: true } : {}),
      ...(n.attachable === true ? { Attachable: true } : {}),
      ...(n.driver_opts ? { Options: labelMap(n.driver_opts) } : {}),
      ...(ipam.config ? { IPAM: { Config: (ipam.config as Dict[]).map((c) => ({ ...(c.subnet ? { Subnet: String(c.subnet) } : {}), ...(c.gateway ? { Gateway: String(c.gateway) } : {}), ...(c.ip_range ? { IPRange: String(c.ip_range) } : {}) })) } } : {}),
      Labels: { ...labelMap(n.labels), ...projectLabels(p), [LABEL.network]: key },
    });
    r.progress('Network', name, 'Created');
  }
}

export async function ensureVolumes(engine: Engine, p: Project, services: string[], r: Reporter): Promise<void> {
  const used = new Set(services.flatMap((s) => ((p.services[s]!.volumes ?? []) as { type: string; source?: string }[]).filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)));
  for (const key of [...used].sort()) {
    const v = p.volumes[key] ?? {};
    const name = volumeName(p, key);
    const existing = await engine.inspectVolume(name).catch(() => undefined);
    if (isExternal(v)) {
      if (!existing) throw new BrigError('INVALID_CONFIG', `external volume "${name}" not found`, { field: `volumes.${key}` });
      continue;
    }
    if (existing) continue;
    await engine.createVolume({
      Name: name,
      ...(typeof v.driver === 'string' ? { Driver: v.driver } : {}),
      ...(v.driver_opts ? { DriverOpts: labelMap(v.driver_opts) } : {}),
      Labels: { ...labelMap(v.labels), ...projectLabels(p), [LABEL.volume]: key },
    });
    r.progress('Volume', name, 'Created');
  }
}

/** An image's id here, or undefined when it is not. */
export async function imageId(engine: Engine, ref: string): Promise<string | undefined> {
  try {
    return (await engine.inspectImage(ref)).Id;
  } catch (e) {
    if ((e as BrigError).code === 'IMAGE_NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * Builds the images of the given services that have a build section (compose build): one
 * build per distinct request (build.ts), in the order given.
 */
export async function buildImages(engine: Engine, p: Project, services: string[], opts: { flags?: BuildFlags; signal?: AbortSignal }, r: Reporter): Promise<void> {
  for (const b of planBuilds(p, services, opts.flags)) {
    r.progress('Service', b.services.join(', '), 'Building');
    const live = r.build?.(b);
    try {
      await engine.buildImage(b.context, { ...b.options, ...(live?.onProgress ? { onProgress: live.onProgress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      live?.end();
      if (e instanceof BrigError) throw new BrigError(e.code, `failed to build service ${b.services.join(', ')}: ${e.message}`, { field: `services.${b.services[0]!}.build`, ...(e.hint ? { hint: e.hint } : {}), cause: e });
      throw e;
    }
    live?.end();
    r.progress('Service', b.services.join(', '), 'Built');
  }
}

/**
 * What up builds before it makes anything: with --build (or pull_policy: build) every
 * service that has a build section; else those whose image is not here (compose v2 builds
 * rather than pulls a service that can be built).
 */
export async function servicesToBuild(engine: Engine, p: Project, services: string[], opts: UpOptions): Promise<string[]> {
  const out: string[] = [];
  for (const s of services) {
    const svc = p.services[s]!;
    if (svc.build === undefined) continue;
    if (opts.build || svc.pull_policy === 'build') {
      if (opts.noBuild) throw new BrigError('INVALID_ARGUMENT', '--build and --no-build are incompatible', { field: '--no-build' });
      out.push(s);
    } else if (!opts.noBuild && (await imageId(engine, serviceImage(p, s))) === undefined) out.push(s);
  }
  return out;
}

/** The service's image here: pulled when missing (compose's pull_policy missing); one to build was built by up. */
export async function ensureImage(engine: Engine, p: Project, service: string, r: Reporter): Promise<string> {
  const s = p.services[service]!;
  const ref = serviceImage(p, service);
  const policy = (s.pull_policy as string | undefined) ?? 'missing';
  let id = policy === 'always' ? undefined : await imageId(engine, ref);
  if (id) return id;
  if (s.build !== undefined) {
    throw new BrigError('IMAGE_NOT_FOUND', `services.${service}: image ${ref} is not built`, { field: `services.${service}.build`, hint: 'run brig compose build, or up without --no-build' });
  }
  if (policy === 'never') throw new BrigError('IMAGE_NOT_FOUND', `services.${service}: image ${ref} is not here and pull_policy is never`, { field: `services.${service}.pull_policy` });
  r.progress('Image', ref, 'Pulling');
  await engine.pullImage(ref);
  id = await imageId(engine, ref);
  r.progress('Image', ref, 'Pulled');
  return id!;
}

/**
 * `compose push`: docker compose's rule, only what the project builds and names: a service
 * with both `build` and `image` (its image and its build.tags); one without a build (someone
 * else's image) or without an image (PROJECT-SERVICE, no registry's name) is skipped. The
 * pushes go at once; with ignoreFailures a failed one is a warning and the others still count.
 */
export async function pushImages(engine: Engine, p: Project, services: string[], opts: { ignoreFailures?: boolean; signal?: AbortSignal }, r: Reporter): Promise<void> {
  const refs: string[] = [];
  for (const s of services) {
    const svc = p.services[s]!;
    if (svc.build === undefined || typeof svc.image !== 'string') {
      r.progress('Service', s, 'Skipped');
      continue;
    }
    refs.push(svc.image, ...(((svc.build as Dict).tags ?? []) as unknown[]).map(String));
  }
  const results = await Promise.allSettled(
    [...new Set(refs)].map(async (ref) => {
      r.progress('Image', ref, 'Pushing');
      await engine.pushImage(ref, opts.signal ? { signal: opts.signal } : {});
      r.progress('Image', ref, 'Pushed');
    }),
  );
  const failed = results.flatMap((x) => (x.status === 'rejected' ? [x.reason as unknown] : []));
  if (failed.length === 0) return;
  if (!opts.ignoreFailures) throw failed[0];
  for (const e of failed) r.warn(e instanceof Error ? e.message : String(e));
}

function isRunning(c: ContainerSummary): boolean {
  return c.State === 'running' || c.State === 'restarting';
}

/** Until a dependency meets its condition (compose's waitDependencies). */
async function awaitCondition(engine: Engine, p: Project, service: string, dep: string, condition: string, signal?: AbortSignal): Promise<void> {
  const containers = await projectContainers(engine, p.name, { services: [dep] });
  for (const c of containers) {
    for (;;) {
      signal?.throwIfAborted();
      const j: ContainerJSON = await engine.inspectContainer(c.Id);
      if (condition === 'service_started') break;
      if (condition === 'service_healthy') {
        const h = j.State.Health?.Status;
        if (h === undefined) throw new BrigError('INVALID_CONFIG', `dependency failed to start: container ${displayName(c)} has no healthcheck configured`, { field: `services.${service}.depends_on.${dep}` });
        if (h === 'healthy') break;
        if (h === 'unhealthy') throw new BrigError('DEPENDENCY_FAILED', `dependency failed to start: container ${displayName(c)} is unhealthy`, { field: `services.${service}.depends_on.${dep}` });
        if (!j.State.Running) throw new BrigError('DEPENDENCY_FAILED', `dependency failed to start: container ${displayName(c)} exited (${j.State.ExitCode})`, { field: `services.${service}.depends_on.${dep}` });
      } else if (condition === 'service_completed_successfully') {
        if (!j.State.Running && j.State.Status !== 'created') {
          if (j.State.ExitCode !== 0) throw new BrigError('DEPENDENCY_FAILED', `service "${dep}" didn't complete successfully: exit ${j.State.ExitCode}`, { field: `services.${service}.depends_on.${dep}` });
          break;
        }
      }
      await sleep(200);
    }
  }
}

async function removeContainer(engine: Engine, c: ContainerSummary, r: Reporter, timeout?: number, volumes = false): Promise<void> {
  if (isRunning(c)) {
    r.progress('Container', displayName(c), 'Stopping');
    await engine.stopContainer(c.Id, timeout !== undefined ? { timeout } : {});
  }
  r.progress('Container', displayName(c), 'Removing');
  await engine.removeContainer(c.Id, { force: true, volumes });
  r.progress('Container', displayName(c), 'Removed');
}

/** One service to its scale with current containers; the ones it started. */
async function converge(engine: Engine, p: Project, service: string, scale: number, opts: UpOptions, r: Reporter): Promise<string[]> {
  const s = p.services[service]!;
  if (typeof s.container_name === 'string' && scale > 1) {
    throw new BrigError('INVALID_CONFIG', `services.${service}: can't set container_name and ${service} as container name must be unique`, { field: `services.${service}.container_name` });
  }
  const image = await ensureImage(engine, p, service, r);
  const existing = await projectContainers(engine, p.name, { services: [service] });
  const started: string[] = [];
  for (const c of existing.filter((x) => containerNumber(x) > scale || containerNumber(x) < 1)) await removeContainer(engine, c, r);
  for (let n = 1; n <= scale; n++) {
    let c = existing.find((x) => containerNumber(x) === n);
    const req = containerRequest(p, service, n, { warn: () => undefined, imageId: image });
    if (c && (opts.forceRecreate || c.Labels[LABEL.configHash] !== req.request.Labels![LABEL.configHash] || c.Labels[LABEL.image] !== image)) {
      r.progress('Container', displayName(c), 'Recreate');
      await removeContainer(engine, c, r);
      c = undefined;
    }
    let id = c?.Id;
    let name = c ? displayName(c) : '';
    if (!c) {
      name = req.name;
      r.progress('Container', name, 'Creating');
      const made = await engine.createContainer(req.request, { name: req.name });
      for (const w of made.Warnings) r.warn(w);
      id = made.Id;
      r.progress('Container', name, 'Created');
    }
    if (!opts.noStart && !(c && isRunning(c))) {
      r.progress('Container', name, 'Starting');
      await engine.startContainer(id!);
      r.progress('Container', name, 'Started');
      started.push(id!);
    } else if (c) r.progress('Container', name, isRunning(c) ? 'Running' : 'Created');
  }
  return started;
}

/**
 * Until the service's containers run and, with a health check, are healthy (--wait); a
 * container that exits fails it (one that exits 0 where a dependant waits for completion
 * does not).
 */
async function awaitHealthy(engine: Engine, p: Project, services: string[], signal?: AbortSignal): Promise<void> {
  for (const c of await projectContainers(engine, p.name, { services })) {
    for (;;) {
      signal?.throwIfAborted();
      const j = await engine.inspectContainer(c.Id);
      if (!j.State.Running) {
        if (j.State.ExitCode === 0) break;
        throw new BrigError('DEPENDENCY_FAILED', `container ${displayName(c)} exited (${j.State.ExitCode})`, { field: 'SERVICE' });
      }
      const h = j.State.Health?.Status;
      if (h === undefined || h === 'healthy') break;
      if (h === 'unhealthy') throw new BrigError('DEPENDENCY_FAILED', `container ${displayName(c)} is unhealthy`, { field: 'SERVICE' });
      await sleep(200);
    }
  }
}

export async function up(engine: Engine, p: Project, opts: UpOptions, r: Reporter): Promise<string[]> {
  const wanted = opts.services?.length ? opts.services : Object.keys(p.services);
  const order = dependencyOrder(p, wanted);
  for (const s of Object.keys(opts.scale ?? {})) if (!p.services[s]) throw new BrigError('INVALID_ARGUMENT', `--scale: no such service: ${s}`, { field: '--scale' });
  preflight(p, order, r.warn);
  await buildImages(engine, p, await servicesToBuild(engine, p, order, opts), { ...(opts.buildFlags ? { flags: opts.buildFlags } : {}), ...(opts.signal ? { signal: opts.signal } : {}) }, r);
  await ensureNetworks(engine, p, order, r);
  await ensureVolumes(engine, p, order, r);
  const orphans = (await projectContainers(engine, p.name)).filter((c) => !p.services[c.Labels[LABEL.service] ?? ''] && !p.disabled[c.Labels[LABEL.service] ?? '']);
  if (orphans.length) {
    if (opts.removeOrphans) for (const c of orphans) await removeContainer(engine, c, r);
    else r.warn(`Found orphan containers (${orphans.map(displayName).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  // Each service as soon as its dependencies are up and meet their conditions (compose v2's
  // InDependencyOrder): services that do not wait on each other are made at the same time.
  const done = new Map<string, Promise<string[]>>();
  const bringUp = async (service: string): Promise<string[]> => {
    const deps = Object.entries((p.services[service]!.depends_on ?? {}) as Record<string, Dict>).filter(([d]) => p.services[d]);
    await Promise.all(deps.map(([d]) => done.get(d)));
    if (!opts.noStart) {
      for (const [dep, c] of deps) {
        try {
          await awaitCondition(engine, p, service, dep, String(c.condition ?? 'service_started'), opts.signal);
        } catch (e) {
          // required: false — compose goes on without the dependency, saying so.
          if (c.required !== false || !(e instanceof BrigError) || e.code !== 'DEPENDENCY_FAILED') throw e;
          r.warn(`optional dependency "${dep}" of "${service}" failed: ${e.message}`);
        }
      }
    }
    return converge(engine, p, service, opts.scale?.[service] ?? serviceScale(p.services[service]!), opts, r);
  };
  // Dependencies come first in `order`, so each one's promise is there when a dependant asks.
  for (const s of order) done.set(s, bringUp(s));
  // Every service settles before up returns (none is left half made); the first failure in
  // dependency order is the one reported.
  const results = await Promise.allSettled(done.values());
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  const started = results.flatMap((x) => (x.status === 'fulfilled' ? x.value : []));
  if (opts.wait) await awaitHealthy(engine, p, order, opts.signal);
  return started;
}

export interface DownOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
  timeout?: number;
}

/** The project's containers, networks and (with volumes) volumes; what is external stays. */
export async function down(engine: Engine, p: Project, opts: DownOptions, r: Reporter): Promise<void> {
  const all = await projectContainers(engine, p.name, { oneoff: true });
  const known = (c: ContainerSummary) => Boolean(p.services[c.Labels[LABEL.service] ?? ''] || p.disabled[c.Labels[LABEL.service] ?? '']);
  const orphans = all.filter((c) => !known(c));
  if (orphans.length && !opts.removeOrphans) r.warn(`Found orphan containers (${orphans.map(displayName).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  // Dependants first, as compose stops them; the containers of one level at once (a
  // program that ignores SIGTERM costs its grace period once per level, not per container).
  const level = dependencyLevels(p);
  const rank = (c: ContainerSummary) => level.get(c.Labels[LABEL.service] ?? '') ?? Number.MAX_SAFE_INTEGER;
  const doomed = all.filter((c) => known(c) || opts.removeOrphans);
  for (const l of [...new Set(doomed.map(rank))].sort((a, b) => b - a)) {
    await Promise.all(doomed.filter((c) => rank(c) === l).map((c) => removeContainer(engine, c, r, opts.timeout, opts.volumes === true)));
  }
  // What the file declares external stays even when it carries this project's label (made
  // by an earlier project of the same name, then declared external), as docker compose skips it.
  const externalNets = new Set(Object.keys(p.networks).filter((k) => isExternal(p.networks[k]!)).map((k) => networkName(p, k)));
  const externalVols = new Set(Object.keys(p.volumes).filter((k) => isExternal(p.volumes[k]!)).map((k) => volumeName(p, k)));
  const nets = (await engine.listNetworks({ filters: { label: [`${LABEL.project}=${p.name}`] } })).filter((n) => !externalNets.has(n.Name));
  for (const n of nets) {
    r.progress('Network', n.Name, 'Removing');
    await engine.removeNetwork(n.Id);
    r.progress('Network', n.Name, 'Removed');
  }
  if (opts.volumes) {
    const vols = await engine.listVolumes({ filters: { label: [`${LABEL.project}=${p.name}`] } });
    for (const v of vols.Volumes.filter((x) => !externalVols.has(x.Name))) {
      r.progress('Volume', v.Name, 'Removing');
      await engine.removeVolume(v.Name);
      r.progress('Volume', v.Name, 'Removed');
    }
  }
}
