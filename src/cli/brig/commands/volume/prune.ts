/** brig volume prune: unused anonymous volumes (-a: every unused one), as docker 23+. */
import type { CommandSpec } from '../../../flags.js';
import { filterFlag } from '../../filter-flag.js';
import { confirm } from '../../prompt.js';
import { humanSize } from '../../render.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const PRUNE: CommandSpec = {
  name: 'volume prune',
  usage: 'volume prune [OPTIONS]',
  summary: 'Remove unused local volumes',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
    { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "label=<label>")' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export const prune: Verb = {
  spec: PRUNE,
  async run(ctx, p) {
    noArgs(p, PRUNE);
    const filters = filterFlag(p, PRUNE) as Record<string, string[]>;
    const all = p.values.all === true;
    if (all) filters.all = ['true'];
    const warning = all ? 'WARNING! This will remove all local volumes not used by at least one container.' : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (p.values.force !== true && !(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
    return report(ctx, async () => {
      const r = await ctx.engine().pruneVolumes({ filters });
      const deleted = r.VolumesDeleted.length > 0 ? `Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}\n` : '';
      ctx.stdout.write(`${deleted}Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
    });
  },
};
