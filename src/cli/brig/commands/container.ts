/**
 * The container verbs, with docker's flags and output: run, create, start, stop, kill, rm,
 * wait, ps, logs, inspect, and `brig container <verb>` for each. Each parses its flags from
 * one table (which also makes its --help), calls the Engine and renders what it returns.
 */
import { BrigError } from '../../../errors/index.js';
import { forwardSignalsUntil } from '../../forward-signals.js';
import { type CommandSpec, type Flag, helpText, parseFlags, type ParsedCommand } from '../../flags.js';
import type { BrigCommand, BrigContext } from '../context.js';
import { inspectFormatter, listFormatter } from '../../format/docker.js';
import { PS_DEFAULT, PS_HEADER, psContext } from '../../format/contexts.js';
import type { CreateContainerOptions } from '../../../engine/engine.js';
import { attach, parseDetachKeys, startAndAttach, startAttached } from './attach.js';

const CREATE_FLAGS: Flag[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', help: 'Log driver options' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
];

const DETACH_KEYS: Flag = { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' };

const RUN: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    DETACH_KEYS,
    { name: 'sig-proxy', type: 'bool', default: 'true', help: 'Proxy received signals to the process' },
    ...CREATE_FLAGS,
  ],
};
const CREATE: CommandSpec = { name: 'create', usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create a new container', interspersed: false, flags: CREATE_FLAGS };
const START: CommandSpec = {
  name: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    DETACH_KEYS,
    { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
  ],
};
const STOP: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  flags: [
    { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' },
    { name: 'time', short: 't', type: 'int', help: 'Seconds to wait before killing the container' },
  ],
};
const KILL: CommandSpec = {
  name: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  flags: [{ name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', default: 'KILL' }],
};
const RM: CommandSpec = {
  name: 'rm',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
};
const WAIT: CommandSpec = { name: 'wait', usage: 'wait CONTAINER [CONTAINER...]', summary: 'Block until one or more containers stop, then print their exit codes', flags: [] };
const PS: CommandSpec = {
  name: 'ps',
  usage: 'ps [OPTIONS]',
  summary: 'List containers',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
  ],
};
const LOGS: CommandSpec = {
  name: 'logs',
  usage: 'logs [OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  flags: [
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs', default: 'all' },
    { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
};
const INSPECT: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on Docker objects',
  flags: [
    { name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
    { name: 'type', type: 'string', help: 'Return JSON for specified type' },
  ],
};

export function parse(ctx: BrigContext, argv: string[], spec: CommandSpec): ParsedCommand | undefined {
  const p = parseFlags(argv, spec);
  if (p.help) {
    ctx.stdout.write(helpText(spec));
    return undefined;
  }
  return p;
}

function needArgs(p: ParsedCommand, spec: CommandSpec, min: number): void {
  if (p.args.length < min) {
    throw new BrigError('INVALID_ARGUMENT', `"brig ${spec.name}" requires at least ${min} argument${min === 1 ? '' : 's'}.`, { hint: `See 'brig ${spec.name} --help'.` });
  }
}

/** docker's -e: "A=1" as given; "A" takes the caller's value, and is left out when it has none. */
function envList(list: string[] | undefined, env: NodeJS.ProcessEnv): string[] | undefined {
  if (!list) return undefined;
  return list.flatMap((e) => (e.includes('=') ? [e] : env[e] !== undefined ? [`${e}=${env[e]}`] : []));
}

function keyValues(list: string[] | undefined, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0 && field === '--log-opt') throw new BrigError('INVALID_ARGUMENT', `${field} ${kv}: expected key=value`, { field });
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

function createOptions(ctx: BrigContext, p: ParsedCommand): CreateContainerOptions {
  const [image, ...cmd] = p.args;
  const v = p.values;
  const env = envList(v.env as string[] | undefined, ctx.env);
  return {
    image: image!,
    cmd,
    rm: v.rm === true,
    tty: v.tty === true,
    interactive: v.interactive === true,
    ...(v.name !== undefined ? { name: v.name as string } : {}),
    ...(env ? { env } : {}),
    ...(v.workdir !== undefined ? { workdir: v.workdir as string } : {}),
    ...(v.user !== undefined ? { user: v.user as string } : {}),
    ...(v.hostname !== undefined ? { hostname: v.hostname as string } : {}),
    ...(v.label ? { labels: keyValues(v.label as string[], '--label') } : {}),
    ...(v['log-driver'] !== undefined ? { logDriver: v['log-driver'] as string } : {}),
    ...(v['log-opt'] ? { logOpts: keyValues(v['log-opt'] as string[], '--log-opt') } : {}),
    ...(v['stop-signal'] !== undefined ? { stopSignal: v['stop-signal'] as string } : {}),
    ...(v['stop-timeout'] !== undefined ? { stopTimeout: v['stop-timeout'] as number } : {}),
  };
}

export const run: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, RUN);
  if (!p) return 0;
  needArgs(p, RUN, 1);
  const opts = createOptions(ctx, p);
  const detachKeys = parseDetachKeys(p.values['detach-keys'] as string | undefined);
  const sigProxy = p.values['sig-proxy'] !== false;
  const engine = ctx.engine();
  if (p.values.detach !== true && opts.rm) {
    // The fast path: a foreground container removed when it exits needs no monitor or record.
    const c = await engine.runContainer({
      ...opts,
      stdio: [opts.interactive || opts.tty ? 0 : 'ignore', 1, 2],
    });
    return sigProxy ? forwardSignalsUntil(c.exit, (sig) => c.kill(sig)) : c.exit;
  }
  const { Id } = await engine.createContainer(opts);
  if (p.values.detach === true) {
    await engine.startContainer(Id);
    ctx.stdout.write(`${Id}\n`);
    return 0;
  }
  // Attached from before it runs: its output (a terminal's, or stdout and stderr apart), our
  // stdin with -i, then its exit code; the detach keys leave it running (status 0, as docker).
  const end = await startAttached(ctx, engine, { id: Id, tty: opts.tty, stdin: opts.interactive, detachKeys, sigProxy });
  return end.detached ? 0 : end.code;
};

export const create: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, CREATE);
  if (!p) return 0;
  needArgs(p, CREATE, 1);
  const { Id } = await ctx.engine().createContainer(createOptions(ctx, p));
  ctx.stdout.write(`${Id}\n`);
  return 0;
};

