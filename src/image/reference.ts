/**
 * Image references, normalised the way docker does (distribution/reference):
 *
 *   busybox                      -> docker.io/library/busybox:latest
 *   user/app:1.0                 -> docker.io/user/app:1.0
 *   localhost:5000/a/b:tag       -> localhost:5000/a/b:tag
 *   quay.io/x/y@sha256:<64 hex>  -> quay.io/x/y@sha256:<64 hex>   (no default tag with a digest)
 *
 * The first path component is a registry host when it contains a `.` or a `:`, or is
 * `localhost`; otherwise the image lives on Docker Hub. `index.docker.io` is an alias of
 * `docker.io`, and one-component Hub names live under `library/`.
 */
import { BrigError } from '../errors/index.js';
import { parseDigest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;

// One path component: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// A host: DNS labels joined by dots, or a bracketed IPv6 address; then an optional port.
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX64 = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/busybox`. */
  readonly repository: string;
  /** Tag; undefined when only a digest was given. */
  readonly tag: string | undefined;
  /** `sha256:<hex>` when the reference pins content. */
  readonly digest: string | undefined;
}

/** docker's wording (distribution/reference), with what exactly is wrong in the hint. */
function invalid(input: string, why: string, hint?: string): BrigError {
  return new BrigError('INVALID_REFERENCE', 'invalid reference format', {
    field: 'reference',
    hint: `"${input}": ${why}${hint ? `; ${hint}` : ''}`,
  });
}

/**
 * Parses and normalises a reference. A name without tag or digest gets `latest`
 * (pass `{ defaultTag: false }` to keep it name-only, e.g. for `brig image ls NAME`).
 * Errors are worded as docker's ParseNormalizedNamed words them ("invalid reference
 * format", "... repository name (library/Busybox) must be lowercase").
 */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): Reference {
  if (HEX64.test(input)) {
    throw new BrigError('INVALID_REFERENCE', `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`, {
      field: 'reference',
      hint: 'a 64-character hexadecimal string is an image ID, not a repository name',
    });
  }
  if (input.length === 0) throw invalid(input, 'empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      digest = parseDigest(d).digest;
    } catch (e) {
      throw invalid(input, `bad digest "${d}"`, (e as BrigError).hint);
    }
  }
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // docker's splitDockerDomain: a host has a "." or ":", is localhost, or is not lowercase.
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  // The repository part, up to a tag: docker refuses capitals there before anything else.
  const remote = path.split(':')[0]!;
  if (remote !== remote.toLowerCase()) {
    throw new BrigError('INVALID_REFERENCE', `invalid reference format: repository name (${remote}) must be lowercase`, {
      field: 'reference',
    });
  }
  if (!DOMAIN.test(registry)) throw invalid(input, `bad registry host "${registry}"`);
  let tag: string | undefined;
  // A tag is after the last `:` that comes after the last `/` (a `:` before it is a port).
  const lastColon = path.lastIndexOf(':');
  if (lastColon > path.lastIndexOf('/')) {
    tag = path.slice(lastColon + 1);
    path = path.slice(0, lastColon);
    if (!TAG.test(tag)) {
      throw invalid(input, `bad tag "${tag}"`, 'tags are up to 128 of [A-Za-z0-9_.-], not starting with . or -');
    }
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        input,
        component === '' ? 'empty path component' : `bad path component "${component}"`,
        'components are lowercase letters and digits, joined by ".", "_", "__" or "-"',
      );
    }
  }
  const name = `${registry}/${path}`;
  if (name.length > MAX_NAME_LENGTH) {
    throw new BrigError('INVALID_REFERENCE', `repository name must not be more than ${MAX_NAME_LENGTH} characters`, { field: 'reference' });
  }
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = DEFAULT_TAG;
  return { registry, repository: path, tag, digest };
}

/** `docker.io/library/busybox` */
export function referenceName(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full normalised form: `docker.io/library/busybox:latest`, `host/a@sha256:...`. */
export function formatReference(ref: Reference): string {
  let s = referenceName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: `busybox:latest`, `user/app:1`, `localhost:5000/a:b`. */
export function familiarReference(ref: Reference): string {
  let name = referenceName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/** Normalises in one step: `busybox` -> `docker.io/library/busybox:latest`. */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/** Same registry and repository, with another tag/digest. */
export function withTagOrDigest(
  ref: Reference,
  tag: string | undefined,
  digest: string | undefined,
): Reference {
  return { registry: ref.registry, repository: ref.repository, tag, digest };
}
