/** brig import: a filesystem tarball, from a file or stdin, as a one-layer image. */
import { BrigError } from '../../../../errors/index.js';
import { fileOrStdin, LocalError, report } from '../../report.js';
import { needArgs, type Verb } from '../../verb.js';

/**
 * docker import: a filesystem tarball (plain or compressed) from a file or `-` (stdin) as a
 * one-layer image, -c/--change applying Dockerfile instructions and -m its history comment.
 * Prints the new image's ID. A URL source is refused: brig does not download for import.
 */
export const importVerb: Verb = {
  spec: {
    name: 'import',
    usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    summary: 'Import the contents from a tarball to create a filesystem image',
    aliases: ['image import'],
    flags: [
      { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image' },
      { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    if (p.args.length > 2) {
      throw new BrigError('INVALID_ARGUMENT', '"brig import" requires at least 1 and at most 2 arguments.', { hint: "See 'brig import --help'." });
    }
    const [source, reference] = p.args as [string, string | undefined];
    const v = p.values;
    return report(ctx, async () => {
      if (/^https?:\/\//.test(source)) {
        throw new LocalError(`importing from a URL is not supported: ${source} (download it, then: brig import FILE, or curl ... | brig import -)`);
      }
      const platform = (v.platform as string | undefined) ?? ctx.env.DOCKER_DEFAULT_PLATFORM;
      const r = await ctx.engine().importImage(fileOrStdin(ctx, source === '-' ? undefined : source), {
        ...(reference !== undefined ? { reference } : {}),
        ...(v.change ? { changes: v.change as string[] } : {}),
        ...(v.message !== undefined ? { message: v.message as string } : {}),
        ...(platform ? { platform } : {}),
      });
      ctx.stdout.write(`${r.id}\n`);
    });
  },
};
