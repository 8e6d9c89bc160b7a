/** brig image prune: dangling images (all unused with -a). */
import { humanSize } from '../../render.js';
import type { Verb } from '../../verb.js';

export const prune: Verb = {
  spec: {
    name: 'image prune',
    usage: 'image prune [OPTIONS]',
    summary: 'Remove unused images',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
      { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    ],
  },
  async run(ctx, p) {
    const r = await ctx.engine().pruneImages({ all: p.values.all === true });
    for (const item of r.ImagesDeleted) ctx.stdout.write('Untagged' in item ? `untagged: ${item.Untagged}\n` : `deleted: ${(item as { Deleted: string }).Deleted}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  },
};
