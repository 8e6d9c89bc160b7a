/** brig update: change a container's resource limits, live when it runs (docker update). */
import { BrigError } from '../../../../errors/index.js';
import type { ResourceUpdate } from '../../../../engine/engine.js';
import { forEachRef, needArgs, type Verb } from '../../verb.js';
import { CREATE_FLAGS, resourceFlags } from './create-options.js';
import { printWarnings } from './create-flow.js';

/** The run flags docker update takes, with the same syntax. */
const NAMES = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-shares', 'cpus', 'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit'];

export const update: Verb = {
  spec: {
    name: 'update',
    usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Update configuration of one or more containers',
    aliases: ['container update'],
    flags: CREATE_FLAGS.filter((f) => NAMES.includes(f.name)),
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    if (p.given.size === 0) throw new BrigError('INVALID_ARGUMENT', 'you must provide one or more flags when using this command', { hint: "See 'brig update --help'." });
    const u = resourceFlags(p) as ResourceUpdate;
    return forEachRef(ctx, p.args, async (ref) => {
      const { Warnings } = await ctx.engine().updateContainer(ref, u).catch((e: Error) => {
        throw new BrigError((e as BrigError).code ?? 'INTERNAL', `Cannot update container ${ref}: ${e.message}`, { cause: e });
      });
      printWarnings(ctx, Warnings);
    });
  },
};
