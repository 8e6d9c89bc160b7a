/**
 * A client of a container monitor's attach socket (native/monitor/main.c), for every front
 * end: the brig CLI's attach sessions and `brig serve`'s attach and resize endpoints.
 *
 * The monitor sends the container's output on every connection: raw bytes with a tty, else
 * docker's stream frames ([stream 0 0 0 len(be32)] data, 1 stdout, 2 stderr), the very
 * bytes the Engine API's multiplexed stream carries. A client sends messages the same way:
 * [type 0 0 0 len(be32)] payload; 0 stdin, 1 close stdin, 2 resize (rows, cols as be16).
 */
import { connect, type Socket } from 'node:net';
import { BrigError } from '../../errors/index.js';

/** A client message to the monitor. */
export function attachMessage(type: 0 | 1 | 2, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Stdin for the container, cut into messages of at most 4 KiB. */
export function stdinMessages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 4096) out.push(attachMessage(0, data.subarray(i, i + 4096)));
  return out;
}

export function resizeMessage(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(rows & 0xffff, 0);
  p.writeUInt16BE(cols & 0xffff, 2);
  return attachMessage(2, p);
}

/** docker's stream frames ([stream 0 0 0 len(be32)] data) from a byte stream cut anywhere. */
export function demultiplexer(onFrame: (stream: number, data: Buffer) => void): (d: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      onFrame(buf[0]!, buf.subarray(8, 8 + len));
      buf = buf.subarray(8 + len);
    }
  };
}

function connectSocket(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', (e) => reject(new BrigError('SYSTEM', `cannot reach the container's attach socket ${socketPath}: ${e.message}`, { path: socketPath, cause: e })));
  });
}

/**
 * Output is read on one connection and input (stdin, resizes) written on a second, because
 * Node destroys a socket whose write fails, and a write after the monitor has hung up (EPIPE)
 * would take the output still unread with it. Output's connection comes first: a held
 * monitor starts the container once it is accepted.
 */
export interface AttachConnection {
  output: Socket;
  input?: Socket;
}

export async function connectAttach(socketPath: string, withInput: boolean): Promise<AttachConnection> {
  const output = await connectSocket(socketPath);
  if (!withInput) return { output };
  try {
    return { output, input: await connectInput(socketPath) };
  } catch (e) {
    output.destroy();
    throw e;
  }
}

/** A connection that only sends (stdin, resizes): the output the monitor sends it too is drained. */
export async function connectInput(socketPath: string): Promise<Socket> {
  const input = await connectSocket(socketPath);
  input.on('data', () => {});
  input.on('error', () => {});
  return input;
}
