/** brig ps: docker's container list, its columns and --format. */
import { listFormatter } from '../../../format/docker.js';
import { PS_DEFAULT, PS_HEADER, psContext } from '../../../format/contexts.js';
import type { Verb } from '../../verb.js';

export const ps: Verb = {
  spec: {
    name: 'ps',
    usage: 'ps [OPTIONS]',
    summary: 'List containers',
    aliases: ['container ls', 'container list', 'container ps'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    ],
  },
  async run(ctx, p) {
    // docker's layout for every form: -q is {{.ID}} unless a template is given; the default is
    // its table. The template is parsed before any work, so a bad one fails fast (exit 125).
    const given = p.values.format as string | undefined;
    const format = listFormatter(p.values.quiet === true && (given === undefined || given === 'table') ? '{{.ID}}' : given, PS_DEFAULT);
    const list = await ctx.engine().listContainers({ all: p.values.all === true });
    const now = Date.now();
    ctx.stdout.write(format.render(list.map((c) => psContext(c, { trunc: p.values['no-trunc'] !== true, now })), PS_HEADER));
    return 0;
  },
};
