/** brig kill: a signal (SIGKILL unless -s) to each container's init. */
import { PARALLEL_OPS, perRef } from '../../verb.js';

export const kill = perRef(
  {
    name: 'kill',
    usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Kill one or more running containers',
    flags: [{ name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', default: 'KILL' }],
  },
  (ctx, p, ref) => ctx.engine().killContainer(ref, p.values.signal as string),
  PARALLEL_OPS,
);
