/** brig volume inspect: docker's volume JSON, or a template over it. */
import { inspectEach } from '../../inspect-each.js';
import { needArgs, type Verb } from '../../verb.js';

export const inspect: Verb = {
  spec: {
    name: 'volume inspect',
    usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
    summary: 'Display detailed information on one or more volumes',
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    return inspectEach(ctx, p, (name) => ctx.engine().inspectVolume(name));
  },
};
