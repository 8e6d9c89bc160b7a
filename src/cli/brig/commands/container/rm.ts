/** brig rm: remove containers; a running one needs -f (then it is killed first). */
import { PARALLEL_OPS, perRef } from '../../verb.js';

export const rm = perRef(
  {
    name: 'rm',
    usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Remove one or more containers',
    aliases: ['container remove'],
    flags: [
      { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
      { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
    ],
  },
  (ctx, p, ref) => ctx.engine().removeContainer(ref, { force: p.values.force === true, volumes: p.values.volumes === true }),
  PARALLEL_OPS,
);
