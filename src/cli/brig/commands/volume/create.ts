/** brig volume create: a volume of the local driver; prints its name (docker's output). */
import { BrigError } from '../../../../errors/index.js';
import { keyValues } from '../../key-values.js';
import { report } from '../../report.js';
import type { Verb } from '../../verb.js';

export const create: Verb = {
  spec: {
    name: 'volume create',
    usage: 'volume create [OPTIONS] [VOLUME]',
    summary: 'Create a volume',
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'local', help: 'Specify volume driver name' },
      { name: 'label', type: 'list', help: 'Set metadata for a volume' },
      { name: 'name', type: 'string', help: 'Specify volume name' },
      { name: 'opt', short: 'o', type: 'list', help: 'Set driver specific options' },
    ],
  },
  async run(ctx, p) {
    const v = p.values;
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', `"brig ${this.spec.name}" requires at most 1 argument.`, { hint: `See 'brig ${this.spec.name} --help'.` });
    const name = p.args[0] ?? (v.name as string | undefined);
    if (p.args[0] !== undefined && v.name !== undefined && v.name !== p.args[0]) {
      throw new BrigError('INVALID_ARGUMENT', 'conflicting options: either specify --name or provide positional arg, not both', { field: '--name' });
    }
    const req = {
      ...(name ? { Name: name } : {}),
      Driver: v.driver as string,
      DriverOpts: keyValues((v.opt as string[] | undefined) ?? [], 'opt'),
      Labels: keyValues((v.label as string[] | undefined) ?? [], 'label'),
    };
    return report(ctx, async () => {
      ctx.stdout.write(`${(await ctx.engine().createVolume(req)).Name}\n`);
    });
  },
};
