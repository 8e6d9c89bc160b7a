/**
 * The stdio of a process the API runs (exec start), as fds for the Engine's execContainer.
 * Pipes, not sockets: a socket Node opens is non-blocking, and so would be the process's
 * stdout (a program writing faster than the client reads would fail with EAGAIN). Node
 * makes no anonymous pipes, so these are FIFOs, made by mkfifo(1) in a private directory and
 * unlinked at once: the process gets blocking ends opened with fs.openSync, the server reads
 * and writes its own (non-blocking) opens through net.Socket.
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileAsync } from '../util/builtins.js';

export interface ExecPipes {
  /** For execContainer: stdin (or 'ignore'), stdout, stderr (the same as stdout with a tty). */
  stdio: [number | 'ignore', number, number];
  stdin?: Socket;
  stdout: Socket;
  stderr?: Socket;
  /** With a tty: the pipe of terminal sizes (ExecOptions.resizeFd is its other end). */
  resize?: Socket;
  resizeFd?: number;
  /** Closes the process's ends in this process, once it has them (after execContainer). */
  release(): void;
  /** Closes everything (the client went, or the process could not start). */
  destroy(): void;
}

export async function execPipes(opts: { stdin: boolean; tty: boolean }): Promise<ExecPipes> {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-exec-'));
  const theirs: number[] = [];
  const ours: Socket[] = [];
  try {
    const names = ['out', ...(opts.tty ? ['resize'] : ['err']), ...(opts.stdin ? ['in'] : [])].map((n) => path.join(dir, n));
    await execFileAsync('mkfifo', ['-m', '600', ...names]);
    const output = (fifo: string) => {
      // The writer's end first (read-write, so the open does not wait for a reader), then ours.
      theirs.push(openSync(fifo, constants.O_RDWR));
      const s = new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
      ours.push(s);
      return s;
    };
    const input = (fifo: string): { ours: Socket; fd: number } => {
      // Ours first (read-write: a writer exists, so the process's read-only open returns at
      // once); the process's end is read-only, so it sees EOF when ours closes.
      const s = new Socket({ fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
      ours.push(s);
      const fd = openSync(fifo, constants.O_RDONLY);
      theirs.push(fd);
      return { ours: s, fd };
    };
    const stdout = output(path.join(dir, 'out'));
    const stderr = opts.tty ? undefined : output(path.join(dir, 'err'));
    const stdin = opts.stdin ? input(path.join(dir, 'in')) : undefined;
    // The terminal's sizes go like stdin; 4-byte writes are atomic (under PIPE_BUF), so the
    // helper never reads half a size.
    const resize = opts.tty ? input(path.join(dir, 'resize')) : undefined;
    for (const s of ours) s.on('error', () => {}); // a process gone early: 'close' follows, the copy ends
    const outFd = theirs[0]!;
    const errFd = opts.tty ? outFd : theirs[1]!;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const fd of theirs) closeSync(fd);
    };
    return {
      stdio: [stdin?.fd ?? 'ignore', outFd, errFd],
      ...(stdin ? { stdin: stdin.ours } : {}),
      stdout,
      ...(stderr ? { stderr } : {}),
      ...(resize ? { resize: resize.ours, resizeFd: resize.fd } : {}),
      release,
      destroy: () => {
        release();
        for (const s of ours) s.destroy();
      },
    };
  } catch (e) {
    for (const fd of theirs) closeSync(fd);
    for (const s of ours) s.destroy();
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
