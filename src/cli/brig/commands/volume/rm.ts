/** brig volume rm: each volume named; one in use by a container is refused (docker's message). */
import { perRef } from '../../verb.js';

export const rm = perRef(
  {
    name: 'volume rm',
    usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
    summary: 'Remove one or more volumes',
    aliases: ['volume remove'],
    flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }],
  },
  (ctx, p, name) => ctx.engine().removeVolume(name, { force: p.values.force === true }),
);
