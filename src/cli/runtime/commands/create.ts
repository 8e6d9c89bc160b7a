import path from 'node:path';
import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

/** Flags shared by create and run, as runc has them. */
export const CREATE_FLAGS = {
  bundle: { kind: 'string' as const, short: 'b', help: 'bundle directory (default: current directory)' },
  'pid-file': { kind: 'string' as const, help: 'write the init pid here' },
  'no-pivot': { kind: 'bool' as const, help: 'use chroot instead of pivot_root' },
  'no-new-keyring': { kind: 'bool' as const, help: "keep the caller's session keyring (default: a new one, _ses.<id>)" },
  'preserve-fds': { kind: 'int' as const, help: 'pass N more fds (3..3+N-1) to the container' },
  'console-socket': { kind: 'string' as const, help: 'unix socket that receives the pty master (process.terminal)' },
};

export function createOptions(flags: Record<string, unknown>, cwd: string) {
  const preserve = (flags['preserve-fds'] as number | undefined) ?? 0;
  return {
    bundle: path.resolve(cwd, (flags.bundle as string | undefined) ?? '.'),
    noPivot: flags['no-pivot'] === true,
    noNewKeyring: flags['no-new-keyring'] === true,
    preserveFds: preserve,
    stdio: [0, 1, 2, ...Array.from({ length: preserve }, (_, i) => 3 + i)] as number[],
    ...(flags['pid-file'] ? { pidFile: path.resolve(cwd, flags['pid-file'] as string) } : {}),
    ...(flags['console-socket'] ? { consoleSocket: path.resolve(cwd, flags['console-socket'] as string) } : {}),
  };
}

export const create: Command = {
  name: 'create',
  launches: true,
  usage: 'create [--bundle DIR] [--pid-file FILE] [--no-pivot] [--preserve-fds N] ID',
  summary: 'set a container up; its program waits for start',
  flags: CREATE_FLAGS,
  async run(ctx, { flags, rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', `create needs exactly one container id, got ${rest.length}`);
    await ctx.runtime.create(rest[0]!, createOptions(flags, ctx.cwd));
    return 0;
  },
};

export const start: Command = {
  name: 'start',
  usage: 'start ID',
  summary: 'run the program of a created container',
  flags: {},
  async run(ctx, { rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'start needs exactly one container id');
    if (ctx.startFailed) await ctx.runtime.startFailed(rest[0]!, ctx.startFailed);
    await ctx.runtime.start(rest[0]!);
    return 0;
  },
};
