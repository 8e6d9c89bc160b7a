/** brig diff: a container's changes against its image (A, C, D). */
import type { CommandSpec } from '../../../flags.js';
import { exactArgs, type Verb } from '../../verb.js';
import { report } from '../../report.js';

const DIFF: CommandSpec = { name: 'diff', usage: 'diff CONTAINER', summary: "Inspect changes to files or directories on a container's filesystem", flags: [] };

export const diff: Verb = {
  spec: DIFF,
  async run(ctx, p) {
  exactArgs(p, DIFF, 1);
  return report(ctx, async () => {
    const changes = await ctx.engine().containerChanges(p.args[0]!);
    ctx.stdout.write(changes.map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join(''));
  });
  },
};
