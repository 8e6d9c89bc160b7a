/** brig network prune: every network no container uses. */
import { confirm } from '../../prompt.js';
import { filterFlag } from '../../filter-flag.js';
import { noArgs, type Verb } from '../../verb.js';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export const prune: Verb = {
  spec: {
    name: 'network prune',
    usage: 'network prune [OPTIONS]',
    summary: 'Remove all unused networks',
    flags: [
      { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    if (p.values.force !== true && !(await confirm(ctx, WARNING))) return 0;
    const r = await ctx.engine().pruneNetworks({ filters: filterFlag(p, this.spec) });
    if (r.NetworksDeleted.length) ctx.stdout.write(`Deleted Networks:\n${r.NetworksDeleted.join('\n')}\n`);
    return 0;
  },
};
