/** brig network create: a bridge network (docker's flags; one IPv4 subnet). */
import { BrigError } from '../../../../errors/index.js';
import { keyValues } from '../../key-values.js';
import { needArgs, type Verb } from '../../verb.js';

export const create: Verb = {
  spec: {
    name: 'network create',
    usage: 'network create [OPTIONS] NETWORK',
    summary: 'Create a network',
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'bridge', help: 'Driver to manage the Network' },
      { name: 'subnet', type: 'list', help: 'Subnet in CIDR format that represents a network segment' },
      { name: 'gateway', type: 'list', help: 'IPv4 Gateway for the master subnet' },
      { name: 'ip-range', type: 'list', help: 'Allocate container ip from a sub-range' },
      { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
      { name: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
      { name: 'label', type: 'list', help: 'Set metadata on a network' },
      { name: 'opt', short: 'o', type: 'list', help: 'Set driver specific options' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', '"network create" requires exactly 1 argument', { field: 'NETWORK' });
    const list = (k: string) => (p.values[k] as string[] | undefined) ?? [];
    const [subnet, gateway, ipRange] = [list('subnet'), list('gateway'), list('ip-range')];
    if (subnet.length > 1 || gateway.length > 1 || ipRange.length > 1) throw new BrigError('UNSUPPORTED_FIELD', 'one --subnet (with one --gateway and --ip-range) per network', { field: '--subnet' });
    const config = subnet.length || gateway.length || ipRange.length ? [{ ...(subnet[0] ? { Subnet: subnet[0] } : {}), ...(gateway[0] ? { Gateway: gateway[0] } : {}), ...(ipRange[0] ? { IPRange: ipRange[0] } : {}) }] : [];
    const r = await ctx.engine().createNetwork({
      Name: p.args[0]!,
      Driver: p.values.driver as string,
      Internal: p.values.internal === true,
      Attachable: p.values.attachable === true,
      Labels: keyValues(list('label'), 'label'),
      Options: keyValues(list('opt'), 'opt'),
      IPAM: { Driver: 'default', Config: config },
    });
    ctx.stdout.write(`${r.Id}\n`);
    return 0;
  },
};
