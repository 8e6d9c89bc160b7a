import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

export const pause: Command = {
  name: 'pause',
  usage: 'pause ID',
  summary: 'freeze every process of a container',
  flags: {},
  async run(ctx, { rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'pause needs exactly one container id');
    await ctx.runtime.pause(rest[0]!);
    return 0;
  },
};

export const resume: Command = {
  name: 'resume',
  usage: 'resume ID',
  summary: 'thaw a paused container',
  flags: {},
  async run(ctx, { rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'resume needs exactly one container id');
    await ctx.runtime.resume(rest[0]!);
    return 0;
  },
};
