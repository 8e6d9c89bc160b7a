/** brig network disconnect: a container off a network (its interface goes at once when it runs). */
import { needArgs, type Verb } from '../../verb.js';

export const disconnect: Verb = {
  spec: {
    name: 'network disconnect',
    usage: 'network disconnect [OPTIONS] NETWORK CONTAINER',
    summary: 'Disconnect a container from a network',
    flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 2);
    await ctx.engine().disconnectNetwork(p.args[0]!, p.args[1]!);
    return 0;
  },
};
