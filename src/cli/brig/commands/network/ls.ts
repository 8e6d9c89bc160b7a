/** brig network ls: docker's table (or ids with -q, or a --format template). */
import { filterFlag } from '../../filter-flag.js';
import { table } from '../../render.js';
import { noArgs, type Verb } from '../../verb.js';

export const ls: Verb = {
  spec: {
    name: 'network ls',
    usage: 'network ls [OPTIONS]',
    summary: 'List networks',
    aliases: ['network list'],
    flags: [
      { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "driver=bridge")' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
      { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const nets = await ctx.engine().listNetworks({ filters: filterFlag(p, this.spec) });
    const id = (x: string) => (p.values['no-trunc'] === true ? x : x.slice(0, 12));
    if (p.values.quiet === true) ctx.stdout.write(nets.map((n) => `${id(n.Id)}\n`).join(''));
    else ctx.stdout.write(table([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...nets.map((n) => [id(n.Id), n.Name, n.Driver, n.Scope])]));
    return 0;
  },
};
