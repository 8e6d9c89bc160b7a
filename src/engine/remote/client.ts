/**
 * HTTP to a Docker Engine API (brig serve, or dockerd): requests on a versioned path, JSON in
 * and out, bodies streamed both ways, docker's error bodies turned back into brig's errors,
 * and hijacked connections (attach, exec start) for the raw streams.
 *
 * node:http is loaded here only: a local brig never pays for it.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BrigError, type ErrorCode } from '../../errors/index.js';
import { API_VERSION } from '../api-version.js';
import type { RemoteHost } from './host.js';

export type Query = Record<string, string | number | boolean | undefined | null | object>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body (sent with Content-Type: application/json). */
  json?: unknown;
  /** A raw body, streamed (a tar). */
  body?: AsyncIterable<Uint8Array> | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Answers the caller takes as they are (e.g. 304 for start of a running container). */
  accept?: number[];
}

/** docker's query encoding: lists as repeated keys, objects (filters) as JSON, booleans as 1/0 (what dockerd's boolValue reads). */
export function encodeQuery(q: Query = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`);
      continue;
    }
    const s = typeof v === 'object' ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** What a resource's 404/409 means in brig's codes, by the path it was asked on. */
function codeFor(status: number, pathname: string, message: string): ErrorCode {
  const resource = /^\/(?:v[\d.]+\/)?([a-z]+)/.exec(pathname)?.[1] ?? '';
  if (status === 404) {
    if (/no such image|image .* not found/i.test(message)) return 'IMAGE_NOT_FOUND';
    if (/could not find the file/i.test(message)) return 'PATH_NOT_FOUND';
    return (
      ({ containers: 'CONTAINER_NOT_FOUND', exec: 'CONTAINER_NOT_FOUND', images: 'IMAGE_NOT_FOUND', distribution: 'IMAGE_NOT_FOUND', volumes: 'VOLUME_NOT_FOUND', networks: 'NETWORK_NOT_FOUND', commit: 'CONTAINER_NOT_FOUND' } as Record<string, ErrorCode>)[
        resource
      ] ?? 'BUNDLE_NOT_FOUND'
    );
  }
  if (status === 409) {
    if (/already in use/i.test(message)) return resource === 'networks' ? 'NETWORK_EXISTS' : 'NAME_IN_USE';
    if (/already exists/i.test(message)) return resource === 'networks' ? 'NETWORK_EXISTS' : 'CONTAINER_EXISTS';
    return ({ volumes: 'VOLUME_IN_USE', images: 'IMAGE_IN_USE', networks: 'NETWORK_IN_USE' } as Record<string, ErrorCode>)[resource] ?? 'CONTAINER_STATE';
  }
  if (status === 400 || status === 500) {
    // docker's run and exec exit 127/126 on these (cli/command/container/run.go).
    if (/executable file not found|no such file or directory|not found in \$PATH/i.test(message) && /exec|start|run/i.test(message + pathname)) return 'EXEC_NOT_FOUND';
    if (/permission denied/i.test(message) && /exec|start/i.test(message + pathname)) return 'EXEC_DENIED';
  }
  if (status === 401) return 'REGISTRY_UNAUTHORIZED';
  if (status === 403) return 'REGISTRY_DENIED';
  return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
}

async function readAll(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** docker's error body ({"message": ...}) as a BrigError, its status kept for callers that look. */
async function apiError(res: IncomingMessage, pathname: string): Promise<BrigError> {
  const text = (await readAll(res)).toString('utf8');
  let message = text.trim();
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the text as it came
  }
  const status = res.statusCode ?? 500;
  return Object.assign(new BrigError(codeFor(status, pathname, message), message || `HTTP ${status}`), { status });
}

export class ApiClient {
  private readonly agent: http.Agent;
  private readonly tlsOptions: https.AgentOptions | undefined;

  constructor(
    readonly host: RemoteHost,
    readonly version = API_VERSION,
  ) {
    if (host.kind === 'tcp' && host.tls) {
      const read = (f: string, what: string) => {
        try {
          return readFileSync(f);
        } catch (e) {
          throw new BrigError('INVALID_ARGUMENT', `cannot read the TLS ${what} ${f}: ${(e as Error).message}`, { path: f, hint: 'name it with --tlscacert/--tlscert/--tlskey, or put it in BRIG_CERT_PATH' });
        }
      };
      this.tlsOptions = { ca: read(host.tls.ca, 'CA'), cert: read(host.tls.cert, 'certificate'), key: read(host.tls.key, 'key') };
      this.agent = new https.Agent({ keepAlive: true, ...this.tlsOptions });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  private path(p: string, query?: Query): string {
    return `/v${this.version}${p}${encodeQuery(query)}`;
  }

  private options(method: string, p: string, headers: Record<string, string>): http.RequestOptions {
    const base = { method, path: p, headers, agent: this.agent };
    return this.host.kind === 'unix' ? { ...base, socketPath: this.host.socketPath } : { ...base, host: this.host.host, port: this.host.port };
  }

  /** docker's CLI's words when the daemon is not there; the client's failure, not the daemon's. */
  private unreachable(e: Error): BrigError {
    return Object.assign(
      new BrigError('SYSTEM', `Cannot connect to the brig engine at ${this.host.url}. Is brig serve running? (${e.message})`, {
        hint: 'start it with `brig serve`, or unset BRIG_HOST to use the local engine',
        cause: e,
      }),
      { clientSide: true },
    );
  }

  /** The answer, its status checked (2xx, 304 and `accept` pass; others throw docker's message). */
  async request(method: string, p: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: Buffer | AsyncIterable<Uint8Array> | undefined = opts.body;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
    }
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body !== undefined) headers['Content-Type'] ??= 'application/x-tar';
    const mod = this.host.kind === 'tcp' && this.host.tls ? https : http;
    const signal = opts.signal;
    if (signal?.aborted) throw signal.reason as Error;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      // The signal ends the exchange by destroying it, without an error: a stream the caller
      // stops simply ends (node's own `signal` would destroy a pooled socket with an error
      // that no one listens for once the answer is in).
      const req = mod.request(this.options(method, this.path(p, opts.query), headers), (r) => {
        if (signal) {
          const stop = () => r.destroy();
          signal.addEventListener('abort', stop, { once: true });
          r.once('close', () => signal.removeEventListener('abort', stop));
        }
        resolve(r);
      });
      if (signal) {
        const stop = () => req.destroy(signal.reason as Error);
        signal.addEventListener('abort', stop, { once: true });
        req.once('response', () => signal.removeEventListener('abort', stop));
        req.once('close', () => signal.removeEventListener('abort', stop));
      }
      // A body that fails (the tar `load -i` reads cannot be opened) is the client's own
      // error, in its own words: not a server that cannot be reached.
      let bodyError: Error | undefined;
      req.on('error', (e: NodeJS.ErrnoException) => reject(bodyError ?? (signal?.aborted ? e : this.unreachable(e))));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else
        Readable.from(body)
          .on('error', (e) => {
            bodyError = Object.assign(e, { clientSide: true });
            req.destroy(e);
          })
          .pipe(req);
    });
    // A stream the caller stops (an aborted signal) errors after its reader has gone: not a crash.
    res.on('error', () => {});
    const status = res.statusCode ?? 500;
    if ((status >= 200 && status < 300) || status === 304 || opts.accept?.includes(status)) return res;
    // HEAD has no body to say what is missing: on an archive it is the path (the CLI found the container).
    if (method === 'HEAD' && status === 404 && /\/archive$/.test(p)) {
      res.resume();
      const where = new URLSearchParams(encodeQuery(opts.query).slice(1)).get('path') ?? '';
      throw Object.assign(new BrigError('PATH_NOT_FOUND', `Could not find the file ${where} in container ${decodeURIComponent(p.split('/')[2] ?? '')}`, { path: where }), { status });
    }
    throw await apiError(res, p);
  }

  async json<T>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, p, opts);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A request whose answer has no body the caller wants (its status checked). */
  async call(method: string, p: string, opts: RequestOptions = {}): Promise<number> {
    const res = await this.request(method, p, opts);
    res.resume();
    await new Promise((r) => res.once('end', r).once('close', r));
    return res.statusCode ?? 0;
  }

  /**
   * Takes the connection over (docker's hijack: Connection: Upgrade, Upgrade: tcp): `output`
   * carries the container's raw stream, `socket` takes what the client sends (stdin) and is
   * half-closed to say stdin ended. A server that answers 200 without upgrading streams the
   * body on the connection (dockerd does for old clients): then `output` is that body.
   */
  async hijack(method: string, p: string, opts: { query?: Query; json?: unknown } = {}): Promise<{ socket: Socket; output: Readable }> {
    const body = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}) };
    const mod = this.host.kind === 'tcp' && this.host.tls ? https : http;
    // No keep-alive agent: the connection becomes the stream's.
    const o = { ...this.options(method, this.path(p, opts.query), headers), agent: false as const, ...(this.tlsOptions ?? {}) };
    return new Promise((resolve, reject) => {
      const req = mod.request(o);
      req.on('error', (e) => reject(this.unreachable(e)));
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve({ socket, output: socket });
      });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          apiError(res, p).then(reject, reject);
          return;
        }
        resolve({ socket: res.socket as Socket, output: res });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
