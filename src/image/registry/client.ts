/**
 * A Docker Registry HTTP API v2 / OCI distribution client.
 *
 * Transport: HTTPS, except for registries the caller lists as insecure and loopback
 * registries (docker's rule), where HTTPS is tried first and plain HTTP used when the
 * registry does not speak TLS. The first request to a registry is `GET /v2/`, which tells
 * the scheme and the auth challenge; auth then follows the challenge (see auth.ts).
 *
 * Pull: manifests by tag or digest with every manifest media type brig reads in Accept,
 * checked against the digest asked for (or Docker-Content-Digest). Blobs stream into the
 * store's ingest area as `<hex>.partial`; a dropped connection is retried with a Range
 * request from where the partial file ends (a registry that ignores Range sends the whole
 * blob again, which is fine too), and the blob becomes visible only when its digest and
 * size match.
 *
 * Push: HEAD each blob, try a cross-repository mount when the caller knows a repository
 * on the same registry that has it, else upload — in one PUT, or in PATCH chunks when
 * `chunkSize` is set — and finally PUT the manifest.
 */
import { createReadStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import * as fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrigError, hasErrno } from '../../errors/index.js';
import { digestOf, mismatch, newHash, parseDigest, sha256 } from '../digest.js';
import { type Descriptor, INDEX_TYPES, MANIFEST_TYPES, sniffMediaType } from '../manifest.js';
import { familiarReference, formatReference, type Reference } from '../reference.js';
import type { BlobStore } from '../store/blob-store.js';
import { withLock } from '../store/lock.js';
import { basicHeader, type Challenge, fetchToken, parseChallenge, TokenCache } from './auth.js';
import { type CredentialSource, type Credentials, registryOf } from './credentials.js';
import {
  backoff,
  DEFAULT_RETRY,
  displayUrl,
  type HttpRequest,
  type HttpResponse,
  isTransient,
  type RetryPolicy,
  readBody,
  registryErrorText,
  send,
  sendWithRetry,
  statusError,
} from './http.js';

export interface ProgressEvent {
  /** What moves: a manifest or a blob (layer or config). */
  kind: 'manifest' | 'blob';
  digest: string;
  status: 'waiting' | 'downloading' | 'resuming' | 'uploading' | 'mounted' | 'exists' | 'retrying' | 'done' | 'extracting' | 'extracted';
  current: number;
  total: number;
  /** For 'retrying': why. */
  reason?: string;
}

export type ProgressFn = (e: ProgressEvent) => void;

export interface RegistryClientOptions {
  /** Where credentials come from (e.g. dockerConfigCredentials(path)). Anonymous without. */
  credentials?: CredentialSource;
  /** Registry hosts (`host:port`) allowed over plain HTTP. Loopback hosts always are. */
  insecureRegistries?: readonly string[];
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export const MANIFEST_ACCEPT = [...MANIFEST_TYPES, ...INDEX_TYPES].join(', ');
const MAX_MANIFEST = 4 << 20;

interface Endpoint {
  base: URL;
  challenge: Challenge | undefined;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Docker's rule: plain HTTP only for loopback registries and those configured as insecure. */
export function plainHttpAllowed(
  registry: string,
  insecure: ReadonlySet<string> | readonly string[] = [],
): boolean {
  const list = insecure instanceof Set ? insecure : new Set(insecure as readonly string[]);
  return list.has(registry) || isLoopback(registry);
}

export class RegistryClient {
  private readonly credentials: CredentialSource | undefined;
  private readonly insecure: Set<string>;
  private readonly policy: RetryPolicy;
  private readonly userAgent: string;
  private readonly signal: AbortSignal | undefined;
  private readonly endpoints = new Map<string, Promise<Endpoint>>();
  private readonly creds = new Map<string, Promise<Credentials | undefined>>();
  private readonly tokens = new TokenCache();
  /** Blob uploads in flight, by registry, repository and digest (see pushBlob). */
  private readonly uploads = new Map<string, Promise<'exists' | 'mounted' | 'uploaded'>>();

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.credentials = opts.credentials;
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.userAgent = opts.userAgent ?? 'brig/0.1';
    this.signal = opts.signal;
  }

