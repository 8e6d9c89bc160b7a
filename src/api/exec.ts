/**
 * docker exec over the API: POST /containers/{id}/exec makes an instance (kept here, as
 * dockerd keeps it), POST /exec/{id}/start runs it through the Engine's execContainer, with
 * its stdio on pipes (exec-pipes.ts) copied to and from the hijacked connection, framed
 * unless it has a tty; GET /exec/{id}/json tells its state and exit code.
 *
 * One difference from dockerd, on purpose: a client that goes away from an attached exec
 * takes the process with it (SIGKILL), as a hangup would; dockerd leaves it running with
 * nobody reading its output (moby issue 9098), a process nobody can reach again.
 */
import { BrigError } from '../errors/index.js';
import { badRequest, conflict } from './errors.js';
import { readJson, check, type Schema } from './body.js';
import { execPipes } from './exec-pipes.js';
import type { RequestContext } from './router.js';
import type { ExecConfig, ExecInstance } from './state.js';
import { detachFilter, parseDetachKeys } from '../engine/attach/detach-keys.js';
import { copyStream, EMPTY_FRAME, frame, streamType } from './streams.js';
import { ownerAlive } from '../util/owner.js';
import { procStat } from '../util/proc-stat.js';

const strings: Schema = { array: 'string', nullable: true };

const CREATE: { object: Record<string, Schema> } = {
  object: {
    AttachStdin: 'boolean',
    AttachStdout: 'boolean',
    AttachStderr: 'boolean',
    DetachKeys: 'string',
    Tty: 'boolean',
    ConsoleSize: 'any',
    Env: strings,
    Cmd: strings,
    Privileged: 'boolean',
    User: 'string',
    WorkingDir: 'string',
  },
};

const START: { object: Record<string, Schema> } = { object: { Detach: 'boolean', Tty: 'boolean', ConsoleSize: 'any' } };

/** ConsoleSize: [height, width], or null (docker's *[2]uint). */
function consoleSize(v: unknown): { height: number; width: number } | undefined {
  if (v === undefined || v === null) return undefined;
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff;
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) throw badRequest('ConsoleSize: expected [height, width], each 0 to 65535');
  return v[0] || v[1] ? { height: v[0] as number, width: v[1] as number } : undefined;
}

export async function createExec(c: RequestContext): Promise<void> {
  const raw = await readJson(c.x);
  if (raw === undefined) throw badRequest('exec config cannot be empty');
  const b = check(raw, CREATE, '') as Record<string, unknown>;
  const cmd = (b.Cmd as string[] | null | undefined) ?? [];
  if (!cmd.length) throw badRequest('Cmd: no exec command specified');
  if (b.WorkingDir && !(b.WorkingDir as string).startsWith('/')) throw badRequest(`WorkingDir: the working directory '${b.WorkingDir}' is invalid, it needs to be an absolute path`);
  const detachKeys = (b.DetachKeys as string | undefined) ?? '';
  parseDetachKeys(detachKeys, 'DetachKeys');
  const info = await c.engine.inspectContainer(c.params.id!);
  if (info.State.Paused) throw conflict(`Container ${info.Id} is paused, unpause the container before exec`);
  if (!info.State.Running) throw conflict(`Container ${info.Id} is not running`);
  const config: ExecConfig = {
    cmd,
    tty: b.Tty === true,
    privileged: b.Privileged === true,
    attachStdin: b.AttachStdin === true,
    attachStdout: b.AttachStdout === true,
    attachStderr: b.AttachStderr === true,
    detachKeys,
    ...(consoleSize(b.ConsoleSize) ? { consoleSize: consoleSize(b.ConsoleSize)! } : {}),
    ...(b.Env ? { env: b.Env as string[] } : {}),
    ...(b.WorkingDir ? { workdir: b.WorkingDir as string } : {}),
    ...(b.User ? { user: b.User as string } : {}),
  };
  c.x.send(201, { Id: c.state.addExec(info.Id, config).id });
}

