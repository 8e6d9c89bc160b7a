/**
 * HTTP for the registry client, on node:http/https: keep-alive agents, redirects (blob
 * downloads are often redirected to object storage, and the Authorization header must
 * not follow them to another host), retries with exponential backoff on transient
 * failures (5xx, 429 with Retry-After, connection resets), and errors that name the
 * registry and repository but never carry credentials, tokens or signed query strings.
 */
import * as http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrigError } from '../../errors/index.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** A body, or a function producing it afresh for each attempt. */
  body?: Uint8Array | (() => AsyncIterable<Uint8Array>);
  /** Follow redirects (default true for GET/HEAD). */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  url: URL;
  body: IncomingMessage;
}

export interface RetryPolicy {
  /** Attempts in total, including the first. Default 5. */
  attempts: number;
  /** First backoff delay; doubled each time, with jitter. Default 250 ms. */
  baseDelayMs: number;
  /** Longest single wait (Retry-After included). Default 10 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

// Made at the first request: a verb that never talks to a registry loads no http or tls.
let agents: { http: http.Agent; https: https.Agent } | undefined;
function agentFor(url: URL): http.Agent {
  agents ??= { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) };
  return url.protocol === 'https:' ? agents.https : agents.http;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A URL safe to show: no user info, no query (upload state and signed URLs live there). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export function isTransient(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  return e instanceof Error && /socket hang up|aborted/.test(e.message) && !(e.name === 'AbortError');
}

function once(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = req.url.protocol === 'https:' ? https : http;
    const r = mod.request(
      req.url,
      {
        method: req.method,
        headers: req.headers,
        agent: agentFor(req.url),
        signal,
      },
      (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, url: req.url, body: res }),
    );
    r.on('error', reject);
    const body = req.body;
    if (body === undefined) {
      r.end();
    } else if (body instanceof Uint8Array) {
      r.end(body);
    } else {
      (async () => {
        for await (const chunk of body()) {
          if (!r.write(chunk)) await new Promise((ok) => r.once('drain', ok));
        }
        r.end();
      })().catch((e) => r.destroy(e as Error));
    }
  });
}

/** One request, following redirects. The response body must be consumed or destroyed. */
export async function send(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
  let current = req;
  for (let hops = 0; ; hops++) {
    const res = await once(current, signal);
    const follow = current.followRedirects ?? (current.method === 'GET' || current.method === 'HEAD');
    if (!follow || ![301, 302, 303, 307, 308].includes(res.status) || res.headers.location === undefined)
      return res;
    res.body.resume();
    if (hops >= 5) {
      throw new BrigError('REGISTRY_ERROR', `too many redirects from ${displayUrl(req.url)}`);
    }
    const next = new URL(res.headers.location, current.url);
    if (current.url.protocol === 'https:' && next.protocol !== 'https:') {
      throw new BrigError('REGISTRY_INSECURE', `${displayUrl(req.url)} redirected to plain HTTP; refused`);
    }
    const headers = { ...current.headers };
    if (next.host !== current.url.host) delete headers.Authorization;
    current = { ...current, url: next, headers };
  }
}

/** Reads a whole response body, refusing more than `max` bytes. */
export async function readBody(res: HttpResponse, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > max) {
      res.body.destroy();
      throw new BrigError(
        'REGISTRY_ERROR',
        `response from ${displayUrl(res.url)} is larger than ${max} bytes`,
      );
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

function retryAfterMs(res: HttpResponse): number | undefined {
  const v = res.headers['retry-after'];
  if (v === undefined) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return s * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

export function backoff(policy: RetryPolicy, attempt: number): number {
  const d = policy.baseDelayMs * 2 ** attempt;
  return Math.min(policy.maxDelayMs, d / 2 + Math.random() * (d / 2));
}

/**
 * Sends with retries. `onRetry` hears about each retry (the CLI shows "retrying in Ns").
 * Returns the last response when it is not transient (the caller maps status codes).
 */
export async function sendWithRetry(
  req: HttpRequest,
  opts: { policy?: RetryPolicy; signal?: AbortSignal; onRetry?: (why: string, delayMs: number) => void } = {},
): Promise<HttpResponse> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  for (let attempt = 0; ; attempt++) {
    const last = attempt + 1 >= policy.attempts;
    let res: HttpResponse;
    try {
      res = await send(req, opts.signal);
    } catch (e) {
      if (last || !isTransient(e) || opts.signal?.aborted) throw e;
      const delay = backoff(policy, attempt);
      opts.onRetry?.((e as { code?: string }).code ?? (e as Error).message, delay);
      await sleep(delay, undefined, { signal: opts.signal });
      continue;
    }
    if (
      last ||
      !(
        res.status === 429 ||
        res.status === 502 ||
        res.status === 503 ||
        res.status === 504 ||
        res.status === 500
      )
    ) {
      return res;
    }
    res.body.resume();
    const delay = Math.min(policy.maxDelayMs, retryAfterMs(res) ?? backoff(policy, attempt));
    opts.onRetry?.(`HTTP ${res.status}`, delay);
    await sleep(delay, undefined, { signal: opts.signal });
  }
}

/**
 * The registry's own error text (`{"errors":[{"code","message"}]}`), worded as docker's
 * errcode prints it ("manifest unknown: manifest unknown"): safe to show.
 */
export async function registryErrorText(res: HttpResponse): Promise<string> {
  if (res.body.readableEnded) return '';
  const raw = await readBody(res, 64 << 10).catch(() => Buffer.alloc(0));
  try {
    const v = JSON.parse(raw.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    return (v.errors ?? [])
      .map((e) => [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': '))
      .filter(Boolean)
      .join('; ');
  } catch {
    return '';
  }
}

/** Maps a failed response to a BrigError that names what was asked for. */
export async function statusError(res: HttpResponse, what: string): Promise<BrigError> {
  const detail = await registryErrorText(res);
  const suffix = detail ? ` (${detail})` : '';
  switch (res.status) {
    case 401:
      return new BrigError('REGISTRY_UNAUTHORIZED', `${what}: authentication required${suffix}`, {
        hint: 'log in to the registry (credentials come from the docker config.json), or check the user and password',
      });
    case 403:
      return new BrigError('REGISTRY_DENIED', `${what}: access denied${suffix}`, {
        hint: 'the account has no permission for this repository',
      });
    case 404:
      return new BrigError('REGISTRY_NOT_FOUND', `${what}: not found${suffix}`, {
        hint: 'check the name and tag; private repositories also answer 404 without credentials',
      });
    case 429:
      return new BrigError('REGISTRY_RATE_LIMITED', `${what}: too many requests${suffix}`, {
        hint: 'the registry rate limit was reached; wait, or log in for a higher limit',
      });
    default:
      return new BrigError('REGISTRY_ERROR', `${what}: HTTP ${res.status}${suffix}`);
  }
}