  /**
   * The same client (transport, insecure registries, retries) with other credentials, for
   * one operation: what `brig serve` gets in a request's X-Registry-Auth header.
   */
  withCredentials(credentials: CredentialSource): RegistryClient {
    return new RegistryClient({ ...this.opts, credentials });
  }

  private allowHttp(registry: string): boolean {
    return plainHttpAllowed(registry, this.insecure);
  }

  private host(registry: string): string {
    return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  }

  private credsFor(registry: string): Promise<Credentials | undefined> {
    let c = this.creds.get(registry);
    if (c === undefined) {
      c = this.credentials?.(registry) ?? Promise.resolve(undefined);
      this.creds.set(registry, c);
    }
    return c;
  }

  private endpoint(registry: string): Promise<Endpoint> {
    let e = this.endpoints.get(registry);
    if (e === undefined) {
      e = this.ping(registry);
      this.endpoints.set(registry, e);
      e.catch(() => this.endpoints.delete(registry));
    }
    return e;
  }

  private async ping(registry: string): Promise<Endpoint> {
    const schemes = this.allowHttp(registry) ? ['https:', 'http:'] : ['https:'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}//${this.host(registry)}/v2/`);
      try {
        const res = await sendWithRetry(
          { method: 'GET', url: base, headers: { 'User-Agent': this.userAgent } },
          {
            policy: {
              ...this.policy,
              attempts: scheme === 'https:' && schemes.length > 1 ? 1 : this.policy.attempts,
            },
            signal: this.signal,
          },
        );
        res.body.resume();
        return {
          base,
          challenge: res.status === 401 ? parseChallenge(res.headers['www-authenticate']) : undefined,
        };
      } catch (e) {
        if (this.signal?.aborted) throw e;
        lastErr = e;
      }
    }
    throw new BrigError(
      'REGISTRY_ERROR',
      `cannot reach registry ${registry}: ${(lastErr as Error).message}`,
      {
        cause: lastErr,
        hint: this.allowHttp(registry)
          ? undefined
          : 'if this registry serves plain HTTP, configure it as an insecure registry',
      },
    );
  }

  private async authHeader(
    registry: string,
    ep: Endpoint,
    scopes: string[],
    fresh: boolean,
  ): Promise<string | undefined> {
    const ch = ep.challenge;
    if (ch === undefined) return undefined;
    const creds = await this.credsFor(registry);
    if (ch.scheme === 'basic') return creds?.username !== undefined ? basicHeader(creds) : undefined;
    const key = `${registry}\n${scopes.join(' ')}`;
    if (!fresh) {
      const t = this.tokens.get(key);
      if (t !== undefined) return `Bearer ${t}`;
    }
    const { token, expiresIn } = await fetchToken(ch, scopes, creds, {
      policy: this.policy,
      signal: this.signal,
      allowHttp: this.allowHttp(registry),
    });
    this.tokens.set(key, token, expiresIn);
    return `Bearer ${token}`;
  }