/** docker's exit code for an exec that could not start: 127 not found, 126 cannot be run or anything else. */
function startFailureCode(e: unknown): number {
  return e instanceof BrigError && e.code === 'EXEC_NOT_FOUND' ? 127 : 126;
}

export async function startExec(c: RequestContext): Promise<void> {
  const e = c.state.exec(c.params.id!);
  const raw = await readJson(c.x);
  const b = (raw === undefined ? {} : check(raw, START, '')) as { Detach?: boolean; ConsoleSize?: unknown };
  const size = consoleSize(b.ConsoleSize) ?? e.config.consoleSize;
  if (e.started) throw conflict(`Exec ${e.id} has already been started`);
  e.started = true;
  const cfg = e.config;
  const base = {
    cmd: cfg.cmd,
    tty: cfg.tty,
    ...(cfg.tty && size ? { consoleSize: size } : {}),
    interactive: cfg.attachStdin,
    privileged: cfg.privileged,
    ...(cfg.env ? { env: cfg.env } : {}),
    ...(cfg.workdir ? { workdir: cfg.workdir } : {}),
    ...(cfg.user ? { user: cfg.user } : {}),
  };
  if (b.Detach === true) {
    // docker answers a detached start once the process runs; its errors are the answer's.
    const started = await c.engine.execContainer(e.containerId, { ...base, detach: true, stdio: ['ignore', 'ignore', 'ignore'] }).catch((err: unknown) => {
      finish(e, startFailureCode(err));
      throw err;
    });
    e.running = true;
    e.pid = started.pid;
    watchDetached(e);
    c.x.send(200);
    return;
  }
  const pipes = await execPipes({ stdin: cfg.attachStdin, tty: cfg.tty });
  const h = c.x.hijack(streamType(cfg.tty, c.version), cfg.tty ? undefined : EMPTY_FRAME);
  let started: { pid: number; exit: Promise<number> };
  try {
    started = await c.engine.execContainer(e.containerId, { ...base, detach: false, stdio: pipes.stdio, ...(pipes.resizeFd !== undefined ? { resizeFd: pipes.resizeFd } : {}) });
  } catch (err) {
    // As dockerd: the stream is the client's already, so the error is written on it; on
    // stderr's frames where there are frames (dockerd 20.10 uses stdout's), so the client
    // prints it as an error, as `brig exec` does on the local engine.
    pipes.destroy();
    finish(e, startFailureCode(err));
    const text = Buffer.from(`${(err as Error).message}\r\n`);
    h.out.write(cfg.tty ? text : frame(2, text));
    h.end();
    return;
  } finally {
    pipes.release();
  }
  e.running = true;
  e.pid = started.pid;
  const sizes = pipes.resize;
  if (sizes) {
    e.resize = (rows, cols) => {
      const rec = Buffer.alloc(4);
      rec.writeUInt16BE(rows, 0);
      rec.writeUInt16BE(cols, 2);
      if (!sizes.destroyed) sizes.write(rec);
    };
    if (e.pendingSize) e.resize(e.pendingSize.rows, e.pendingSize.cols);
  }
  const exited = started.exit.then(
    (code) => finish(e, code),
    () => finish(e, 126),
  );
  void h.closed.then(() => {
    if (e.running) {
      try {
        process.kill(e.pid, 'SIGKILL');
      } catch {}
    }
    pipes.destroy();
  });
  if (pipes.stdin && h.input) {
    const stdin = pipes.stdin;
    stdin.on('error', () => {});
    const filter = detachFilter(parseDetachKeys(cfg.detachKeys, 'DetachKeys'));
    h.input.on('data', (d: Buffer) => {
      const { pass, detached } = filter(d);
      if (!stdin.destroyed && pass.length) stdin.write(pass);
      if (detached) h.end();
    });
    h.input.once('end', () => stdin.end());
    h.input.resume();
  } else h.input?.resume(); // nothing to send on: read and dropped, so its end is seen
  const copies = [
    copyStream(pipes.stdout, h.out, cfg.tty ? undefined : cfg.attachStdout ? (d) => frame(1, d) : () => undefined),
    ...(pipes.stderr ? [copyStream(pipes.stderr, h.out, cfg.attachStderr ? (d) => frame(2, d) : () => undefined)] : []),
  ];
  // The stream ends when the process has exited and its output is read (or the client goes).
  await Promise.race([Promise.all([...copies, exited]), h.closed]);
  h.end();
}

