import { BrigError } from '../../../errors/index.js';
import { forwardSignalsUntil } from '../../forward-signals.js';
import type { Command } from '../command.js';
import { CREATE_FLAGS, createOptions } from './create.js';


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
    return forwardSignalsUntil(started.exit, (sig) => process.kill(started.pid, sig));
  },
};
