/**
 * brig-spawner (native/spawn/spawner.c), forked by brig's launcher ahead of Node for a
 * foreground `run --rm`: it runs brig's own tools (brig-net) for this process, which then
 * spawns none itself. A child_process spawn costs the main thread 8-17 ms here (the first
 * also loads child_process, net and stream); a request to the spawner, a write and a read.
 *
 * The launcher leaves both ends of two pipes here, in _BRIG_SPAWNER="pid,to_r,to_w,from_r,from_w"
 * (inherited-pipes.ts). Requests run side by side, each answered by its id.
 */
import { read, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { childProcess } from '../util/builtins.js';
import { takeInheritedPipes } from './inherited-pipes.js';

const ENV = '_BRIG_SPAWNER';

/** A tool's run through the spawner: its stdout as it comes, then its exit. */
export interface SpawnedTool {
  /** Exit code (128+n for signal n); negative (-errno) when it could not be started. */
  status: number;
  stderr: string;
}

interface Pending {
  onStdout: ((chunk: Buffer) => void) | undefined;
  stderr: Buffer[];
  resolve: (r: SpawnedTool) => void;
  reject: (e: Error) => void;
}

export class Spawner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);
  private reading = false;
  private dead: Error | undefined;

  constructor(
    readonly pid: number,
    private readonly to: number,
    private readonly from: number,
  ) {
    process.once('exit', () => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    });
  }

  /** Runs argv (a tool in brig's native/build) at once, beside any other; onStdout sees its stdout chunk by chunk. */
  run(argv: string[], onStdout?: (chunk: Buffer) => void): Promise<SpawnedTool> {
    if (this.dead) return Promise.reject(this.dead);
    if (argv.length === 0 || argv.some((a) => a === '' || a.includes('\0'))) return Promise.reject(new Error('brig-spawner: empty or NUL-holding argument'));
    const id = this.nextId++;
    const request = Buffer.from(`${id}\0${argv.join('\0')}\0\0`);
    const done = new Promise<SpawnedTool>((resolve, reject) => this.pending.set(id, { onStdout, stderr: [], resolve, reject }));
    try {
      for (let at = 0; at < request.length; ) at += writeSync(this.to, request, at);
    } catch (e) {
      this.fail(e as Error);
    }
    if (!this.reading) void this.readLoop();
    return done;
  }

  private fail(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Reads reply frames while any request waits (reads in the thread pool: the fd is blocking). */
  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      while (this.pending.size > 0) {
        const head = this.frameHead();
        if (!head) {
          const chunk = await new Promise<Buffer>((resolve, reject) => {
            const buf = Buffer.allocUnsafe(65536);
            read(this.from, buf, 0, buf.length, null, (err, got) => (err ? reject(err) : resolve(buf.subarray(0, got))));
          });
          if (chunk.length === 0) throw new Error('brig-spawner exited');
          this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
          continue;
        }
        const { kind, id, n, size } = head;
        const p = this.pending.get(id);
        if (kind === 0x58 /* X */) {
          this.pending.delete(id);
          p?.resolve({ status: this.buffered.readInt32LE(5), stderr: Buffer.concat(p.stderr).toString('utf8') });
        } else {
          const data = this.buffered.subarray(9, 9 + n);
          if (kind === 0x4f /* O */) p?.onStdout?.(Buffer.from(data));
          else p?.stderr.push(Buffer.from(data));
        }
        this.buffered = this.buffered.subarray(size);
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.reading = false;
    }
  }

  /** The next whole frame's head in the buffer, or undefined until it has all arrived. */
  private frameHead(): { kind: number; id: number; n: number; size: number } | undefined {
    const b = this.buffered;
    if (b.length < 9) return undefined;
    const kind = b[0]!;
    if (kind !== 0x4f && kind !== 0x45 && kind !== 0x58) throw new Error(`brig-spawner: bad reply frame ${kind}`);
    const id = b.readUInt32LE(1);
    if (kind === 0x58) return { kind, id, n: 0, size: 9 };
    const n = b.readUInt32LE(5);
    return b.length < 9 + n ? undefined : { kind, id, n, size: 9 + n };
  }
}

/** Takes the launcher's spawner from the environment (inherited-pipes.ts); undefined when there is none or it does not check out. */
export function takeInheritedSpawner(env: NodeJS.ProcessEnv = process.env): Spawner | undefined {
  const taken = takeInheritedPipes(env, ENV, ['w', 'r']);
  return taken && new Spawner(taken.pid, taken.fds[0]!, taken.fds[1]!);
}

/**
 * Runs one of brig's tools (argv[0] in native/build): through the launcher's spawner when this
 * process has one and the run need not be cancellable, else spawned. The exit as the spawner
 * reports it: 128+n for signal n, -errno when the program could not be started.
 */
export function runNativeTool(argv: string[], opts: { spawner?: Spawner | undefined; onStdout?: (chunk: Buffer) => void; signal?: AbortSignal } = {}): Promise<SpawnedTool> {
  if (opts.spawner && !opts.signal) return opts.spawner.run(argv, opts.onStdout);
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => opts.onStdout?.(d));
    child.on('error', (e: Error & { code?: string }) => {
      const errno = e.code ? osConstants.errno[e.code as keyof typeof osConstants.errno] : undefined;
      if (errno !== undefined && child.pid === undefined) resolve({ status: -errno, stderr: e.message });
      else reject(e);
    });
    child.on('close', (code, sig) => resolve({ status: code ?? 128 + (sig ? (osConstants.signals[sig] ?? 0) : 0), stderr }));
  });
}
