/** brig images (image ls): docker's image table and --format. */
import { listFormatter } from '../../../format/docker.js';
import { IMAGES_DEFAULT, IMAGES_HEADER, imageContexts } from '../../../format/contexts.js';
import { shortId } from '../../render.js';
import type { Verb } from '../../verb.js';

export const ls: Verb = {
  spec: {
    name: 'images',
    usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
    summary: 'List images',
    aliases: ['image ls', 'image list'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    ],
  },
  async run(ctx, p) {
    const v = p.values;
    const format = listFormatter(v.format as string | undefined, IMAGES_DEFAULT);
    let images = await ctx.engine().listImages();
    const want = p.args[0];
    if (want) images = images.filter((i) => i.RepoTags.some((t) => t === want || t.startsWith(`${want}:`)));
    const trunc = v['no-trunc'] !== true;
    if (v.quiet === true && v.format === undefined) {
      ctx.stdout.write([...new Set(images.map((i) => (trunc ? shortId(i.Id) : i.Id)))].map((i) => `${i}\n`).join(''));
      return 0;
    }
    const now = Date.now();
    ctx.stdout.write(format.render(images.flatMap((i) => imageContexts(i, { trunc, now })), IMAGES_HEADER));
    return 0;
  },
};
