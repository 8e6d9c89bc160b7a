/** brig container prune: every stopped container (the filters until, label, label! narrow it). */
import type { CommandSpec } from '../../../flags.js';
import { filterFlag } from '../../filter-flag.js';
import { confirm } from '../../prompt.js';
import { humanSize } from '../../render.js';
import { noArgs, type Verb } from '../../verb.js';
import { report } from '../../report.js';

const PRUNE: CommandSpec = {
  name: 'container prune',
  usage: 'container prune [OPTIONS]',
  summary: 'Remove all stopped containers',
  flags: [
    { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export const prune: Verb = {
  spec: PRUNE,
  async run(ctx, p) {
    noArgs(p, PRUNE);
    const filters = filterFlag(p, PRUNE);
    // docker: a "no" cancels quietly, with status 0 and nothing after the prompt.
    if (p.values.force !== true && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
    return report(ctx, async () => {
      const r = await ctx.engine().pruneContainers({ filters });
      const deleted = r.ContainersDeleted.length > 0 ? `Deleted Containers:\n${r.ContainersDeleted.map((id) => `${id}\n`).join('')}\n` : '';
      // go-units HumanSize: four significant digits.
      ctx.stdout.write(`${deleted}Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
    });
  },
};
