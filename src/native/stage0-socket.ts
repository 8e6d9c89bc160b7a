/**
 * A stage 0's control channel on a socket: stage 0 spawned here (stage0-spawned.ts) or forked
 * by the container's monitor on a socket this process gave it (stage0-monitor.ts). Framed
 * messages in, frames out; null once stage 0 (and init, which inherits the channel until it
 * execs) has closed its end.
 */
import type { Socket } from 'node:net';
import { hasErrno } from '../errors/index.js';
import { FrameParser, type Message, type Stage0 } from './stage0.js';

export class SocketChannel {
  private readonly parser = new FrameParser();
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly ctl: Socket) {
    const wake = () => this.wake?.();
    ctl.on('data', (d: Buffer) => {
      this.parser.push(d);
      wake();
    });
    ctl.on('end', () => {
      this.ended = true;
      wake();
    });
    ctl.on('error', (e) => {
      // Stage 0 gone before it read what was sent: the channel's end, and its exit status tells why.
      if (hasErrno(e, 'EPIPE') || hasErrno(e, 'ECONNRESET')) this.ended = true;
      else this.failure = e;
      wake();
    });
  }

  send(frame: Uint8Array): void {
    this.ctl.write(frame);
  }

  async next(): Promise<Message | null> {
    for (;;) {
      const msg = this.parser.take();
      if (msg) return msg;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }

  close(): void {
    this.ctl.destroy();
  }
}

/** A stage 0 whose channel is a socket: how it started and how its exit is known are the subclass's. */
export abstract class SocketStage0 implements Stage0 {
  abstract readonly pid: number;
  abstract readonly origin: Stage0['origin'];
  abstract get exit(): Promise<number>;
  abstract kill(): void;
  protected readonly channel: SocketChannel;

  constructor(ctl: Socket) {
    this.channel = new SocketChannel(ctl);
  }

  send(frame: Uint8Array): void {
    this.channel.send(frame);
  }

  next(): Promise<Message | null> {
    return this.channel.next();
  }

  closeChannel(): void {
    this.channel.close();
  }
}
