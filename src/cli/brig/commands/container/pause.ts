/** brig pause and unpause: the cgroup freezer on every process of each container. */
import { PARALLEL_OPS, perRef } from '../../verb.js';

export const pause = perRef(
  { name: 'pause', usage: 'pause CONTAINER [CONTAINER...]', summary: 'Pause all processes within one or more containers', flags: [] },
  (ctx, _p, ref) => ctx.engine().pauseContainer(ref),
  PARALLEL_OPS,
);

export const unpause = perRef(
  { name: 'unpause', usage: 'unpause CONTAINER [CONTAINER...]', summary: 'Unpause all processes within one or more containers', flags: [] },
  (ctx, _p, ref) => ctx.engine().unpauseContainer(ref),
  PARALLEL_OPS,
);
