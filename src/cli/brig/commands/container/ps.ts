/** brig ps: docker's container list, its flags, filters, columns and --format. */
import type { ContainerSummary } from '../../../../engine/engine.js';
import { listFormatter } from '../../../format/docker.js';
import { PS_DEFAULT, PS_HEADER, psContext, psTemplateUsesSize } from '../../../format/contexts.js';
import type { CommandSpec } from '../../../flags.js';
import { filterFlag } from '../../filter-flag.js';
import { noArgs, type Verb } from '../../verb.js';
import { report } from '../../report.js';

const PS: CommandSpec = {
  name: 'ps',
  usage: 'ps [OPTIONS]',
  summary: 'List containers',
  aliases: ['container ls', 'container list', 'container ps'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    { name: 'last', short: 'n', type: 'int', help: 'Show n last created containers (includes all states)', default: '-1' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
};

export const ps: Verb = {
  spec: PS,
  async run(ctx, p) {
    noArgs(p, PS);
    const filters = filterFlag(p, PS);
    const given = (p.values.format as string | undefined) ?? '';
    const quiet = p.values.quiet === true;
    if (given !== '' && quiet) ctx.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    const limit = p.values.latest === true && p.values.last === -1 ? 1 : (p.values.last as number);
    // A template that reads .Size asks for sizes, unless --size was given (=false too) or -q.
    const size = p.values.size === true || (given !== '' && !quiet && !p.given.has('size') && psTemplateUsesSize(given));
    // docker's NewContainerFormat: -q is the ids whatever the format; the default table gets SIZE with sizes.
    const template = quiet ? '{{.ID}}' : given === '' || given === 'table' ? `table ${PS_DEFAULT}${size ? '\t{{.Size}}' : ''}` : given;
    // The template is parsed before any work, so a bad one fails fast (exit 125).
    const format = listFormatter(template, PS_DEFAULT);
    const trunc = p.values['no-trunc'] !== true;
    // What the engine refuses (a filter, a container named by before/since) is the daemon's error: exit 1.
    let list: ContainerSummary[] = [];
    const failed = await report(ctx, async () => {
      list = await ctx.engine().listContainers({ all: p.values.all === true, limit, size, filters });
    });
    if (failed) return failed;
    const now = Date.now();
    ctx.stdout.write(format.render(list.map((c) => psContext(c, { trunc, now })), PS_HEADER));
    return 0;
  },
};
