/** brig image inspect: docker's image JSON, or a template over it. */
import { inspectEach } from '../../inspect-each.js';
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
    return inspectEach(ctx, p, (name) => ctx.engine().inspectImage(name));
  },
};
