/** brig images (image ls): docker's image table, --format, --filter, --digests. */
import { listFormatter } from '../../../format/docker.js';
import { IMAGES_DEFAULT, IMAGES_DIGESTS_DEFAULT, IMAGES_HEADER, imageContexts } from '../../../format/contexts.js';
import { filterFlag } from '../../filter-flag.js';
import { report } from '../../report.js';
import { type Verb } from '../../verb.js';
import { BrigError } from '../../../../errors/index.js';

/**
 * docker images: the REPOSITORY[:TAG] argument is a reference filter (globs), as docker's
 * CLI makes it; the engine applies the filters. -q is the IDs, one per row as docker
 * prints them; --digests adds the DIGEST column (and a row per digest).
 */
export const ls: Verb = {
  spec: {
    name: 'images',
    usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
    summary: 'List images',
    aliases: ['image ls', 'image list'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
      { name: 'digests', type: 'bool', help: 'Show digests' },
      { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    ],
  },
  async run(ctx, p) {
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', `"brig ${this.spec.name}" requires at most 1 argument.`, { hint: `See 'brig ${this.spec.name} --help'.` });
    const v = p.values;
    // filterFlag gives lists: the argument joins them as docker's CLI adds it.
    const filters = filterFlag(p, this.spec) as Record<string, string[]>;
    const match = p.args[0];
    if (match !== undefined) filters.reference = [...(filters.reference ?? []), match];
    const digests = v.digests === true;
    const given = (v.format as string | undefined) ?? '';
    let format = given;
    if (format === '' || format === 'table') format = v.quiet === true ? '{{.ID}}' : `table ${digests ? IMAGES_DIGESTS_DEFAULT : IMAGES_DEFAULT}`;
    else if (format.startsWith('table') && digests && !format.includes('{{.Digest}}')) format += '\t{{.Digest}}';
    const formatter = listFormatter(format, IMAGES_DEFAULT);
    const needDigest = digests || format.includes('{{.Digest}}');
    return report(ctx, async () => {
      const images = await ctx.engine().listImages({ all: v.all === true, filters });
      const now = Date.now();
      const trunc = v['no-trunc'] !== true;
      ctx.stdout.write(formatter.render(images.flatMap((i) => imageContexts(i, { trunc, now, digests, needDigest })), IMAGES_HEADER));
    });
  },
};
