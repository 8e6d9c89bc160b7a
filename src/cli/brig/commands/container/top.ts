/** brig top: the container's processes through the host's ps, with ps's options after the container. */
import { tabwrite } from '../../../format/tabwriter.js';
import type { CommandSpec } from '../../../flags.js';
import { needArgs, type Verb } from '../../verb.js';
import { report } from '../../report.js';

const TOP: CommandSpec = {
  name: 'top',
  usage: 'top CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  aliases: ['container top'],
  // Everything after the container is ps's.
  interspersed: false,
  flags: [],
};

export const top: Verb = {
  spec: TOP,
  async run(ctx, p) {
    needArgs(p, TOP, 1);
    const [ref, ...psArgs] = p.args;
    return report(ctx, async () => {
      // docker sends the options as one string (ps_args), cut again at spaces by the engine.
      const r = await ctx.engine().topContainer(ref!, psArgs.join(' '));
      // docker's table: tabwriter with minwidth 20, padding 3.
      ctx.stdout.write(tabwrite([r.Titles, ...r.Processes].map((row) => `${row.join('\t')}\n`).join(''), { minWidth: 20 }));
    });
  },
};
