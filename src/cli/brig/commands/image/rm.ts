/** brig rmi (image rm): untag and delete images. */
import { needArgs, type Verb } from '../../verb.js';

export const rm: Verb = {
  spec: {
    name: 'rmi',
    usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
    summary: 'Remove one or more images',
    aliases: ['image rm', 'image remove'],
    flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    let failed = 0;
    for (const name of p.args) {
      try {
        for (const item of await ctx.engine().removeImage(name, { force: p.values.force === true })) {
          ctx.stdout.write('Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${(item as { Deleted: string }).Deleted}\n`);
        }
      } catch (e) {
        failed++;
        ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
