/** brig image prune: dangling images (every image no container uses, with -a). */
import type { RemoveItem } from '../../../../engine/engine.js';
import { confirm } from '../../prompt.js';
import { filterFlag } from '../../filter-flag.js';
import { humanSize } from '../../render.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const ALL_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

/** docker's lines for what an image removal did: untagged NAME, deleted ID. */
export function deletedLines(items: RemoveItem[]): string[] {
  return items.map((item) => ('Untagged' in item ? `untagged: ${item.Untagged}` : `deleted: ${item.Deleted}`));
}

/**
 * docker image prune: asks first unless -f (the answer is read from stdin whatever it is; no
 * means exit 0 having done nothing, as docker 25+), then lists what went and the disk space
 * freed. --filter until=, label=, label!= narrow it; -a is the filter dangling=false.
 */
export const prune: Verb = {
  spec: {
    name: 'image prune',
    usage: 'image prune [OPTIONS]',
    summary: 'Remove unused images',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
      { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const all = p.values.all === true;
    const filters = { ...filterFlag(p, this.spec), dangling: [String(!all)] };
    if (p.values.force !== true && !(await confirm(ctx, all ? ALL_WARNING : DANGLING_WARNING))) return 0;
    return report(ctx, async () => {
      const r = await ctx.engine().pruneImages({ filters });
      if (r.ImagesDeleted.length > 0) {
        ctx.stdout.write(`Deleted Images:\n${deletedLines(r.ImagesDeleted).join('\n')}\n\n`);
      }
      // go-units HumanSize: four significant digits.
      ctx.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
    });
  },
};
