/**
 * docker's JSON message streams (pkg/jsonmessage over a WriteFlusher): what POST
 * /images/create, /images/{name}/push and /images/load answer with, one JSON object a line.
 * The answer starts with the first message, as docker's does, so an error before it (no such
 * image, a registry's 404) is a plain status and `{"message"}`; an error after it can only
 * be said in the stream, as docker says it: {"errorDetail":{"message":...},"error":...}.
 */
import type { Writable } from 'node:stream';
import { errorResponse } from './errors.js';
import type { Exchange } from './exchange.js';

export class JsonMessages {
  private out: Writable | undefined;
  constructor(private readonly x: Exchange) {}

  get started(): boolean {
    return this.out !== undefined;
  }

  private stream(): Writable {
    return (this.out ??= this.x.stream(200, { 'Content-Type': 'application/json' }));
  }

  write(m: object): void {
    const out = this.stream();
    // A client that went away: the work stops through the exchange's signal; nothing to say.
    if (out.destroyed || out.writableEnded) return;
    out.write(`${JSON.stringify(m)}\n`);
  }

  /** docker's error line (errorDetail, and error for older clients), then the end. */
  error(e: unknown): void {
    const { message } = errorResponse(e);
    this.write({ errorDetail: { message }, error: message });
    this.end();
  }

  end(): void {
    const out = this.stream();
    if (!out.writableEnded) out.end();
  }

  /** Runs `work` with docker's rule: an error before the first message is the request's, after it a line in the stream. */
  async run(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (!this.started) throw e;
      this.error(e);
      return;
    }
    this.end();
  }
}
