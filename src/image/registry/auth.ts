/**
 * Registry authentication (the Docker token spec): a 401 carries a `WWW-Authenticate`
 * challenge. `Basic` means send the user and password with every request. `Bearer` names
 * a token server (realm), a service and a scope; the client asks the realm for a token
 * (with Basic credentials, or an OAuth2 refresh-token POST when it has an identity token,
 * or anonymously), then sends `Authorization: Bearer <token>`. Tokens are cached per scope
 * until shortly before they expire.
 */
import { BrigError } from '../../errors/index.js';
import type { Credentials } from './credentials.js';
import {
  displayUrl,
  type HttpResponse,
  type RetryPolicy,
  readBody,
  sendWithRetry,
  statusError,
} from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (the first challenge brig understands). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  re.lastIndex = 0;
  for (let x = re.exec(rest); x !== null; x = re.exec(rest)) {
    params[x[1]!.toLowerCase()] = x[2] !== undefined ? x[2].replace(/\\(.)/g, '$1') : (x[3] ?? '');
    if (re.lastIndex >= rest.length) break;
  }
  return { scheme, params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}

interface CachedToken {
  token: string;
  expires: number;
}

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  get(key: string): string | undefined {
    const t = this.tokens.get(key);
    if (t === undefined || t.expires < Date.now()) return undefined;
    return t.token;
  }

  set(key: string, token: string, expiresInS: number): void {
    this.tokens.set(key, { token, expires: Date.now() + Math.max(30, expiresInS - 30) * 1000 });
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}

/** Asks the token server for a Bearer token for `scopes`. */
export async function fetchToken(
  challenge: Challenge,
  scopes: string[],
  creds: Credentials | undefined,
  opts: { policy?: RetryPolicy; signal?: AbortSignal; allowHttp: boolean; offline?: boolean },
): Promise<{ token: string; expiresIn: number; refreshToken?: string }> {
  const realm = challenge.params.realm;
  if (realm === undefined)
    throw new BrigError('REGISTRY_ERROR', 'registry sent a Bearer challenge without a realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new BrigError('REGISTRY_ERROR', `registry token realm "${realm}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && opts.allowHttp)) {
    throw new BrigError('REGISTRY_INSECURE', `token server ${displayUrl(url)} is plain HTTP; refused`, {
      hint: 'configure the registry as insecure only if you trust the network',
    });
  }
  const service = challenge.params.service;
  let res: HttpResponse;
  if (creds?.identityToken) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: creds.identityToken,
      client_id: 'brig',
    });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    res = await sendWithRetry(
      {
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      },
      opts,
    );
  } else {
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    // docker login asks for a refresh token to keep instead of the password (the spec's offline_token).
    if (opts.offline === true) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', 'brig');
    }
    const headers: Record<string, string> = {};
    if (creds?.username !== undefined) headers.Authorization = basicHeader(creds);
    res = await sendWithRetry({ method: 'GET', url, headers }, opts);
  }
  if (res.status !== 200) throw await statusError(res, `token from ${displayUrl(url)}`);
  const body = await readBody(res, 1 << 20);
  let v: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BrigError('REGISTRY_ERROR', `token server ${displayUrl(url)} sent malformed JSON`);
  }
  const token = v.token ?? v.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new BrigError('REGISTRY_ERROR', `token server ${displayUrl(url)} sent no token`);
  }
  return {
    token,
    expiresIn: typeof v.expires_in === 'number' ? v.expires_in : 60,
    ...(typeof v.refresh_token === 'string' && v.refresh_token !== '' ? { refreshToken: v.refresh_token } : {}),
  };
}
