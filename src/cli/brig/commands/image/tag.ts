/** brig tag: a new name for an image. */
import { exactArgs, type Verb } from '../../verb.js';

export const tag: Verb = {
  spec: { name: 'tag', usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', aliases: ['image tag'], flags: [] },
  async run(ctx, p) {
    exactArgs(p, this.spec, 2);
    await ctx.engine().tagImage(p.args[0]!, p.args[1]!);
    return 0;
  },
};
