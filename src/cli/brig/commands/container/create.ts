/** brig create: a container made and kept, not started. */
import { needArgs, type Verb } from '../../verb.js';
import { CREATE_FLAGS, createOptions } from './create-options.js';

export const create: Verb = {
  spec: { name: 'create', usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create a new container', interspersed: false, flags: CREATE_FLAGS },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const { Id } = await ctx.engine().createContainer(createOptions(ctx, p));
    ctx.stdout.write(`${Id}\n`);
    return 0;
  },
};
