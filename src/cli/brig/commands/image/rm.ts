/** brig rmi (image rm): untag and delete images, by docker's rules. */
import type { BrigError } from '../../../../errors/index.js';
import { needArgs, type Verb } from '../../verb.js';

/**
 * docker rmi: each image's "Untagged:" and "Deleted:" lines; the failures ("conflict: ...",
 * "No such image: ...") after them as "Error response from daemon: ...", and exit status 1
 * — except that with -f images that are not there only get the message. An image a
 * container uses needs -f, and a running container's image cannot be deleted even then
 * (the engine applies docker's rules).
 */
export const rm: Verb = {
  spec: {
    name: 'rmi',
    usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
    summary: 'Remove one or more images',
    aliases: ['image rm', 'image remove'],
    flags: [
      { name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
      { name: 'no-prune', type: 'bool', help: 'Do not delete untagged parents (brig images have none)' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const force = p.values.force === true;
    const errors: string[] = [];
    let fatal = false;
    for (const name of p.args) {
      try {
        for (const item of await ctx.engine().removeImage(name, { force })) {
          ctx.stdout.write('Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${item.Deleted}\n`);
        }
      } catch (e) {
        const err = e as BrigError;
        if (err.code !== 'IMAGE_NOT_FOUND') fatal = true;
        errors.push(`Error response from daemon: ${err.message}`);
      }
    }
    for (const e of errors) ctx.stderr.write(`${e}\n`);
    return errors.length > 0 && (!force || fatal) ? 1 : 0;
  },
};