/** Runs `fn` for every container named, as docker does: report each failure, exit 1 if any. */
async function each(ctx: BrigContext, refs: string[], fn: (ref: string) => Promise<string | void>): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    try {
      const out = await fn(ref);
      ctx.stdout.write(`${out ?? ref}\n`);
    } catch (e) {
      failed++;
      ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** A verb applied to each container named: parse, then `act` per container (docker's each-and-report). */
function perContainer(spec: CommandSpec, act: (ctx: BrigContext, p: ParsedCommand, ref: string) => Promise<string | void>): BrigCommand {
  return async (ctx, argv) => {
    const p = parse(ctx, argv, spec);
    if (!p) return 0;
    needArgs(p, spec, 1);
    return each(ctx, p.args, (ref) => act(ctx, p, ref));
  };
}

const stopOptions = (p: ParsedCommand) => ({
  ...(p.values.time !== undefined ? { timeout: p.values.time as number } : {}),
  ...(p.values.signal !== undefined ? { signal: p.values.signal as string } : {}),
});

const startEach = perContainer(START, (ctx, _p, ref) => ctx.engine().startContainer(ref));

export const start: BrigCommand = async (ctx, argv) => {
  const p = parseFlags(argv, START);
  if (p.help || (p.values.attach !== true && p.values.interactive !== true)) return startEach(ctx, argv);
  needArgs(p, START, 1);
  if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', 'you cannot start and attach multiple containers at once');
  return startAndAttach(ctx, p.args[0]!, { interactive: p.values.interactive === true, detachKeys: parseDetachKeys(p.values['detach-keys'] as string | undefined) });
};

export const stop = perContainer(STOP, (ctx, p, ref) => ctx.engine().stopContainer(ref, stopOptions(p)));

export const kill = perContainer(KILL, (ctx, p, ref) => ctx.engine().killContainer(ref, p.values.signal as string));

export const rm = perContainer(RM, (ctx, p, ref) => ctx.engine().removeContainer(ref, { force: p.values.force === true }));

export const wait = perContainer(WAIT, async (ctx, _p, ref) => String((await ctx.engine().waitContainer(ref)).StatusCode));

export const ps: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, PS);
  if (!p) return 0;
  // docker's layout for every form: -q is {{.ID}} unless a template is given; the default is
  // its table. The template is parsed before any work, so a bad one fails fast (exit 125).
  const given = p.values.format as string | undefined;
  const format = listFormatter(p.values.quiet === true && (given === undefined || given === 'table') ? '{{.ID}}' : given, PS_DEFAULT);
  const list = await ctx.engine().listContainers({ all: p.values.all === true });
  const now = Date.now();
  ctx.stdout.write(format.render(list.map((c) => psContext(c, { trunc: p.values['no-trunc'] !== true, now })), PS_HEADER));
  return 0;
};

