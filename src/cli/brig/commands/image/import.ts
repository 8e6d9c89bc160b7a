/** brig import: a filesystem tarball as a one-layer image. */
import path from 'node:path';
import { BrigError } from '../../../../errors/index.js';
import type { Verb } from '../../verb.js';

export const importVerb: Verb = {
  spec: { name: 'import', usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]', summary: 'Import the contents from a tarball to create a filesystem image', aliases: ['image import'], flags: [] },
  async run(ctx, p) {
    if (p.args.length < 1 || p.args.length > 2) {
      throw new BrigError('INVALID_ARGUMENT', '"brig import" requires at least 1 and at most 2 arguments.', { hint: "See 'brig import --help'." });
    }
    const r = await ctx.engine().importImage(path.resolve(ctx.cwd, p.args[0]!), p.args[1]);
    ctx.stdout.write(`${r.id}\n`);
    return 0;
  },
};
