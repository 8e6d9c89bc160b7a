/** Stage 0 started here with child_process: a socket for the channel, the child's exit status. */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { childProcess } from '../util/builtins.js';
import { FrameParser, type Message, type Stage0 } from './stage0.js';

export class SpawnedStage0 implements Stage0 {
  readonly pid: number;
  readonly origin = 'spawned';
  private readonly exited: Promise<number>;
  private readonly child: ChildProcess;
  private readonly ctl: Socket;
  private readonly parser = new FrameParser();
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  /** stdio: the container's stdin, stdout, stderr and preserved fds; the channel goes after them. */
  constructor(path: string, stdio: (number | 'ignore')[]) {
    const ctlIndex = stdio.length;
    this.child = childProcess().spawn(path, [String(ctlIndex)], {
      stdio: [...stdio, 'pipe'],
      env: {},
      // A detached session would break terminal job control for foreground runs.
      detached: false,
    });
    this.exited = new Promise<number>((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? (osConstants.signals[sig] ?? 0) : 0)));
    });
    this.exited.catch(() => {});
    this.pid = this.child.pid!;
    this.ctl = this.child.stdio[ctlIndex] as Socket;
    const wake = () => this.wake?.();
    this.ctl.on('data', (d: Buffer) => {
      this.parser.push(d);
      wake();
    });
    this.ctl.on('end', () => {
      this.ended = true;
      wake();
    });
    this.ctl.on('error', (e) => {
      this.failure = e;
      wake();
    });
  }

  get exit(): Promise<number> {
    return this.exited;
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

  kill(): void {
    this.child.kill('SIGKILL');
    this.ctl.destroy();
  }

  closeChannel(): void {
    this.ctl.destroy();
  }
}
