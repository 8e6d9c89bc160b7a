import { constants as os } from 'node:os';
import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';
import { CREATE_FLAGS, createOptions } from './create.js';

/** Signals a foreground `run` passes on to the container's init, as runc does. */
const FORWARDED: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

export const run: Command = {
  name: 'run',
  launches: true,
  usage: 'run [--bundle DIR] [--detach] [--pid-file FILE] [--no-pivot] [--preserve-fds N] ID',
  summary: 'create and start a container',
  flags: { ...CREATE_FLAGS, detach: { kind: 'bool', short: 'd', help: 'do not wait for the container to exit' } },
  async run(ctx, { flags, rest }) {
    const id = rest[0];
    if (!id || rest.length > 1)
      throw new BrigError('INVALID_ARGUMENT', `run needs exactly one container id, got ${rest.length}`);
    const started = await ctx.runtime.run(id, { ...createOptions(flags, ctx.cwd), detach: flags.detach === true });
    if (flags.detach) return 0;
    const forward = (sig: NodeJS.Signals) => {
      try {
        process.kill(started.pid, os.signals[sig]);
      } catch {}
    };
    for (const s of FORWARDED) process.on(s, forward);
    try {
      return await started.exit;
    } finally {
      for (const s of FORWARDED) process.off(s, forward);
    }
  },
};
