/** brig rename: a container's new name. */
import { exactArgs, type Verb } from '../../verb.js';

export const rename: Verb = {
  spec: { name: 'rename', usage: 'rename CONTAINER NEW_NAME', summary: 'Rename a container', flags: [] },
  async run(ctx, p) {
    exactArgs(p, this.spec, 2);
    await ctx.engine().renameContainer(p.args[0]!, p.args[1]!);
    return 0;
  },
};
