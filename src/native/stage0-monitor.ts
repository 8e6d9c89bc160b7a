/**
 * Stage 0 forked by a container's monitor (native/monitor, the stage0 op) on a socket this
 * process handed it as the monitor's fd 4. The engine already has the runtime loaded, so it
 * drives stage 0 itself instead of the monitor starting `brig-runtime run -d` (a second Node,
 * ~100 ms per container). init is then the monitor's descendant, as with the starter, and
 * becomes its child when stage 0 exits.
 *
 * The monitor is stage 0's parent and reaps it: it reports the exit status on its report
 * channel ("stage0-exit N") while the engine still waits for the run; `exit` resolves from
 * that, or to 255 when the monitor has gone without saying.
 */
import type { Socket } from 'node:net';
import { SocketStage0 } from './stage0-socket.js';

export class MonitorStage0 extends SocketStage0 {
  readonly origin = 'monitor';
  private code: number | undefined;
  private readonly exited: Promise<number>;
  private settle!: (code: number) => void;

  constructor(
    readonly pid: number,
    ctl: Socket,
  ) {
    super(ctl);
    this.exited = new Promise<number>((resolve) => {
      this.settle = resolve;
    });
  }

  /** The monitor reaped stage 0 (or is gone: 255). Only the first report counts. */
  reportExit(code: number): void {
    if (this.code !== undefined) return;
    this.code = code;
    this.settle(code);
  }

  get exit(): Promise<number> {
    return this.exited;
  }

  /** SIGKILL unless the monitor has reaped it already (its pid may then be another's). */
  kill(): void {
    if (this.code === undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    }
    this.channel.close();
  }
}
