/**
 * Stage 0 forked by brig-runtime's launcher before it exec'd Node (native/launch/launch.c).
 *
 * The launcher leaves both ends of three pipes open in this process, inheritable. Reopening
 * the ends kept through /proc/self/fd gives close-on-exec descriptors (Node opens every file
 * so), and closing the originals leaves nothing a hook or other child could inherit. Holding
 * both ends until the reopen is what keeps it from blocking on a missing reader or writer.
 */
import { closeSync, read, writeSync } from 'node:fs';
import { hasErrno } from '../errors/index.js';
import { procStat } from '../util/proc-stat.js';
import { takeInheritedPipes } from './inherited-pipes.js';
import { FrameParser, type Message, type Stage0 } from './stage0.js';

const ENV = '_BRIG_STAGE0';

/**
 * Takes the launcher's stage 0 from the environment (inherited-pipes.ts): its plan pipe
 * (written here), its messages and its status (read here), and (brig's launcher) whether its
 * stdin is /dev/null. undefined when there is none or it does not check out.
 */
export function takeInheritedStage0(env: NodeJS.ProcessEnv = process.env): InheritedStage0 | undefined {
  const taken = takeInheritedPipes(env, ENV, ['w', 'r', 'r'], 1);
  if (!taken) return undefined;
  const [to, from, status] = taken.fds as [number, number, number];
  return new InheritedStage0(taken.pid, to, from, status, taken.extra[0] === 1);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Reads fd to its end in the thread pool (the fds are blocking; Node's loop never waits on them). */
function readChunk(fd: number, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.allocUnsafe(size);
    read(fd, buf, 0, size, null, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n))));
  });
}

export class InheritedStage0 implements Stage0 {
  readonly origin = 'launcher';
  private exitRead: Promise<number> | undefined;
  private readonly parser = new FrameParser();
  private ended = false;
  private toOpen = true;
  private fromOpen = true;
  /** A thread-pool read on `from` is in flight: closing it now could hand its number to another file. */
  private reading = false;
  private closing = false;

  constructor(
    readonly pid: number,
    private readonly to: number,
    private readonly from: number,
    private readonly status: number,
    /** Its stdin is /dev/null, not this process's (brig's launcher, for a run without -i). */
    readonly stdinNull = false,
  ) {
    // A read blocked in the thread pool holds up this process's exit (libuv joins its
    // threads): a stage 0 still alive then is killed, so every read here comes back.
    // Until it is reaped (never, by this process) its pid cannot be reused.
    process.once('exit', () => this.kill());
  }

  /** Read on first use: a stage 0 that is never waited for must not tie up a thread. */
  get exit(): Promise<number> {
    if (!this.exitRead) {
      this.exitRead = this.readExit(this.status);
      this.exitRead.catch(() => {});
    }
    return this.exitRead;
  }

  send(frame: Uint8Array): void {
    if (!this.toOpen) return; // killed: next() reports how it ended
    try {
      for (let at = 0; at < frame.length; ) at += writeSync(this.to, frame, at);
    } catch (e) {
      // Stage 0 is gone: next() reads EOF and the caller reports how it ended.
      if (!hasErrno(e, 'EPIPE')) throw e;
    }
  }

  async next(): Promise<Message | null> {
    for (;;) {
      const msg = this.parser.take();
      if (msg) return msg;
      if (this.ended || !this.fromOpen) return null;
      this.reading = true;
      let chunk: Buffer;
      try {
        chunk = await readChunk(this.from, 65536);
      } finally {
        this.reading = false;
        if (this.closing) this.closeFrom();
      }
      if (chunk.length === 0) this.ended = true;
      else this.parser.push(chunk);
    }
  }

  /**
   * SIGKILL stage 0 and close the channel's write end: killing stage 0 does not kill an init
   * that is not in a pid namespace of its own (or an exec'd process), but one waiting for a
   * message then reads EOF and exits, and a read on `from` comes back.
   */
  kill(): void {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {}
    this.closeTo();
  }

  closeChannel(): void {
    this.closeTo();
    this.closing = true;
    if (!this.reading) this.closeFrom(); // else when the read comes back (next())
  }

  private closeFrom(): void {
    if (!this.fromOpen) return;
    this.fromOpen = false;
    closeQuietly(this.from);
  }

  private closeTo(): void {
    if (!this.toOpen) return;
    this.toOpen = false;
    closeQuietly(this.to);
  }

  /**
   * Stage 0 writes its exit code, then exits. Killed before that, it says nothing: its
   * status is then read from its zombie (this process is its parent and never reaps it).
   */
  private async readExit(fd: number): Promise<number> {
    const got: Buffer[] = [];
    try {
      for (;;) {
        const chunk = await readChunk(fd, 4);
        if (chunk.length === 0) break;
        got.push(chunk);
      }
    } finally {
      closeQuietly(fd);
    }
    const all = Buffer.concat(got);
    if (all.length >= 4) return all.readInt32LE(0);
    const raw = procStat(this.pid)?.exitCode;
    if (raw === undefined || !Number.isInteger(raw)) return 255;
    return raw & 0x7f ? 128 + (raw & 0x7f) : (raw >> 8) & 0xff;
  }
}
