/**
 * The Docker Engine API over node:http: one handler for plain requests and upgrades alike,
 * the version prefix taken off, the route found and run, and any error answered through the
 * one table (errors.ts) as docker's `{"message": ...}`. Listening (unix socket, TCP with
 * TLS) is serve.ts's; this is the protocol only, so a test can mount it on any server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine.js';
import { errorResponse } from './errors.js';
import { type Exchange, HttpExchange, UpgradeExchange } from './exchange.js';
import { Query } from './query.js';
import { Router, splitVersion } from './router.js';
import { ROUTES } from './routes/index.js';
import { ServerState } from './state.js';

export interface ApiHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  state: ServerState;
}

export interface ApiOptions {
  /** Called with every failed request's status (500s are the ones worth a log line). */
  onError?: (status: number, method: string, path: string, message: string) => void;
  /**
   * GET /_brig/memory answers with this (the server's memory, after a collection where the
   * process allows one) and the server's own tables: for soak tests, never on by default, as
   * it tells anyone on the socket about the server's insides. docker has no such endpoint.
   */
  debugMemory?: () => Record<string, unknown>;
}

export function apiHandlers(engine: Engine, opts: ApiOptions = {}): ApiHandlers {
  const router = new Router();
  for (const add of ROUTES) add(router);
  const state = new ServerState();
  const probe = opts.debugMemory;
  if (probe) router.add('GET', '/_brig/memory', async ({ x }) => x.send(200, { ...probe(), server: state.counts() }));

  async function handle(x: Exchange): Promise<void> {
    const url = new URL(x.req.url ?? '/', 'http://brig');
    const method = x.req.method ?? 'GET';
    try {
      const { version, path } = splitVersion(url.pathname);
      const found = router.match(method, path);
      if ('status' in found) {
        x.send(found.status, { message: found.status === 404 ? `page not found` : `method ${method} not allowed for ${path}` });
        return;
      }
      await found.handler({ engine, x, params: found.params, query: new Query(url.searchParams), version, state });
    } catch (e) {
      const { status, message } = errorResponse(e);
      opts.onError?.(status, method, url.pathname, message);
      if (!x.answered) x.send(status, { message });
      else if (!x.req.socket.destroyed) x.req.socket.destroy(); // mid-stream: nothing better to say
    }
  }

  return {
    state,
    request: (req, res) => void handle(new HttpExchange(req, res)),
    upgrade: (req, socket, head) => void handle(new UpgradeExchange(req, socket, head)),
  };
}
