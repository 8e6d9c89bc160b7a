/** brig network connect: a container onto one more network (at once when it runs). */
import { needArgs, type Verb } from '../../verb.js';

export const connect: Verb = {
  spec: {
    name: 'network connect',
    usage: 'network connect [OPTIONS] NETWORK CONTAINER',
    summary: 'Connect a container to a network',
    flags: [
      { name: 'alias', type: 'list', help: 'Add network-scoped alias for the container' },
      { name: 'ip', type: 'string', help: 'IPv4 address (e.g., "172.30.100.104")' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 2);
    const ip = p.values.ip as string | undefined;
    await ctx.engine().connectNetwork(p.args[0]!, p.args[1]!, { aliases: (p.values.alias as string[] | undefined) ?? [], ...(ip ? { ip } : {}) });
    return 0;
  },
};