  /**
   * docker login's check (POST /auth): `GET /v2/` tells the challenge; then it is asked again
   * with the credentials — as Basic, or with a token the realm gives for them (no scope,
   * offline: a refresh token to keep comes back if the token server hands one out). A
   * registry that asks for nothing lets anyone in, as docker says too.
   */
  async login(server: string, creds: Credentials, opts: { signal?: AbortSignal } = {}): Promise<{ identityToken?: string }> {
    const registry = registryOf(server);
    const ep = await this.ping(registry);
    const ch = ep.challenge;
    if (ch === undefined) return {};
    const headers: Record<string, string> = { 'User-Agent': this.userAgent };
    let identityToken: string | undefined;
    if (ch.scheme === 'basic') {
      headers.Authorization = basicHeader(creds);
    } else {
      const t = await fetchToken(ch, [], creds, {
        policy: this.policy,
        signal: opts.signal ?? this.signal,
        allowHttp: this.allowHttp(registry),
        offline: true,
      }).catch(async (e: unknown) => {
        if ((e as BrigError).code !== 'REGISTRY_UNAUTHORIZED') throw e;
        throw new BrigError('REGISTRY_UNAUTHORIZED', `Get "${displayUrl(ep.base)}": unauthorized: incorrect username or password`, { cause: e });
      });
      headers.Authorization = `Bearer ${t.token}`;
      identityToken = t.refreshToken;
    }
    const res = await sendWithRetry({ method: 'GET', url: ep.base, headers }, { policy: this.policy, signal: opts.signal ?? this.signal });
    res.body.resume();
    if (res.status !== 200) {
      throw new BrigError(
        res.status === 401 ? 'REGISTRY_UNAUTHORIZED' : 'REGISTRY_ERROR',
        `login attempt to ${displayUrl(ep.base)} failed with status: ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd(),
        res.status === 401 ? { hint: 'check the user name and password' } : {},
      );
    }
    return identityToken === undefined ? {} : { identityToken };
  }

  /** Sends a request to `path` (relative to /v2/) or an absolute URL, authenticating as needed. */
  private async request(
    ref: Reference,
    scopes: string[],
    req: Omit<HttpRequest, 'url'> & { path?: string; url?: URL; signal?: AbortSignal },
    retry = true,
  ): Promise<HttpResponse> {
    const signal = req.signal ?? this.signal;
    const ep = await this.endpoint(ref.registry);
    const url = req.url ?? new URL(req.path!, ep.base);
    if (url.protocol === 'http:' && !this.allowHttp(ref.registry)) {
      throw new BrigError('REGISTRY_INSECURE', `refusing plain HTTP to ${displayUrl(url)}`);
    }
    const go = async (fresh: boolean) => {
      const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...req.headers };
      const auth = await this.authHeader(ref.registry, ep, scopes, fresh);
      if (auth !== undefined) headers.Authorization = auth;
      const { signal: _s, path: _p, ...rest } = req;
      const r: HttpRequest = { ...rest, url, headers };
      return retry ? sendWithRetry(r, { policy: this.policy, signal }) : send(r, signal);
    };
    let res = await go(false);
    if (res.status === 401) {
      const ch = parseChallenge(res.headers['www-authenticate']);
      const had = ep.challenge;
      if (ch !== undefined && (had === undefined || ch.scheme === 'bearer')) {
        res.body.resume();
        ep.challenge = ch;
        res = await go(true);
      }
    }
    return res;
  }

  private scope(ref: Reference, actions: string): string {
    return `repository:${ref.repository}:${actions}`;
  }

  /** Fetches a manifest or index by tag or digest, verifying its digest. */
  async getManifest(ref: Reference, opts: { signal?: AbortSignal } = {}): Promise<FetchedManifest> {
    const what = `manifest ${formatReference(ref)}`;
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    opts.signal?.throwIfAborted();
    const res = await this.request(ref, [this.scope(ref, 'pull')], {
      method: 'GET',
      path: `${ref.repository}/manifests/${tagOrDigest}`,
      headers: { Accept: MANIFEST_ACCEPT },
      signal: opts.signal,
    });
    if (res.status === 404) {
      // docker's words: "manifest for busybox:nope not found: manifest unknown: manifest unknown".
      const detail = (await registryErrorText(res)) || 'manifest unknown';
      throw new BrigError('REGISTRY_NOT_FOUND', `manifest for ${familiarReference(ref)} not found: ${detail}`, {
        hint: 'check the name and tag; private repositories also answer 404 without credentials',
      });
    }
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, MAX_MANIFEST);
    const actual = sha256(bytes);
    if (ref.digest !== undefined && actual !== ref.digest) throw mismatch(what, ref.digest, actual);
    const header = res.headers['docker-content-digest'];
    if (
      ref.digest === undefined &&
      typeof header === 'string' &&
      header.startsWith('sha256:') &&
      header !== actual
    ) {
      throw mismatch(what, header, actual);
    }
    const contentType = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const mediaType = [...MANIFEST_TYPES, ...INDEX_TYPES].includes(contentType)
      ? contentType
      : (sniffMediaType(bytes) ?? contentType);
    if (![...MANIFEST_TYPES, ...INDEX_TYPES].includes(mediaType)) {
      throw new BrigError('INVALID_MANIFEST', `${what}: unsupported media type "${mediaType}"`, {
        hint: 'schema1 manifests are deprecated and not supported',
      });
    }
    return { bytes, mediaType, digest: actual };
  }

  /** A small blob (an image config) read into memory, checked against its descriptor. */
  async getBlob(ref: Reference, desc: Descriptor, opts: { signal?: AbortSignal } = {}): Promise<Buffer> {
    const what = `blob ${desc.digest} of ${ref.registry}/${ref.repository}`;
    if (desc.size > MAX_MANIFEST) throw new BrigError('INVALID_MANIFEST', `${what}: ${desc.size} bytes is over the limit of ${MAX_MANIFEST}`);
    const res = await this.request(ref, [this.scope(ref, 'pull')], { method: 'GET', path: `${ref.repository}/blobs/${desc.digest}`, signal: opts.signal });
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, MAX_MANIFEST);
    const actual = sha256(bytes);
    if (actual !== desc.digest) throw mismatch(what, desc.digest, actual);
    return bytes;
  }

  /**
   * The repository's tags (GET /v2/<name>/tags/list), following the registry's `Link`
   * pages. A repository the registry does not know is REGISTRY_NOT_FOUND.
   */
  async listTags(ref: Reference, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    const what = `tags of ${ref.registry}/${ref.repository}`;
    const tags: string[] = [];
    let path: string | undefined = `${ref.repository}/tags/list`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= 1000) throw new BrigError('REGISTRY_ERROR', `${what}: more than 1000 pages`);
      const res = await this.request(ref, [this.scope(ref, 'pull')], { method: 'GET', path, signal: opts.signal });
      if (res.status !== 200) throw await statusError(res, what);
      let body: { tags?: unknown };
      try {
        body = JSON.parse((await readBody(res, MAX_MANIFEST)).toString('utf8')) as { tags?: unknown };
      } catch {
        throw new BrigError('REGISTRY_ERROR', `${what}: the registry sent malformed JSON`);
      }
      if (body.tags !== null && body.tags !== undefined && !(Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string'))) {
        throw new BrigError('REGISTRY_ERROR', `${what}: "tags" is not a list of strings`);
      }
      tags.push(...((body.tags as string[] | null | undefined) ?? []));
      // RFC 5988: Link: </v2/name/tags/list?n=100&last=x>; rel="next" (relative to the registry).
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      path = undefined;
      if (link !== null) {
        const next = new URL(link[1]!, res.url);
        if (next.host !== res.url.host) throw new BrigError('REGISTRY_ERROR', `${what}: the next page is on another host`);
        path = `${next.pathname.replace(/^\/v2\//, '')}${next.search}`;
      }
    }
    return tags;
  }

  /**
   * Downloads a blob into the store (no-op when it is there already). Concurrent calls
   * for one digest wait for each other (a lock file), so only one downloads it.
   */
  fetchBlob(
    ref: Reference,
    desc: Descriptor,
    blobs: BlobStore,
    opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {},
  ): Promise<void> {
    // The lock serializes downloads of one blob in this process and across processes; a
    // second caller then finds the blob stored (or resumes the partial file of one that failed).
    return withLock(`${blobs.partialPath(desc.digest)}.lock`, () => this.download(ref, desc, blobs, opts), {
      timeoutMs: 6 * 3600_000,
      signal: opts.signal ?? this.signal,
    });
  }

  private async download(
    ref: Reference,
    desc: Descriptor,
    blobs: BlobStore,
    opts: { onProgress?: ProgressFn; signal?: AbortSignal },
  ): Promise<void> {
    const progress = (status: ProgressEvent['status'], current: number, reason?: string) =>
      opts.onProgress?.({ kind: 'blob', digest: desc.digest, status, current, total: desc.size, reason });
    if ((await blobs.stat(desc.digest)) === desc.size) {
      progress('exists', desc.size);
      return;
    }
    parseDigest(desc.digest, `blob ${desc.digest}`);
    const partial = blobs.partialPath(desc.digest);
    const what = `blob ${desc.digest} of ${ref.registry}/${ref.repository}`;
    let restartedForMismatch = false;
    for (let attempt = 0; ; attempt++) {
      opts.signal?.throwIfAborted();
      // Hash what an earlier attempt (or an interrupted pull) left behind.
      let hash = newHash();
      let have = 0;
      try {
        for await (const c of createReadStream(partial)) {
          hash.update(c as Buffer);
          have += (c as Buffer).length;
        }
      } catch (e) {
        if (!hasErrno(e, 'ENOENT')) throw e;
      }
      if (have > desc.size) {
        await fs.rm(partial, { force: true });
        continue;
      }
      try {
        if (have < desc.size) {
          progress(have > 0 ? 'resuming' : 'downloading', have);
          const res = await this.request(ref, [this.scope(ref, 'pull')], {
            method: 'GET',
            path: `${ref.repository}/blobs/${desc.digest}`,
            headers: have > 0 ? { Range: `bytes=${have}-` } : {},
          });
          if (res.status === 416) {
            res.body.resume();
            await fs.rm(partial, { force: true });
            continue;
          }
          let append = false;
          if (res.status === 206) {
            const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
            append = m !== null && Number(m[1]) === have;
            if (!append) {
              res.body.destroy();
              throw new BrigError(
                'REGISTRY_ERROR',
                `${what}: registry answered a range request with the wrong range`,
              );
            }
          } else if (res.status !== 200) {
            throw await statusError(res, what);
          }
          if (!append && have > 0) {
            // The registry ignored the range and sends the whole blob: start the file over.
            hash = newHash();
            have = 0;
          }
          const fh = await fs.open(partial, append ? 'a' : 'w');
          try {
            for await (const c of res.body) {
              if (opts.signal?.aborted) {
                res.body.destroy();
                opts.signal.throwIfAborted();
              }
              const chunk = c as Buffer;
              have += chunk.length;
              if (have > desc.size) {
                res.body.destroy();
                throw new BrigError(
                  'DIGEST_MISMATCH',
                  `${what}: registry sent more than the ${desc.size} bytes declared`,
                );
              }
              hash.update(chunk);
              await fh.write(chunk);
              progress('downloading', have);
            }
          } finally {
            await fh.close();
          }
          if (have < desc.size) {
            const err = new Error(`connection ended after ${have} of ${desc.size} bytes`);
            (err as { code?: string }).code = 'ECONNRESET';
            throw err;
          }
        }
        const actual = digestOf(hash);
        if (actual !== desc.digest) {
          await fs.rm(partial, { force: true });
          if (!restartedForMismatch) {
            // A stale partial from elsewhere may be to blame: one clean retry.
            restartedForMismatch = true;
            continue;
          }
          throw mismatch(what, desc.digest, actual);
        }
        await blobs.commit(partial, actual, have, { digest: desc.digest, size: desc.size });
        progress('done', have);
        return;
      } catch (e) {
        if (!isTransient(e) || attempt + 1 >= this.policy.attempts || opts.signal?.aborted) throw e;
        const delay = backoff(this.policy, attempt);
        progress('retrying', have, (e as { code?: string }).code ?? (e as Error).message);
        await sleep(delay, undefined, { signal: opts.signal ?? this.signal });
      }
    }
  }

  /** Whether the repository has the blob. */
  async blobExists(ref: Reference, digest: string): Promise<boolean> {
    const res = await this.request(ref, [this.scope(ref, 'pull,push')], {
      method: 'HEAD',
      path: `${ref.repository}/blobs/${digest}`,
    });
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(res, `blob ${digest} in ${ref.registry}/${ref.repository}`);
  }

  /**
   * Uploads a blob from `open()` (called again on a retry). Tries a cross-repository
   * mount from `mountFrom` (a repository on the same registry) first.
   */
  async pushBlob(
    ref: Reference,
    desc: Descriptor,
    open: () => AsyncIterable<Uint8Array>,
    opts: { mountFrom?: string; chunkSize?: number; onProgress?: ProgressFn } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    // Two pushes sharing a layer (two tags of one image, say) upload it once: the second
    // waits for the first, as docker's transfer manager does. Concurrent uploads of one
    // blob to one repository also race in the registry (distribution has answered a
    // manifest PUT with "blob unknown" for a blob both were committing).
    const key = `${ref.registry}/${ref.repository}@${desc.digest}`;
    const inFlight = this.uploads.get(key);
    if (inFlight) {
      const done = await inFlight.catch(() => undefined);
      if (done !== undefined) {
        opts.onProgress?.({ kind: 'blob', digest: desc.digest, status: 'exists', current: desc.size, total: desc.size });
        return 'exists';
      }
      // The first attempt failed: this push tries for itself.
    }
    const upload = this.uploadBlob(ref, desc, open, opts);
    this.uploads.set(key, upload);
    try {
      return await upload;
    } finally {
      if (this.uploads.get(key) === upload) this.uploads.delete(key);
    }
  }

  private async uploadBlob(
    ref: Reference,
    desc: Descriptor,
    open: () => AsyncIterable<Uint8Array>,
    opts: { mountFrom?: string; chunkSize?: number; onProgress?: ProgressFn },
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    const what = `blob ${desc.digest} to ${ref.registry}/${ref.repository}`;
    const progress = (status: ProgressEvent['status'], current: number) =>
      opts.onProgress?.({ kind: 'blob', digest: desc.digest, status, current, total: desc.size });
    if (await this.blobExists(ref, desc.digest)) {
      progress('exists', desc.size);
      return 'exists';
    }
    const scopes = [this.scope(ref, 'pull,push')];
    let path = `${ref.repository}/blobs/uploads/`;
    if (opts.mountFrom !== undefined && opts.mountFrom !== ref.repository) {
      scopes.push(`repository:${opts.mountFrom}:pull`);
      path += `?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
    }
    const start = await this.request(ref, scopes, {
      method: 'POST',
      path,
      headers: { 'Content-Length': '0' },
    });
    start.body.resume();
    if (start.status === 201) {
      progress('mounted', desc.size);
      return 'mounted';
    }
    if (start.status !== 202) throw await statusError(start, `starting upload of ${what}`);
    let location = this.location(start, what);
    progress('uploading', 0);
    if (opts.chunkSize === undefined || desc.size <= opts.chunkSize) {
      const url = withDigest(location, desc.digest);
      const res = await this.request(
        ref,
        scopes,
        {
          method: 'PUT',
          url,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
          body: open,
        },
        false,
      );
      if (res.status !== 201) throw await statusError(res, `uploading ${what}`);
      res.body.resume();
    } else {
      let offset = 0;
      for await (const chunk of rechunk(open(), opts.chunkSize)) {
        const res = await this.request(
          ref,
          scopes,
          {
            method: 'PATCH',
            url: location,
            headers: {
              'Content-Type': 'application/octet-stream',
              'Content-Length': String(chunk.length),
              'Content-Range': `${offset}-${offset + chunk.length - 1}`,
            },
            body: chunk,
          },
          false,
        );
        if (res.status !== 202) throw await statusError(res, `uploading a chunk of ${what}`);
        res.body.resume();
        location = this.location(res, what);
        offset += chunk.length;
        progress('uploading', offset);
      }
      const res = await this.request(
        ref,
        scopes,
        { method: 'PUT', url: withDigest(location, desc.digest), headers: { 'Content-Length': '0' } },
        false,
      );
      if (res.status !== 201) throw await statusError(res, `finishing upload of ${what}`);
      res.body.resume();
    }
    progress('done', desc.size);
    return 'uploaded';
  }

  private location(res: HttpResponse, what: string): URL {
    const loc = res.headers.location;
    if (loc === undefined) throw new BrigError('REGISTRY_ERROR', `${what}: registry sent no upload location`);
    const url = new URL(loc, res.url);
    if (url.host !== res.url.host && url.protocol !== 'https:') {
      throw new BrigError(
        'REGISTRY_INSECURE',
        `${what}: upload location ${displayUrl(url)} is plain HTTP on another host`,
      );
    }
    return url;
  }

  /** Uploads a manifest under the reference's tag (or digest). Returns its digest. */
  async putManifest(ref: Reference, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = sha256(bytes);
    const res = await this.request(ref, [this.scope(ref, 'pull,push')], {
      method: 'PUT',
      path: `${ref.repository}/manifests/${ref.tag ?? digest}`,
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200)
      throw await statusError(res, `manifest ${formatReference(ref)}`);
    res.body.resume();
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header !== digest)
      throw mismatch(`pushed manifest ${formatReference(ref)}`, digest, header);
    return digest;
  }
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let buf: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    let chunk = Buffer.from(c);
    while (n + chunk.length >= size) {
      const take = size - n;
      buf.push(chunk.subarray(0, take));
      yield Buffer.concat(buf);
      buf = [];
      n = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      buf.push(chunk);
      n += chunk.length;
    }
  }
  if (n > 0) yield Buffer.concat(buf);
}