/** docker's --since/--until: RFC 3339, unix seconds, or a Go duration before now ("42m", "1h30m"). */
export function parseTime(s: string, field: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(s);
  if (dur && s !== '') return (now - (Number(dur[1] ?? 0) * 3600 + Number(dur[2] ?? 0) * 60 + Number(dur[3] ?? 0)) * 1000) / 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new BrigError('INVALID_ARGUMENT', `${field}: invalid time "${s}"`, { field, hint: 'RFC 3339, unix seconds, or a duration like 42m' });
  return t / 1000;
}

async function printLogs(ctx: BrigContext, lines: AsyncIterable<{ stream: string; log: string; time: string }>, timestamps: boolean): Promise<void> {
  for await (const l of lines) {
    const out = l.stream === 'stderr' ? ctx.stderr : ctx.stdout;
    out.write(timestamps ? `${l.time} ${l.log}` : l.log);
  }
}

export const logs: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, LOGS);
  if (!p) return 0;
  if (p.args.length !== 1) throw new BrigError('INVALID_ARGUMENT', '"brig logs" requires exactly 1 argument.', { hint: "See 'brig logs --help'." });
  const tail = p.values.tail as string;
  if (tail !== 'all' && !/^-?\d+$/.test(tail)) throw new BrigError('INVALID_ARGUMENT', `--tail: invalid value "${tail}"`, { field: '--tail' });
  await printLogs(
    ctx,
    ctx.engine().containerLogs(p.args[0]!, {
      follow: p.values.follow === true,
      ...(tail !== 'all' && Number(tail) >= 0 ? { tail: Number(tail) } : {}),
      ...(p.values.since !== undefined ? { since: parseTime(p.values.since as string, '--since') } : {}),
      ...(p.values.until !== undefined ? { until: parseTime(p.values.until as string, '--until') } : {}),
    }),
    p.values.timestamps === true,
  );
  return 0;
};

export const inspect: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, INSPECT);
  if (!p) return 0;
  needArgs(p, INSPECT, 1);
  const type = p.values.type as string | undefined;
  if (type !== undefined && type !== 'container' && type !== 'image') throw new BrigError('INVALID_ARGUMENT', `"${type}" is not a valid value for --type`, { field: '--type' });
  const format = inspectFormatter(p.values.format as string | undefined);
  const engine = ctx.engine();
  const out: unknown[] = [];
  let failed = 0;
  for (const ref of p.args) {
    try {
      if (type === 'image') out.push(await engine.inspectImage(ref));
      else {
        try {
          out.push(await engine.inspectContainer(ref));
        } catch (e) {
          if (type === 'container' || (e as BrigError).code !== 'CONTAINER_NOT_FOUND') throw e;
          out.push(await engine.inspectImage(ref));
        }
      }
    } catch (e) {
      failed++;
      ctx.stderr.write(`Error: No such object: ${ref}\n`);
      if ((e as BrigError).code !== 'CONTAINER_NOT_FOUND' && (e as BrigError).code !== 'IMAGE_NOT_FOUND') ctx.stderr.write(`${(e as Error).message}\n`);
    }
  }
  ctx.stdout.write(format.render(out));
  return failed ? 1 : 0;
};

