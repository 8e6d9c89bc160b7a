/**
 * What the server keeps in memory between requests (dockerd keeps the same): exec instances
 * from create until a while after they end, and attaches that wait for their container's
 * start. Nothing here outlives the server, and none of it is a container's state: that is
 * the engine's store.
 */
import { randomBytes } from 'node:crypto';
import { notFound } from './errors.js';

/** docker's ExecConfig as POST /containers/{id}/exec takes it. */
export interface ExecConfig {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  privileged: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  /** docker's ConsoleSize (API 1.42+): the tty's first size. */
  consoleSize?: { height: number; width: number };
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** When it ended (ms): kept for inspection for EXEC_KEEP_MS after. */
  endedAt?: number;
  /** While an attached exec with a tty runs: resizes its terminal (POST /exec/{id}/resize). */
  resize?: (rows: number, cols: number) => void;
  /** A size asked for while the exec was starting: applied once it runs. */
  pendingSize?: { rows: number; cols: number };
}

/** How long an ended exec stays inspectable (docker keeps them until its container goes). */
const EXEC_KEEP_MS = 5 * 60_000;
/** A created exec never started is dropped after this. */
const EXEC_UNSTARTED_MS = 30 * 60_000;

/** Connects a waiting attach to its container's monitor socket (path). */
export type PendingAttach = (socketPath: string) => Promise<void>;

export class ServerState {
  private readonly execs = new Map<string, ExecInstance & { createdAt: number }>();
  private readonly pending = new Map<string, Set<PendingAttach>>();

  addExec(containerId: string, config: ExecConfig): ExecInstance {
    this.sweep();
    const e = { id: randomBytes(32).toString('hex'), containerId, config, started: false, running: false, exitCode: null, pid: 0, createdAt: Date.now() };
    this.execs.set(e.id, e);
    return e;
  }

  exec(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  private sweep(now = Date.now()): void {
    for (const [id, e] of this.execs) {
      if ((e.endedAt !== undefined && now - e.endedAt > EXEC_KEEP_MS) || (!e.started && now - e.createdAt > EXEC_UNSTARTED_MS)) this.execs.delete(id);
    }
  }

  /** An attach waiting for its container to start; the returned function withdraws it. */
  waitForStart(containerId: string, attach: PendingAttach): () => void {
    let set = this.pending.get(containerId);
    if (!set) this.pending.set(containerId, (set = new Set()));
    set.add(attach);
    return () => {
      set.delete(attach);
      if (!set.size && this.pending.get(containerId) === set) this.pending.delete(containerId);
    };
  }

  /** The attaches waiting for this container, taken (the start connects them). */
  takeWaiting(containerId: string): PendingAttach[] {
    const set = this.pending.get(containerId);
    this.pending.delete(containerId);
    return set ? [...set] : [];
  }

  /** How much is kept (GET /_brig/memory): what a soak test watches for growth. */
  counts(): { execs: number; waitingAttaches: number } {
    return { execs: this.execs.size, waitingAttaches: this.pending.size };
  }

  hasWaiting(containerId: string): boolean {
    return this.pending.has(containerId);
  }
}
