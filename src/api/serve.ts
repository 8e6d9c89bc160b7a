/**
 * `brig serve`: the API on its listeners. A unix socket is made as docker makes its own
 * (no permissions while it is created, then root and the `brig` group if there is one,
 * mode 0660); TCP only with TLS that verifies client certificates, or, on a loopback address
 * alone, when the caller says --insecure-tcp. Start-up first does what dockerd does for its
 * containers (the engine's bootContainers: restart policies); SIGTERM closes the listeners
 * and the open connections and leaves every container to its monitor.
 */
import { chmodSync, chownSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import type { Engine } from '../engine/engine.js';
import { BrigError } from '../errors/index.js';
import { readTextSync } from '../util/read-text.js';
import { apiHandlers } from './server.js';

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface ServeOptions {
  /** unix:///path or tcp://addr:port (docker's -H). */
  hosts: string[];
  /** Client certificates verified against `ca` (docker's --tlsverify). */
  tls?: TlsFiles;
  /** Plain TCP on a loopback address. */
  insecureTcp?: boolean;
  /** Sets the process's umask and returns the old one (the caller's: process-wide state). */
  umask: (mask: number) => number;
  /** Where the server says what it does (stderr). */
  log: (line: string) => void;
  /** The `brig` group's gid, if it exists (the socket's group). */
  groupFile?: string;
  /** GET /_brig/memory (server.ts ApiOptions.debugMemory): off unless given. */
  debugMemory?: () => Record<string, unknown>;
}

export type Listener = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** docker's -H forms: unix:///path, tcp://host:port (host may be [v6]); a bare path is a unix socket. */
export function parseHost(h: string): Listener {
  if (h.startsWith('unix://')) {
    const p = h.slice('unix://'.length);
    if (!p.startsWith('/')) throw new BrigError('INVALID_ARGUMENT', `-H ${h}: the socket path must be absolute`, { field: '-H' });
    return { kind: 'unix', path: p };
  }
  if (h.startsWith('/')) return { kind: 'unix', path: h };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(h);
  if (!m || Number(m[2]) > 65535) throw new BrigError('INVALID_ARGUMENT', `-H ${h}: expected unix:///path or tcp://ADDR:PORT`, { field: '-H' });
  return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function groupId(name: string, file = '/etc/group'): number | undefined {
  try {
    for (const line of readTextSync(file).split('\n')) {
      const [n, , gid] = line.split(':');
      if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
    }
  } catch {}
  return undefined;
}

/** Whether something answers on a unix socket (a live server is never displaced). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function listen(server: Server, l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => (server.off('error', reject), resolve());
    if (l.kind === 'unix') server.listen(l.path, done);
    else server.listen(l.port, l.host, done);
  });
}

export interface RunningServer {
  listeners: Listener[];
  /** Stops listening, ends open connections (their streams, attached execs), removes unix sockets. */
  close(): Promise<void>;
}

export async function serve(engine: Engine, opts: ServeOptions): Promise<RunningServer> {
  const listeners = opts.hosts.map(parseHost);
  for (const l of listeners) {
    if (l.kind !== 'tcp') continue;
    if (!opts.tls && !(opts.insecureTcp && isLoopback(l.host))) {
      throw new BrigError('INVALID_ARGUMENT', `-H tcp://${l.host}:${l.port}: plain TCP would give anyone who can reach it root on this host`, {
        field: '-H',
        hint: isLoopback(l.host) ? 'use --tlsverify with --tlscacert, --tlscert and --tlskey, or --insecure-tcp (loopback only)' : 'use --tlsverify with --tlscacert, --tlscert and --tlskey',
      });
    }
  }
  const tls = opts.tls ? { ca: readFileSync(opts.tls.ca), cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } : undefined;

  const report = await engine.bootContainers();
  for (const name of report.started) opts.log(`restarted container ${name} (restart policy)`);
  for (const f of report.failed) opts.log(`could not restart container ${f.name}: ${f.error}`);
  // --rm containers are removed here at their exit, for as long as the server runs.
  const reaping = new AbortController();
  const reaper = engine.removeAtExit?.(reaping.signal, opts.log).catch((e: unknown) => opts.log(`removing --rm containers at their exit stopped: ${(e as Error).message}`));
  engine.keepListings?.();

  const api = apiHandlers(engine, {
    onError: (status, method, path, message) => status >= 500 && opts.log(`${method} ${path}: ${status} ${message}`),
    ...(opts.debugMemory ? { debugMemory: opts.debugMemory } : {}),
  });
  if (opts.debugMemory) opts.log('GET /_brig/memory answers (--debug-memory): the server\'s memory to anyone on the socket');
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const made: string[] = [];
  const gid = groupId('brig', opts.groupFile);
  try {
    for (const l of listeners) {
      const server = l.kind === 'tcp' && tls ? createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: true }) : createHttpServer();
      // Streams (logs -f, events, attach) last as long as the client wants.
      server.requestTimeout = 0;
      server.headersTimeout = 60_000;
      server.on('request', api.request);
      server.on('upgrade', api.upgrade);
      server.on('connection', (s: Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      if (l.kind === 'unix') {
        if (existsSync(l.path)) {
          if (await answers(l.path)) throw new BrigError('INVALID_ARGUMENT', `-H unix://${l.path}: another server is listening there`, { field: '-H' });
          rmSync(l.path, { force: true });
        }
        const old = opts.umask(0o777);
        try {
          await listen(server, l);
        } finally {
          opts.umask(old);
        }
        made.push(l.path);
        chownSync(l.path, 0, gid ?? 0);
        chmodSync(l.path, 0o660);
        opts.log(`API listening on ${l.path} (unix socket, mode 0660, owner root, group ${gid === undefined ? 'root: no "brig" group on this host' : `brig (${gid})`})`);
      } else {
        await listen(server, l);
        const addr = `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
        opts.log(tls ? `API listening on ${addr} (TCP with TLS, client certificates verified)` : `API listening on ${addr} (plain TCP, NOT SECURE: any local user can control brig, and so root; --insecure-tcp)`);
      }
      servers.push(server);
    }
  } catch (e) {
    for (const s of servers) s.close();
    for (const p of made) rmSync(p, { force: true });
    reaping.abort();
    await reaper;
    throw e;
  }

  return {
    listeners,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      for (const s of sockets) s.destroy();
      for (const p of made) rmSync(p, { force: true });
      // Removals under way finish; containers that exit from now on are their monitors' to remove.
      reaping.abort();
      await reaper;
    },
  };
}
