/** brig wait: each container's exit code once it has stopped. */
import { perRef } from '../../verb.js';

export const wait = perRef(
  { name: 'wait', usage: 'wait CONTAINER [CONTAINER...]', summary: 'Block until one or more containers stop, then print their exit codes', flags: [] },
  async (ctx, _p, ref) => String((await ctx.engine().waitContainer(ref)).StatusCode),
);
