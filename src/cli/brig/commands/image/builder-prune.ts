/** brig builder prune: the build cache. */
import { confirm } from '../../prompt.js';
import { humanSize } from '../../render.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const WARNING = 'WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?';

/**
 * docker builder prune: asks first unless -f, then lists the cache objects removed (cache
 * records' layers, snapshots only the cache kept, cache mounts) and the space freed.
 * brig keeps no cache an image still uses apart from that image, so -a changes nothing.
 */
export const builderPrune: Verb = {
  spec: {
    name: 'builder prune',
    usage: 'builder prune [OPTIONS]',
    summary: 'Remove build cache',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused build cache, not just dangling ones' },
      { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    if (p.values.force !== true && !(await confirm(ctx, WARNING))) return 0;
    return report(ctx, async () => {
      const r = await ctx.engine().pruneBuildCache();
      if (r.CachesDeleted.length > 0) ctx.stdout.write(`ID\tRECLAIMABLE\n${r.CachesDeleted.map((d) => d.replace(/^sha256:/, '').slice(0, 25)).join('\n')}\n`);
      ctx.stdout.write(`Total:\t${humanSize(r.SpaceReclaimed, 4)}\n`);
    });
  },
};