/** How often the server looks whether a detached exec still runs. */
const DETACHED_POLL_MS = 250;

/**
 * A detached exec runs on its own (it outlives this server, as a container does), so the
 * server is not its parent and cannot wait for it: it is Running while its process (pid and
 * start time) is there, and then ended with no exit code to tell (null). Before, the
 * engine's detach resolved at once and inspect said Running false, ExitCode 0, while it ran.
 */
function watchDetached(e: ExecInstance): void {
  const start = procStat(e.pid)?.start;
  const t = setInterval(() => {
    if (start !== undefined && ownerAlive({ pid: e.pid, start })) return;
    clearInterval(t);
    e.running = false;
    e.endedAt = Date.now();
  }, DETACHED_POLL_MS);
  t.unref();
}

function finish(e: ExecInstance, code: number): void {
  e.running = false;
  delete e.resize;
  e.exitCode = code;
  e.endedAt = Date.now();
}

/**
 * POST /exec/{id}/resize: the terminal of a running exec, through the helper that relays its
 * pty. As dockerd 20.10: h and w required (400), an unknown exec 404, an exec without a tty
 * 200 with nothing done (the docs: "only works if tty was specified"). Where dockerd differs:
 * an exec not started yet is waited for up to 10 s and then 500 "timeout waiting for exec
 * session ready", an ended one 404 "no such exec" though inspect still finds it, and one whose
 * container stopped 500; brig answers 409 "is not running" for all three at once, the
 * status docker gives an exec acted on in the wrong state (start twice), since the docs'
 * 404 ("no such exec instance") is not true of an instance that inspect shows.
 */
export function resizeExec(c: RequestContext): void {
  const e = c.state.exec(c.params.id!);
  const dim = (name: string) => {
    const v = c.query.int(name);
    if (v === undefined) throw badRequest(`${name}: required, the terminal's ${name === 'h' ? 'height' : 'width'}`);
    if (v < 0 || v > 0xffff) throw badRequest(`${name}: a terminal size is 0 to 65535`);
    return v;
  };
  const h = dim('h');
  const w = dim('w');
  // Without a tty, as dockerd once the exec has started: nothing to resize, running or not.
  if (!e.config.tty && e.started) {
    c.x.send(200);
    return;
  }
  // A start under way (started, not yet running) is answered as dockerd answers it once ready.
  if (!e.running && !(e.started && e.exitCode === null)) throw conflict(`Exec ${e.id} is not running`);
  if (e.config.tty && e.resize) e.resize(h, w);
  else if (e.config.tty) e.pendingSize = { rows: h, cols: w };
  c.x.send(200);
}

export function inspectExec(c: RequestContext): void {
  const e = c.state.exec(c.params.id!);
  const cfg = e.config;
  c.x.send(200, {
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: cfg.detachKeys,
    ExitCode: e.exitCode,
    ID: e.id,
    OpenStderr: cfg.attachStderr,
    OpenStdin: cfg.attachStdin,
    OpenStdout: cfg.attachStdout,
    ProcessConfig: { arguments: cfg.cmd.slice(1), entrypoint: cfg.cmd[0], privileged: cfg.privileged, tty: cfg.tty, user: cfg.user ?? '' },
    Running: e.running,
    Pid: e.pid,
  });
}
