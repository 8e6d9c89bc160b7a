/**
 * POST /containers/{id}/attach: the container's stdio on a hijacked connection, through its
 * monitor's attach socket (src/engine/attach/client.ts; the same client the brig CLI uses).
 * A container that is not running yet is attached when it starts: by this server's start
 * (before it runs, so no output is lost: docker run's attach-then-start), or, if something
 * else starts it, as soon as it is seen running. The client going closes both connections
 * to the monitor; the container keeps running.
 */
import { type AttachConnection, attachMessage, connectAttach, demultiplexer, stdinMessages } from '../engine/attach/client.js';
import { detachFilter, parseDetachKeys } from '../engine/attach/detach-keys.js';
import { badRequest } from './errors.js';
import type { Hijacked } from './exchange.js';
import type { RequestContext } from './router.js';
import { copyStream, EMPTY_FRAME, frame, streamType } from './streams.js';

/** How often an attach waiting for a start looks whether something else started the container. */
const START_POLL_MS = 250;

export async function attachContainer(c: RequestContext): Promise<void> {
  const { engine, x, query } = c;
  const info = await engine.inspectContainer(c.params.id!);
  const id = info.Id;
  const tty = info.Config.Tty === true;
  const stdin = query.bool('stdin') && info.Config.OpenStdin === true;
  const wantOut = query.bool('stdout');
  const wantErr = query.bool('stderr');
  const stream = query.bool('stream');
  const logs = query.bool('logs');
  if (!stream && !logs) throw badRequest('Bad parameters: you must choose at least one stream');
  const keys = parseDetachKeys(query.string('detachKeys'), 'detachKeys');
  // Connected before the hijack, so that a failure is still an HTTP answer.
  let conn = stream && info.State.Running ? await connectAttach(await engine.attachSocket(id), stdin) : undefined;
  const h = x.hijack(streamType(tty, c.version), tty ? undefined : EMPTY_FRAME);
  h.closed.then(() => {
    conn?.output.destroy();
    conn?.input?.destroy();
  });
  if (logs) {
    for await (const l of engine.containerLogs(id, { signal: x.signal })) {
      if (l.stream === 'stdout' ? !wantOut : !wantErr) continue;
      const data = Buffer.from(l.log);
      h.out.write(tty ? data : frame(l.stream === 'stdout' ? 1 : 2, data));
    }
  }
  if (!stream) return h.end();
  conn ??= await whenStarted(c, id, stdin, h);
  if (!conn) return h.end();
  await pump(conn, h, { tty, stdin, wantOut, wantErr, keys, stdinOnce: info.Config.StdinOnce === true });
}

/** The attach connection once the container starts; undefined if the client leaves first or the container goes. */
function whenStarted(c: RequestContext, id: string, stdin: boolean, h: Hijacked): Promise<AttachConnection | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: AttachConnection | undefined) => {
      if (settled) {
        v?.output.destroy();
        v?.input?.destroy();
        return;
      }
      settled = true;
      clearInterval(poll);
      withdraw();
      if (v && c.x.signal.aborted) {
        v.output.destroy();
        v.input?.destroy();
        return resolve(undefined);
      }
      resolve(v);
    };
    // A connection that fails leaves this attach out; the start goes on.
    const withdraw = c.state.waitForStart(id, async (socketPath) => settle(await connectAttach(socketPath, stdin).catch(() => undefined)));
    // Started by another front end (the brig CLI, a restart policy): attached as soon as seen.
    const poll = setInterval(() => {
      void c.engine.inspectContainer(id).then(
        async (i) => {
          if (settled || !i.State.Running || !c.state.hasWaiting(id)) return;
          settle(await connectAttach(await c.engine.attachSocket(id), stdin).catch(() => undefined));
        },
        () => settle(undefined),
      );
    }, START_POLL_MS);
    void h.closed.then(() => settle(undefined));
  });
}

interface PumpSettings {
  tty: boolean;
  stdin: boolean;
  wantOut: boolean;
  wantErr: boolean;
  keys: Buffer;
  stdinOnce: boolean;
}

/** Output to the client until the container's ends (or the client goes, or detaches); the client's input to the container. */
async function pump(conn: AttachConnection, h: Hijacked, s: PumpSettings): Promise<void> {
  let wrap: ((d: Buffer) => Buffer | undefined) | undefined;
  if (s.tty) wrap = s.wantOut ? undefined : () => undefined;
  else if (!(s.wantOut && s.wantErr)) {
    // One of the two streams: the monitor's frames taken apart, the wanted ones sent on.
    let kept: Buffer[] = [];
    const split = demultiplexer((stream, data) => {
      if (stream === 1 ? s.wantOut : stream === 2 ? s.wantErr : false) kept.push(frame(stream as 1 | 2, data));
    });
    wrap = (d) => {
      split(d);
      const out = Buffer.concat(kept);
      kept = [];
      return out;
    };
  }
  const input = conn.input;
  if (s.stdin && h.input && input) {
    const filter = detachFilter(s.keys);
    h.input.on('data', (d: Buffer) => {
      const { pass, detached } = filter(d);
      if (!input.destroyed) for (const m of stdinMessages(pass)) input.write(m);
      if (detached) {
        conn.output.destroy();
        h.end();
      }
    });
    h.input.once('end', () => {
      // docker closes the container's stdin at the client's end with StdinOnce (run -i), else only stops copying.
      if (s.stdinOnce && !input.destroyed) input.write(attachMessage(1));
    });
    h.input.resume();
  } else h.input?.resume(); // nothing to send on: read and dropped, so its end is seen
  await Promise.race([copyStream(conn.output, h.out, wrap), h.closed]);
  conn.output.destroy();
  conn.input?.destroy();
  h.end();
}
