/** brig history: an image's layers and the steps that made them. */
import { listFormatter } from '../../../format/docker.js';
import { HISTORY_DEFAULT, HISTORY_HEADER, historyContext } from '../../../format/contexts.js';
import { exactArgs, type Verb } from '../../verb.js';

export const history: Verb = {
  spec: {
    name: 'history',
    usage: 'history [OPTIONS] IMAGE',
    summary: 'Show the history of an image',
    aliases: ['image history'],
    flags: [
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    ],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const format = listFormatter(p.values.quiet === true ? '{{.ID}}' : (p.values.format as string | undefined), HISTORY_DEFAULT);
    const items = await ctx.engine().imageHistory(p.args[0]!);
    const now = Date.now();
    ctx.stdout.write(format.render(items.map((h) => historyContext(h, { trunc: p.values['no-trunc'] !== true, now })), HISTORY_HEADER));
    return 0;
  },
};
