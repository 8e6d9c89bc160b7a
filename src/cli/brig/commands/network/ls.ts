/** brig network ls: docker's table (or ids with -q, or a --format template: formatter.networkContext). */
import { listFormatter } from '../../../format/docker.js';
import { goTime } from '../../../format/contexts.js';
import { goStruct } from '../../../format/template.js';
import type { NetworkInspect } from '../../../../engine/network/service.js';
import { filterFlag } from '../../filter-flag.js';
import { noArgs, type Verb } from '../../verb.js';

const DEFAULT = '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const HEADER = goStruct('formatter.networkContext', { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' });

/** Go's time.Time.String() with the fraction it has (trailing zeros dropped, as Go's). */
function goTimeFraction(iso: string): string {
  const ms = Date.parse(iso);
  const whole = goTime(Math.floor(ms / 1000));
  const frac = String(ms % 1000).padStart(3, '0').replace(/0+$/, '');
  return frac ? whole.replace(/^(\S+ \S+)/, `$1.${frac}`) : whole;
}

function row(n: NetworkInspect, trunc: boolean) {
  return goStruct('formatter.networkContext', {
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(','),
    CreatedAt: goTimeFraction(n.Created),
  });
}

export const ls: Verb = {
  spec: {
    name: 'network ls',
    usage: 'network ls [OPTIONS]',
    summary: 'List networks',
    aliases: ['network list'],
    flags: [
      { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "driver=bridge")' },
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
      { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    let format = (p.values.format as string | undefined) ?? '';
    if ((format === '' || format === 'table') && p.values.quiet === true) format = '{{.ID}}';
    const formatter = listFormatter(format, DEFAULT);
    const nets = await ctx.engine().listNetworks({ filters: filterFlag(p, this.spec) });
    ctx.stdout.write(formatter.render(nets.map((n) => row(n, p.values['no-trunc'] !== true)), HEADER));
    return 0;
  },
};
