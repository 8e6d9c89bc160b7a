/**
 * brig attach, and the attached half of `run` and `start -a`: the container's output to our
 * stdout and stderr (docker's stream frames taken apart, or a terminal's bytes as they come),
 * our stdin to it, the window size and its changes, the detach keys, and at the end the
 * container's exit code. The container's monitor holds the other end (its attach socket,
 * framing in native/monitor/main.c); nothing here keeps the container alive, so a killed
 * brig leaves it running.
 */
import { spawnSync } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { ReadStream, WriteStream } from 'node:tty';
import { type AttachConnection, attachMessage, connectAttach, demultiplexer, resizeMessage, stdinMessages } from '../../engine/attach/client.js';
import { DEFAULT_DETACH_KEYS, detachFilter, parseDetachKeys } from '../../engine/attach/detach-keys.js';
import type { Engine } from '../../engine/engine.js';
import type { Flag } from '../flags.js';
import { forwardSignalsUntil } from '../forward-signals.js';
import type { BrigContext } from './context.js';

export const DETACH_KEYS_FLAG: Flag = { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' };

export { type AttachConnection, connectAttach, DEFAULT_DETACH_KEYS, demultiplexer, detachFilter, parseDetachKeys };

export interface AttachSettings {
  id: string;
  tty: boolean;
  /** Our stdin goes to the container (it keeps stdin open, -i, and it was asked for). */
  stdin: boolean;
  detachKeys: Buffer;
  /** Signals we get go to the container (docker's --sig-proxy; never with a tty, as docker). */
  sigProxy: boolean;
  /** docker attach's nudge: the size plus one, then the size, so a waiting shell redraws its prompt. */
  nudge?: boolean;
}

export type AttachEnd = { detached: true } | { detached: false; code: number };

/** Signals that end an attached brig with a terminal in raw mode (restored first); the container keeps running. */
const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'];
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/** Streams over a connected attach socket until the container's output ends (then its exit code) or the user detaches. */
export async function streamAttached(ctx: BrigContext, engine: Engine, conn: AttachConnection, s: AttachSettings): Promise<AttachEnd> {
  const sock = conn.output;
  const stdin = ctx.stdin as NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;
  const out = ctx.stdout as Writable & Partial<Pick<WriteStream, 'isTTY' | 'getWindowSize'>>;
  const raw = s.tty && s.stdin && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const undo: (() => void)[] = [];
  let restored = false;
  // Raw mode is undone on every way out: the end, detach, an error, a signal, process exit.
  const restore = () => {
    if (!raw || restored) return;
    restored = true;
    try {
      stdin.setRawMode!(false);
    } catch {}
  };
  let finish!: (how: { how: 'closed' } | { how: 'detached' } | { how: 'signal'; code: number }) => void;
  const done = new Promise<Parameters<typeof finish>[0]>((resolve) => (finish = resolve));
  try {
    if (raw) {
      stdin.setRawMode!(true);
      // libuv's raw mode keeps output processing (ONLCR): the container's own pty has done it
      // already, so turn it off too, as docker's raw mode does; setRawMode(false) restores all.
      spawnSync('stty', ['-opost'], { stdio: [stdin === process.stdin ? 0 : 'ignore', 'ignore', 'ignore'] });
      process.on('exit', restore);
      undo.push(() => process.off('exit', restore));
      for (const sig of ENDING_SIGNALS) {
        const onSig = () => finish({ how: 'signal', code: 128 + SIGNAL_NUMBERS[sig]! });
        process.on(sig, onSig);
        undo.push(() => process.off(sig, onSig));
      }
    }
    sock.on('error', () => {}); // 'close' follows
    sock.on('close', () => finish({ how: 'closed' }));
    // A container that exits at once with no output: the monitor may have closed the socket
    // before we listened, and 'close' fired for no one (brig then ended with status 0).
    if (sock.closed) finish({ how: 'closed' });
    sock.on('data', s.tty ? (d: Buffer) => out.write(d) : demultiplexer((stream, d) => (stream === 2 ? ctx.stderr : ctx.stdout).write(d)));
    const send = (b: Buffer) => {
      if (conn.input && !conn.input.destroyed) conn.input.write(b);
    };
    if (s.stdin) {
      const filter = s.tty ? detachFilter(s.detachKeys) : undefined;
      const onData = (d: Buffer | string) => {
        let data = typeof d === 'string' ? Buffer.from(d) : d;
        let detached = false;
        if (filter) ({ pass: data, detached } = filter(data));
        for (const m of stdinMessages(data)) send(m);
        if (detached) finish({ how: 'detached' });
      };
      const onEnd = () => send(attachMessage(1));
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      undo.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      });
    }
    if (s.tty && out.isTTY === true && typeof out.getWindowSize === 'function') {
      const size = () => {
        const [cols, rows] = out.getWindowSize!();
        send(resizeMessage(rows, cols));
      };
      if (s.nudge) {
        const [cols, rows] = out.getWindowSize();
        send(resizeMessage(rows + 1, cols + 1));
      }
      size();
      out.on('resize', size);
      undo.push(() => out.off('resize', size));
    }
    const end = await (s.sigProxy && !s.tty ? forwardSignalsUntil(done, (sig) => void engine.killContainer(s.id, String(sig)).catch(() => {})) : done);
    restore();
    if (end.how === 'detached') return { detached: true };
    if (end.how === 'signal') return { detached: false, code: end.code };
    return { detached: false, code: (await engine.waitContainer(s.id)).StatusCode };
  } finally {
    for (const u of undo.reverse()) u();
    restore();
    sock.destroy();
    conn.input?.destroy();
  }
}

/** Input goes to the monitor with stdin, and with a tty (its window size). */
export const wantsInput = (s: AttachSettings) => s.stdin || s.tty;

/** Starts a created container with this brig attached before it runs (no output lost), then streams as attach does. */
export async function startAttached(ctx: BrigContext, engine: Engine, s: AttachSettings): Promise<AttachEnd> {
  let conn: AttachConnection | undefined;
  try {
    await engine.startContainer(s.id, {
      attach: async (socketPath) => {
        conn = await connectAttach(socketPath, wantsInput(s));
      },
    });
  } catch (e) {
    conn?.output.destroy();
    conn?.input?.destroy();
    throw e;
  }
  return streamAttached(ctx, engine, conn!, s);
}

/** docker start -a [-i]: attach to one container, starting it first unless it runs; its exit code. */
export async function startAndAttach(ctx: BrigContext, ref: string, opts: { interactive: boolean; detachKeys: Buffer }): Promise<number> {
  const engine = ctx.engine();
  const c = await engine.inspectContainer(ref);
  const s: AttachSettings = { id: c.Id, tty: c.Config.Tty, stdin: opts.interactive && c.Config.OpenStdin, detachKeys: opts.detachKeys, sigProxy: true };
  const end = c.State.Running ? await streamAttached(ctx, engine, await connectAttach(await engine.attachSocket(c.Id), wantsInput(s)), s) : await startAttached(ctx, engine, s);
  return end.detached ? 0 : end.code;
}