const EXEC: CommandSpec = {
  name: 'exec',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  ],
};

export const exec: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, EXEC);
  if (!p) return 0;
  needArgs(p, EXEC, 2);
  const [ref, ...cmd] = p.args;
  const v = p.values;
  if (v.workdir !== undefined && !(v.workdir as string).startsWith('/')) {
    throw new BrigError('INVALID_ARGUMENT', `the working directory '${v.workdir}' is invalid, it needs to be an absolute path`, { field: '--workdir' });
  }
  const env = envList(v.env as string[] | undefined, ctx.env);
  const tty = v.tty === true;
  const started = await ctx.engine().execContainer(ref!, {
    cmd,
    tty,
    interactive: v.interactive === true,
    detach: v.detach === true,
    // Without -i (or -t) the process reads nothing: docker gives it an empty stdin.
    stdio: [v.interactive === true || tty ? 0 : 'ignore', 1, 2],
    ...(env ? { env } : {}),
    ...(v.workdir !== undefined ? { workdir: v.workdir as string } : {}),
    ...(v.user !== undefined ? { user: v.user as string } : {}),
  });
  if (v.detach === true) return 0;
  return forwardSignalsUntil(started.exit, (sig) => process.kill(started.pid, sig));
};

const SIMPLE = (name: string, summary: string): CommandSpec => ({ name, usage: `${name} CONTAINER [CONTAINER...]`, summary, flags: [] });
const PAUSE = SIMPLE('pause', 'Pause all processes within one or more containers');
const UNPAUSE = SIMPLE('unpause', 'Unpause all processes within one or more containers');
const RESTART: CommandSpec = { ...STOP, name: 'restart', usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Restart one or more containers' };
const RENAME: CommandSpec = { name: 'rename', usage: 'rename CONTAINER NEW_NAME', summary: 'Rename a container', flags: [] };

export const pause = perContainer(PAUSE, (ctx, _p, ref) => ctx.engine().pauseContainer(ref));

export const unpause = perContainer(UNPAUSE, (ctx, _p, ref) => ctx.engine().unpauseContainer(ref));

export const restart = perContainer(RESTART, (ctx, p, ref) => ctx.engine().restartContainer(ref, stopOptions(p)));

export const rename: BrigCommand = async (ctx, argv) => {
  const p = parse(ctx, argv, RENAME);
  if (!p) return 0;
  if (p.args.length !== 2) throw new BrigError('INVALID_ARGUMENT', '"brig rename" requires exactly 2 arguments.', { hint: "See 'brig rename --help'." });
  await ctx.engine().renameContainer(p.args[0]!, p.args[1]!);
  return 0;
};

/** The monitor's on-exit command (not for users): runtime state away; with --rm, the container. */
const cleanup: BrigCommand = async (ctx, argv) => {
  if (argv.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'container cleanup needs one container id');
  await ctx.engine().cleanupContainer(argv[0]!);
  return 0;
};

export const CONTAINER_VERBS: Record<string, BrigCommand> = { attach, run, create, start, stop, kill, rm, wait, ls: ps, ps, list: ps, logs, inspect, exec, pause, unpause, restart, rename, cleanup };

export const container: BrigCommand = async (ctx, argv) => {
  const [verb, ...rest] = argv;
  const cmd = verb ? CONTAINER_VERBS[verb] : undefined;
  if (!cmd) throw new BrigError('INVALID_ARGUMENT', `unknown command "container ${verb ?? ''}"`, { hint: 'run, create, start, stop, restart, kill, pause, unpause, rm, wait, ls, logs, inspect, exec, rename' });
  return cmd(ctx, rest);
};
