/** `brig container cleanup ID`: the monitor's on-exit command (not for users): runtime state away; with --rm, the container. */
import { exactArgs, type Verb } from '../../verb.js';

export const cleanup: Verb = {
  spec: { name: 'container cleanup', usage: 'container cleanup ID', summary: "A container monitor's on-exit work (internal)", flags: [], hidden: true },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    await ctx.engine().cleanupContainer(p.args[0]!);
    return 0;
  },
};
