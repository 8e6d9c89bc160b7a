/** brig create: a container made and kept, not started. */
import { needArgs, type Verb } from '../../verb.js';
import { createFromPlan } from './create-flow.js';
import { CREATE_FLAGS, createPlan } from './create-options.js';

export const create: Verb = {
  spec: { name: 'create', usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create a new container', aliases: ['container create'], interspersed: false, flags: CREATE_FLAGS },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    ctx.stdout.write(`${await createFromPlan(ctx, createPlan(ctx, p))}\n`);
    return 0;
  },
};
