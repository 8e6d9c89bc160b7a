/** brig image inspect: docker's image JSON, or a template over it. */
import { inspectFormatter } from '../../../format/docker.js';
import { needArgs, type Verb } from '../../verb.js';

export const inspect: Verb = {
  spec: {
    name: 'image inspect',
    usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]',
    summary: 'Display detailed information on one or more images',
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const format = inspectFormatter(p.values.format as string | undefined);
    const all = [];
    for (const name of p.args) all.push(await ctx.engine().inspectImage(name));
    ctx.stdout.write(format.render(all));
    return 0;
  },
};
