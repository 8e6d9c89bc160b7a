/** Stage 0 started here with child_process: a socket for the channel, the child's exit status. */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { childProcess } from '../util/builtins.js';
import { SocketStage0 } from './stage0-socket.js';

export class SpawnedStage0 extends SocketStage0 {
  readonly pid: number;
  readonly origin = 'spawned';
  private readonly exited: Promise<number>;
  private readonly child: ChildProcess;

  /** stdio: the container's stdin, stdout, stderr and preserved fds; the channel goes after them. */
  constructor(path: string, stdio: (number | 'ignore')[]) {
    const ctlIndex = stdio.length;
    const child = childProcess().spawn(path, [String(ctlIndex)], {
      stdio: [...stdio, 'pipe'],
      env: {},
      // A detached session would break terminal job control for foreground runs.
      detached: false,
    });
    super(child.stdio[ctlIndex] as Socket);
    this.child = child;
    this.exited = new Promise<number>((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? (osConstants.signals[sig] ?? 0) : 0)));
    });
    this.exited.catch(() => {});
    this.pid = this.child.pid!;
  }

  get exit(): Promise<number> {
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
    this.channel.close();
  }
}
