/** brig network rm: each network's name as it goes; one in use is refused (exit 1). */
import { needArgs, type Verb } from '../../verb.js';

export const rm: Verb = {
  spec: {
    name: 'network rm',
    usage: 'network rm NETWORK [NETWORK...]',
    summary: 'Remove one or more networks',
    aliases: ['network remove'],
    flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Do not error if the network does not exist' }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    let failed = 0;
    for (const ref of p.args) {
      try {
        await ctx.engine().removeNetwork(ref);
        ctx.stdout.write(`${ref}\n`);
      } catch (e) {
        if (p.values.force === true && (e as { code?: string }).code === 'NETWORK_NOT_FOUND') continue;
        failed++;
        ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
