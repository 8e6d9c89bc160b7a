/**
 * A container monitor's attach socket, spoken locally over a remote engine's attach stream,
 * so the CLI's attach sessions (run, start -a, attach: src/cli/brig/attach-session.ts) work
 * against `brig serve` unchanged. The CLI connects to a unix socket in a private directory;
 * the first connection gets the container's output as the API's hijacked stream carries it
 * (docker's frames, or a terminal's raw bytes: what a monitor sends too), and the monitor's
 * client messages on any connection are carried out: stdin bytes onto the stream, the end of
 * stdin as a half-close, a resize as POST /containers/{id}/resize.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface AttachProxy {
  /** The socket path to give the CLI's attach session. */
  socket: string;
  close(): void;
}

/**
 * `stream` is the hijacked connection (its `output` and the socket stdin goes to); `resize`
 * asks the engine to resize the container's terminal.
 */
export async function attachProxy(stream: { socket: Socket; output: Readable }, resize: (rows: number, cols: number) => Promise<void>): Promise<AttachProxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-attach-'));
  const socket = path.join(dir, 'attach.sock');
  let outputTaken = false;
  const clients = new Set<Socket>();
  let queue: Promise<void> = Promise.resolve();
  const inOrder = (step: () => void | Promise<void>) => {
    queue = queue.then(step);
  };
  let closed = false;
  // The clients' connections end as the stream does (the pipe ends the output's); only the
  // listener and its directory go here.
  const close = () => {
    if (closed) return;
    closed = true;
    server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const server = createServer((c) => {
    clients.add(c);
    c.on('error', () => {});
    c.on('close', () => clients.delete(c));
    if (!outputTaken) {
      outputTaken = true;
      stream.output.pipe(c);
      // The session that reads the output is the attach: once it goes (the user detached,
      // or the CLI ended), so does the API's stream, as docker's CLI closes its connection.
      // Left open, it kept the CLI's process alive after a detach (run -it hung on ctrl-p ctrl-q).
      c.once('close', () => {
        stream.socket.destroy();
        close();
      });
    }
    // The monitor's client messages: [type 0 0 0 len(be32)] payload, carried out in their
    // order. A resize is a request of its own, so what is typed after it waits for its answer,
    // as the monitor takes both from one connection in order: `stty size` typed after a
    // resize must see the new size (it saw 0 0 when the keys overtook the request).
    let buf: Buffer = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(4);
        if (buf.length < 8 + len) break;
        const type = buf[0];
        const payload = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len);
        if (type === 0) inOrder(() => void (stream.socket.destroyed || stream.socket.write(payload)));
        else if (type === 1) inOrder(() => void (stream.socket.destroyed || stream.socket.end()));
        else if (type === 2 && payload.length >= 4) inOrder(() => resize(payload.readUInt16BE(0), payload.readUInt16BE(2)).catch(() => {}));
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  stream.output.once('close', close);
  stream.output.once('end', close);
  return {
    socket,
    close() {
      close();
      for (const c of clients) c.destroy();
    },
  };
}
