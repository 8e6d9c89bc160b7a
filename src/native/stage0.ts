/**
 * Stage 0: the helper process a launch talks to, whichever way it came to exist.
 *
 *   spawned    this process started it (child_process); the control channel is a socket,
 *              its exit status is the child's.
 *   inherited  brig-runtime's launcher forked it before exec'ing Node (native/launch), so its
 *              start-up overlapped Node's; the channel is two pipes, and it writes its exit
 *              code on a third, because only the launcher's process image could wait for it.
 *   monitor    a container's monitor forked it on a socket the engine gave the monitor
 *              (stage0-monitor.ts); the monitor reaps it and reports its exit status.
 *
 * The sync protocol (native/helper.ts) is the same over all three.
 */

export interface Message {
  type: number;
  payload: Buffer;
}

export interface Stage0 {
  readonly pid: number;
  /** For --debug: how this stage 0 came to be. */
  readonly origin: 'launcher' | 'spawned' | 'monitor';
  /** Its stdin is /dev/null, not its parent's own (brig's launcher, for a run without -i). */
  readonly stdinNull?: boolean;
  /** Stage 0's exit: init's exit code when it waits for init (128+n for signal n). */
  get exit(): Promise<number>;
  /** Writes one framed message. */
  send(frame: Uint8Array): void;
  /** The next framed message; null once every holder of the other end has closed it. */
  next(): Promise<Message | null>;
  /**
   * SIGKILL stage 0, and make sure nothing waits on the channel: an init that has not
   * exec'd outlives stage 0 unless it is pid 1 of its own namespace (the runtime kills it),
   * and reads EOF instead of a next message.
   */
  kill(): void;
  /** Done talking (create: init now waits on the exec FIFO, long after this process). */
  closeChannel(): void;
}

/** Splits a byte stream into framed messages: u32 type, u32 length, payload (little-endian). */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  take(): Message | undefined {
    if (this.buf.length < 8) return undefined;
    const len = this.buf.readUInt32LE(4);
    if (this.buf.length < 8 + len) return undefined;
    const msg = { type: this.buf.readUInt32LE(0), payload: this.buf.subarray(8, 8 + len) };
    this.buf = this.buf.subarray(8 + len);
    return msg;
  }
}
