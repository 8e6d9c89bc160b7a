/** brig volume ls: docker's DRIVER / VOLUME NAME table, -q, --filter, --format. */
import { listFormatter } from '../../../format/docker.js';
import { goStruct } from '../../../format/template.js';
import { filterFlag } from '../../filter-flag.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';
import type { Volume } from '../../../../engine/engine.js';

const DEFAULT = '{{.Driver}}\t{{.Name}}';
const HEADER = goStruct('formatter.volumeContext', { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', CreatedAt: 'CREATED' });

/** docker's volumeContext: Labels as k=v joined by commas, sorted; Links and Size N/A without -v sizes. */
function row(v: Volume) {
  return goStruct('formatter.volumeContext', {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).sort().join(','),
    Links: 'N/A',
    Size: 'N/A',
    CreatedAt: v.CreatedAt,
  });
}

export const ls: Verb = {
  spec: {
    name: 'volume ls',
    usage: 'volume ls [OPTIONS]',
    summary: 'List volumes',
    aliases: ['volume list'],
    flags: [
      { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'dangling=true')" },
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const filters = filterFlag(p, this.spec);
    let format = (p.values.format as string | undefined) ?? '';
    if ((format === '' || format === 'table') && p.values.quiet === true) format = '{{.Name}}';
    const formatter = listFormatter(format, DEFAULT);
    return report(ctx, async () => {
      const { Volumes } = await ctx.engine().listVolumes({ filters });
      ctx.stdout.write(formatter.render(Volumes.map(row), HEADER));
    });
  },
};
