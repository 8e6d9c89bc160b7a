import { BrigError } from '../../../errors/index.js';
import { parseSignal } from '../../../util/signals.js';
import type { Command } from '../command.js';

export const kill: Command = {
  name: 'kill',
  usage: 'kill [--all] ID [SIGNAL]',
  summary: "send a signal to a container's init (default SIGTERM)",
  flags: { all: { kind: 'bool', short: 'a', help: 'signal every process of the container' } },
  async run(ctx, { flags, rest }) {
    if (rest.length < 1 || rest.length > 2) {
      throw new BrigError('INVALID_ARGUMENT', 'kill needs a container id and optionally a signal');
    }
    await ctx.runtime.kill(rest[0]!, parseSignal(rest[1] ?? 'SIGTERM'), { all: flags.all === true });
    return 0;
  },
};
