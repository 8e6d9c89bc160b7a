import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

export const del: Command = {
  name: 'delete',
  usage: 'delete [--force] ID',
  summary: 'delete a stopped container (--force kills it first)',
  flags: { force: { kind: 'bool', short: 'f', help: 'kill the container if it runs' } },
  async run(ctx, { flags, rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'delete needs exactly one container id');
    await ctx.runtime.delete(rest[0]!, { force: flags.force === true });
    return 0;
  },
};
