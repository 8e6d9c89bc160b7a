/**
 * A service's `build:` as the engine's builder takes it (Engine.buildImage), as docker
 * compose v2 makes the request (pkg/compose/build.go):
 *
 *   image    the service's `image:`, else PROJECT-SERVICE; build.tags are more names for it
 *   context  a directory (relative to the file that declared it, made absolute by normalize.ts)
 *   file     build.dockerfile, relative to the context (or absolute); a Dockerfile outside the
 *            context is read here and sent as text with its NAME.dockerignore, as `brig build -f`
 *            does; build.dockerfile_inline is the text itself
 *   args     build.args, then --build-arg over them; a bare name takes the project's
 *            environment, and is left out when that has none (compose's Resolve)
 *   labels   build.labels plus compose's version, project and service labels on the image
 *   target, network (default, none, host), no_cache, pull, one platform
 *
 * Everything else the Compose Specification allows under build (ssh, secrets, cache_from,
 * additional_contexts, extra_hosts, shm_size, ...) the builder does not carry out, and is
 * refused by its path before anything is built. Services whose builds are the same request
 * are built once, every name tagged on the one image.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dockerfileFor } from '../build/dockerfile-path.js';
import type { BuildImageOptions } from '../engine/engine.js';
import { BrigError } from '../errors/index.js';
import { LABEL, COMPOSE_VERSION, serviceImage } from './container-config.js';
import type { Dict } from './normalize.js';
import type { Project } from './project.js';

/** build keys carried out below. */
const CARRIED = new Set(['context', 'dockerfile', 'dockerfile_inline', 'args', 'labels', 'target', 'network', 'no_cache', 'pull', 'tags', 'platforms']);

/** What the command line adds to every build (compose build --no-cache --pull --build-arg, up --build). */
export interface BuildFlags {
  noCache?: boolean;
  pull?: boolean;
  /** --build-arg: KEY=VALUE, or KEY (from the environment). */
  args?: Record<string, string | null>;
}

export interface ServiceBuild {
  /** The services this build makes the image of. */
  services: string[];
  /** The image's name, and any more tags. */
  image: string;
  context: { dir: string };
  options: BuildImageOptions;
}

function unsupported(field: string, why = 'not supported by brig compose (brig\'s builder does not carry it out)'): BrigError {
  return new BrigError('UNSUPPORTED_FIELD', `${field}: ${why}`, { field, hint: 'remove it, or build the image with docker buildx and give the service an image' });
}

function bad(field: string, why: string): BrigError {
  return new BrigError('INVALID_CONFIG', `${field}: ${why}`, { field });
}

/** compose's boolean-or-string fields ("true", "1"). */
function flag(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'yes'].includes(v.toLowerCase()));
}

/** One service's build request; the service must have `build:`. */
export function buildRequest(p: Project, service: string, flags: BuildFlags = {}): ServiceBuild {
  const at = `services.${service}.build`;
  const b = p.services[service]!.build as Dict;
  for (const k of Object.keys(b)) if (!CARRIED.has(k) && !k.startsWith('x-')) throw unsupported(`${at}.${k}`);
  const context = String(b.context);
  if (/^[a-z]+:\/\//.test(context) || context.startsWith('git@')) throw unsupported(`${at}.context`, `a remote context (${context}) is not supported by brig compose; give a directory`);
  if (!existsSync(context)) throw bad(`${at}.context`, `build context "${context}" not found`);
  const image = serviceImage(p, service);
  const options: BuildImageOptions = {};
  if (typeof b.dockerfile_inline === 'string') {
    if (b.dockerfile !== undefined) throw bad(`${at}.dockerfile_inline`, 'dockerfile and dockerfile_inline are mutually exclusive');
    options.dockerfileText = b.dockerfile_inline;
  } else if (typeof b.dockerfile === 'string') {
    // Relative to the context; one outside it is read here, as the docker CLI does.
    const abs = path.resolve(context, b.dockerfile);
    const found = dockerfileFor(context, abs);
    if (found === undefined) throw bad(`${at}.dockerfile`, `Dockerfile ${abs} not found`);
    if ('name' in found) options.dockerfile = found.name;
    else {
      options.dockerfileText = found.text;
      if (found.ignoreText !== undefined) options.ignoreText = found.ignoreText;
    }
  }
  // build.args, then --build-arg; a name without a value from the project's environment.
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...((b.args ?? {}) as Record<string, string | null>), ...flags.args })) {
    const value = v ?? p.environment[k];
    if (value !== undefined) args[k] = value;
  }
  if (Object.keys(args).length) options.buildArgs = args;
  options.labels = { ...((b.labels ?? {}) as Record<string, string>), [LABEL.version]: COMPOSE_VERSION, [LABEL.project]: p.name, [LABEL.service]: service };
  if (typeof b.target === 'string') options.target = b.target;
  if (b.network !== undefined) {
    const net = String(b.network);
    if (!['default', 'none', 'host'].includes(net)) throw unsupported(`${at}.network`, `"${net}": brig's builder runs RUN steps on default, none or host only`);
    options.network = net;
  }
  if (flags.noCache || flag(b.no_cache)) options.noCache = true;
  if (flags.pull || flag(b.pull)) options.pull = true;
  if (b.platforms !== undefined) {
    const list = (b.platforms as unknown[]).map(String);
    if (list.length > 1) throw unsupported(`${at}.platforms`, `one platform at a time (${list.join(', ')}): brig's builder makes single-platform images`);
    if (list[0] !== undefined) options.platform = list[0];
  }
  const tags = [image, ...((b.tags ?? []) as unknown[]).map(String)];
  options.tags = [...new Set(tags)];
  return { services: [service], image, context: { dir: context }, options };
}

/** A build's request without its names: what makes two services' builds the same build. */
function requestKey(b: ServiceBuild): string {
  const { tags: _t, labels, ...rest } = b.options;
  return JSON.stringify({ context: b.context, rest, labels: { ...labels, [LABEL.service]: '' } });
}

/**
 * The builds the given services need, one per distinct request: services whose builds are
 * the same request are built once, the image tagged with each one's name (the image's
 * service label is the first one's); two different builds of one image name are an error.
 */
export function planBuilds(p: Project, services: string[], flags: BuildFlags = {}): ServiceBuild[] {
  const out: ServiceBuild[] = [];
  const byKey = new Map<string, ServiceBuild>();
  const byImage = new Map<string, ServiceBuild>();
  for (const s of services) {
    if (p.services[s]!.build === undefined) continue;
    const b = buildRequest(p, s, flags);
    const key = requestKey(b);
    const named = byImage.get(b.image);
    if (named && requestKey(named) !== key) throw bad(`services.${s}.build`, `image ${b.image} is also built by service ${named.services[0]!}, with a different build`);
    const same = byKey.get(key);
    if (same) {
      same.services.push(s);
      same.options.tags = [...new Set([...same.options.tags!, ...b.options.tags!])];
    } else {
      byKey.set(key, b);
      out.push(b);
    }
    byImage.set(b.image, same ?? b);
  }
  return out;
}
