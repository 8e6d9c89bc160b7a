
import path from 'node:path';
import { BrigError } from '../../../errors/index.js';
import { CAPABILITIES } from '../../../runtime/linux/constants.js';
import type { ExecProcess } from '../../../runtime/runtime.js';
import type { Process } from '../../../runtime/spec/types.js';
import { parseSpecJson, readProcess } from '../../../runtime/spec/validate.js';
import { forwardSignalsUntil } from '../../forward-signals.js';
import type { Command, Context } from '../command.js';
import { readTextSync } from '../../../util/read-text.js';

/**
 * The process to exec: --process FILE as given (validated like config.json's process), or
 * the container's own process with runc's flag overrides (args, cwd, env, user, groups, caps),
 * applied by the runtime to the config it reads anyway.
 */
function execProcess(ctx: Context, flags: Record<string, unknown>, args: string[]): ExecProcess {
  if (flags.process) {
    const file = path.resolve(ctx.cwd, flags.process as string);
    const p = readProcess(parseSpecJson(readTextSync(file), file), 'process');
    return { ...p, args: p.args! };
  }
  if (args.length === 0) throw new BrigError('INVALID_ARGUMENT', 'exec needs a command (or --process FILE)');
  return (base) => withFlags(base, flags, args);
}

function withFlags(base: Process, flags: Record<string, unknown>, args: string[]): Process & { args: string[] } {
  const p: Process & { args: string[] } = { ...base, args, user: { ...base.user }, terminal: flags.tty === true };
  if (flags.cwd) p.cwd = flags.cwd as string;
  if (!p.cwd.startsWith('/')) throw new BrigError('INVALID_ARGUMENT', `--cwd "${p.cwd}" must be absolute`, { field: '--cwd' });
  for (const e of (flags.env as string[] | undefined) ?? []) {
    if (!e.includes('=')) throw new BrigError('INVALID_ARGUMENT', `--env "${e}" is not NAME=value`, { field: '--env' });
    const name = e.slice(0, e.indexOf('='));
    p.env = [...(p.env ?? []).filter((x) => !x.startsWith(`${name}=`)), e];
  }
  if (flags.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(flags.user as string);
    if (!m) throw new BrigError('INVALID_ARGUMENT', `--user "${flags.user}" must be uid[:gid]`, { field: '--user' });
    p.user = { ...p.user, uid: Number(m[1]), gid: Number(m[2] ?? p.user.gid) };
  }
  for (const g of (flags['additional-gids'] as string[] | undefined) ?? []) {
    if (!/^\d+$/.test(g)) throw new BrigError('INVALID_ARGUMENT', `--additional-gids "${g}" is not a number`, { field: '--additional-gids' });
    p.user.additionalGids = [...(p.user.additionalGids ?? []), Number(g)];
  }
  const caps = ((flags.cap as string[] | undefined) ?? []).map((c) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`));
  for (const c of caps) {
    if (!(CAPABILITIES as readonly string[]).includes(c)) throw new BrigError('INVALID_ARGUMENT', `--cap: unknown capability "${c}"`, { field: '--cap' });
  }
  if (caps.length) {
    const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...caps])];
    const pc = p.capabilities ?? {};
    p.capabilities = { ...pc, bounding: add(pc.bounding), effective: add(pc.effective), permitted: add(pc.permitted) };
  }
  if (flags['no-new-privs']) p.noNewPrivileges = true;
  return p;
}

export const exec: Command = {
  name: 'exec',
  launches: true,
  usage: 'exec [--process FILE] [-e K=V] [--cwd DIR] [-u UID[:GID]] [-g GID] [-c CAP] [--no-new-privs] [-d] [--pid-file F] ID [COMMAND ARGS...]',
  summary: 'run a new process in a running container',
  stopAtPositional: true,
  flags: {
    process: { kind: 'string', short: 'p', help: 'OCI process JSON' },
    env: { kind: 'strings', short: 'e' },
    cwd: { kind: 'string' },
    user: { kind: 'string', short: 'u' },
    'additional-gids': { kind: 'strings', short: 'g' },
    cap: { kind: 'strings', short: 'c' },
    'no-new-privs': { kind: 'bool' },
    detach: { kind: 'bool', short: 'd' },
    'pid-file': { kind: 'string' },
    'preserve-fds': { kind: 'int' },
    tty: { kind: 'bool', short: 't' },
    'console-socket': { kind: 'string' },
    'process-label': { kind: 'string' },
    apparmor: { kind: 'string' },
    'ignore-paused': { kind: 'bool' },
  },
  async run(ctx, { flags, rest }) {
    const [id, ...args] = rest;
    if (!id) throw new BrigError('INVALID_ARGUMENT', 'exec needs a container id');
    if (flags['process-label'] || flags.apparmor) throw new BrigError('UNSUPPORTED_FIELD', 'no SELinux or AppArmor on this host', { field: '--process-label' });
    const proc = execProcess(ctx, flags, args);
    const preserve = (flags['preserve-fds'] as number | undefined) ?? 0;
    const started = await ctx.runtime.exec(id, proc, {
      detach: flags.detach === true,
      preserveFds: preserve,
      ...(flags['console-socket'] ? { consoleSocket: path.resolve(ctx.cwd, flags['console-socket'] as string) } : {}),
      stdio: [0, 1, 2, ...Array.from({ length: preserve }, (_, i) => 3 + i)],
      ...(flags['pid-file'] ? { pidFile: path.resolve(ctx.cwd, flags['pid-file'] as string) } : {}),
    });
    if (flags.detach) return 0;
    return forwardSignalsUntil(started.exit, (sig) => process.kill(started.pid, sig));
  },
};
