/**
 * One request and its answer, whether it came as a plain HTTP request (answered through
 * node:http's ServerResponse) or as an upgrade (Connection: Upgrade, Upgrade: tcp: the
 * socket is ours, and any answer is written on it by hand). Routes answer JSON, a 304/204,
 * a stream, or take the connection over (hijack: attach and exec start), and never care
 * which of the two it was.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { jsonBuffer } from '../util/frozen-json.js';
import { ApiError } from './errors.js';

export function tooLarge(size: number | undefined, limit: number): ApiError {
  return new ApiError(413, `request body ${size === undefined ? '' : `of ${size} bytes `}is larger than the limit of ${limit} bytes`);
}

/** A plain request's body, with the limit checked against Content-Length first and the bytes as they come. */
async function readAll(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) {
      req.resume(); // the rest is drained, not kept
      throw tooLarge(undefined, limit);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The connection a hijacking route streams on: `out` to the client, `input` from it (null: it sends nothing). */
export interface Hijacked {
  out: Writable;
  /**
   * Paused (reading the body may have paused the socket, and a paused stream does not start
   * on a 'data' listener alone): a route resumes it once its listeners are on, so no byte
   * is read before something takes it.
   */
  input: Readable | null;
  /** Ends the exchange: the stream's end, then the connection closes. */
  end(): void;
  /** Resolves once the client has gone (closed or reset), or the exchange has ended. */
  closed: Promise<void>;
}

export interface Exchange {
  readonly req: IncomingMessage;
  /** Aborts once the client has gone: long operations (wait, logs -f, events) stop then. */
  readonly signal: AbortSignal;
  readonly answered: boolean;
  /** The request's body, whole (at most `limit` bytes: 413 beyond). */
  body(limit: number): Promise<Buffer>;
  /** A complete answer: JSON for an object, nothing for undefined (304, 204). */
  send(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** A streamed answer: the headers now (flushed), the body written as it comes, then end(). */
  stream(status: number, headers: Record<string, string>): Writable;
  /**
   * Takes the connection over with docker's raw stream (101 on an upgrade, else 200).
   * `heartbeat`: bytes the client ignores (an empty frame), written every second once the
   * client has closed its side, so that a client that has gone altogether is noticed even
   * while the process is silent (a write to it fails). docker's CLI half-closes at once
   * when it has no stdin to send, so a half-close alone does not mean it has gone.
   */
  hijack(contentType: string, heartbeat?: Buffer): Hijacked;
}

const HEARTBEAT_MS = 1000;

function jsonBody(body: unknown): Buffer {
  return jsonBuffer(body, '\n');
}

/** A plain request: node:http writes the answer. */
export class HttpExchange implements Exchange {
  // Made when a route asks for it: most answer at once and never do, and an abort costs a
  // DOMException (its reason) at every request's close.
  private ac: AbortController | undefined;
  private closed = false;
  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    // 'close' on the response: the answer went, or the client went first.
    res.once('close', () => {
      this.closed = true;
      this.ac?.abort();
    });
  }

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.closed) this.ac.abort();
    }
    return this.ac.signal;
  }

  get answered(): boolean {
    return this.res.headersSent;
  }

  body(limit: number): Promise<Buffer> {
    return readAll(this.req, limit);
  }

  send(status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (body === undefined) {
      this.res.writeHead(status, headers).end();
      return;
    }
    const text = jsonBody(body);
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(text.length), ...headers }).end(text);
  }

  stream(status: number, headers: Record<string, string>): Writable {
    this.res.writeHead(status, headers);
    this.res.flushHeaders();
    return this.res;
  }

  hijack(contentType: string, _heartbeat?: Buffer): Hijacked {
    // docker without an upgrade: 200 and the raw stream on the connection, closed at the end
    // (no chunked framing, which a raw-stream reader would take for data).
    this.res.useChunkedEncodingByDefault = false;
    this.res.shouldKeepAlive = false;
    this.res.writeHead(200, { 'Content-Type': contentType, Connection: 'close' });
    this.res.flushHeaders();
    const closed = new Promise<void>((resolve) => this.res.once('close', resolve));
    return { out: this.res, input: null, end: () => this.res.end(), closed };
  }
}

/** An upgrade: node:http has let go of the socket; answers are written on it by hand. */
export class UpgradeExchange implements Exchange {
  private readonly ac = new AbortController();
  private done = false;
  private readonly closedP: Promise<void>;
  constructor(
    readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private head: Buffer,
  ) {
    socket.on('error', () => {}); // 'close' follows
    this.closedP = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closedP.then(() => this.ac.abort());
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  get answered(): boolean {
    return this.done;
  }

  /**
   * An upgrade's body (exec start's {"Detach":false}) is not node:http's to read: it is the
   * first Content-Length bytes after the headers, in `head` and then on the socket. What
   * follows it is the stream's input.
   */
  async body(limit: number): Promise<Buffer> {
    const want = Number(this.req.headers['content-length'] ?? 0);
    if (!Number.isSafeInteger(want) || want <= 0) return Buffer.alloc(0);
    if (want > limit) throw tooLarge(want, limit);
    let got = this.head;
    while (got.length < want) {
      const chunk = await new Promise<Buffer | null>((resolve) => {
        const onData = (d: Buffer) => (cleanup(), resolve(d));
        const onEnd = () => (cleanup(), resolve(null));
        const cleanup = () => (this.socket.off('data', onData), this.socket.off('end', onEnd), this.socket.off('close', onEnd), this.socket.pause());
        this.socket.on('data', onData);
        this.socket.once('end', onEnd);
        this.socket.once('close', onEnd);
        this.socket.resume();
      });
      if (chunk === null) break;
      got = Buffer.concat([got, chunk]);
    }
    this.head = got.subarray(Math.min(want, got.length));
    return got.subarray(0, Math.min(want, got.length));
  }

  private writeHead(status: number, headers: Record<string, string>): void {
    this.done = true;
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    this.socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n`);
  }

  send(status: number, body?: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? Buffer.alloc(0) : jsonBody(body);
    this.writeHead(status, { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), 'Content-Length': String(text.length), Connection: 'close', ...headers });
    this.socket.end(text);
  }

  stream(status: number, headers: Record<string, string>): Writable {
    this.writeHead(status, { ...headers, Connection: 'close' });
    return this.socket;
  }

  hijack(contentType: string, heartbeat?: Buffer): Hijacked {
    if (heartbeat) {
      this.socket.once('end', () => {
        const t = setInterval(() => this.socket.writable && this.socket.write(heartbeat), HEARTBEAT_MS);
        void this.closedP.then(() => clearInterval(t));
      });
    }
    this.writeHead(101, { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' });
    // Bytes that came with the request, after its headers, are the first of the input.
    if (this.head.length) this.socket.unshift(this.head);
    const end = () => {
      this.socket.end();
      // The client closes its side once it has read the end; one that does not is cut off.
      setTimeout(() => this.socket.destroy(), 2000).unref();
    };
    return { out: this.socket, input: this.socket, end, closed: this.closedP };
  }
}
