import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

export const state: Command = {
  name: 'state',
  usage: 'state ID',
  summary: "print a container's state as JSON",
  flags: {},
  async run(ctx, { rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'state needs exactly one container id');
    ctx.stdout.write(`${JSON.stringify(await ctx.runtime.state(rest[0]!), null, 2)}\n`);
    return 0;
  },
};
