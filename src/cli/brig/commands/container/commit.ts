/** brig commit: a new image from a container's changes (-c Dockerfile instructions, -m, -a, -p). */
import { BrigError } from '../../../../errors/index.js';
import type { CommandSpec } from '../../../flags.js';
import type { Verb } from '../../verb.js';
import { report } from '../../report.js';

const COMMIT: CommandSpec = {
  name: 'commit',
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  flags: [
    { name: 'author', short: 'a', type: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', help: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', help: 'Pause container during commit (default true)', default: 'true' },
  ],
};

export const commit: Verb = {
  spec: COMMIT,
  async run(ctx, p) {
  if (p.args.length < 1 || p.args.length > 2) {
    throw new BrigError('INVALID_ARGUMENT', '"brig commit" requires at least 1 and at most 2 arguments.', { hint: "See 'brig commit --help'." });
  }
  const v = p.values;
  return report(ctx, async () => {
    const r = await ctx.engine().commitContainer(p.args[0]!, {
      pause: v.pause !== false,
      ...(p.args[1] !== undefined ? { reference: p.args[1] } : {}),
      ...(v.message !== undefined ? { comment: v.message as string } : {}),
      ...(v.author !== undefined ? { author: v.author as string } : {}),
      ...(v.change !== undefined ? { changes: v.change as string[] } : {}),
    });
    ctx.stdout.write(`${r.Id}\n`);
  });
  },
};
