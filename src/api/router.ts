/**
 * Routes: a method and a path pattern (`/containers/{id}/json`; `{name*}` takes slashes too,
 * for image names) to a handler. Paths come with or without docker's `/v1.NN` prefix; the
 * version asked for (or the newest) is the request's, checked against what brig serves.
 */
import { API_VERSION, MIN_API_VERSION } from '../engine/api-version.js';
import type { Engine } from '../engine/engine.js';
import { badRequest } from './errors.js';
import type { Exchange } from './exchange.js';
import { Query } from './query.js';
import type { ServerState } from './state.js';

/** The newest version is served and advertised; the oldest is docker's own oldest (1.24). */
export { API_VERSION as MAX_API_VERSION, MIN_API_VERSION };

export interface RequestContext {
  engine: Engine;
  x: Exchange;
  params: Record<string, string>;
  query: Query;
  /** The API version of the request (its /v1.NN prefix, else the newest). */
  version: string;
  state: ServerState;
}

export type Handler = (c: RequestContext) => Promise<void>;

interface Route {
  method: string;
  re: RegExp;
  names: string[];
  handler: Handler;
}

/** What a resource's file gives the index: its routes, added to the router. */
export type RouteModule = (r: Router) => void;

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    const names: string[] = [];
    const source = pattern.replace(/\{(\w+)(\*?)\}/g, (_, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, re: new RegExp(`^${source}$`), names, handler });
    // HEAD is GET without the body, as in docker's router (and node:http drops the body).
    if (method === 'GET' && !this.routes.some((r) => r.method === 'HEAD' && r.re.source === `^${source}$`)) this.routes.push({ method: 'HEAD', re: new RegExp(`^${source}$`), names, handler });
  }

  /** The route for a request, or why there is none: 404 for an unknown path, 405 for a known path with another method. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { status: 404 | 405 } {
    let pathKnown = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { handler: r.handler, params };
    }
    return { status: pathKnown ? 405 : 404 };
  }
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/**
 * The version prefix taken off a path: docker's rules (api/server/middleware/version.go):
 * above the newest is 400 "client version X is too new", below the oldest 400 "too old".
 */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  if (compareVersions(version, API_VERSION) > 0) throw badRequest(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (compareVersions(version, MIN_API_VERSION) < 0) throw badRequest(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  return { version, path: m[2]! };
}
