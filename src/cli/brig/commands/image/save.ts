/** brig save: images to a docker-archive or oci-archive tar, in a file or on stdout. */
import path from 'node:path';
import { BrigError } from '../../../../errors/index.js';
import { LocalError, report, toStdout, writeFileFromStream } from '../../report.js';
import { needArgs, type Verb } from '../../verb.js';

/**
 * docker save: to -o FILE (a temporary file renamed into place, 0600 as docker's
 * atomicwriter makes it) or to stdout, never to a terminal. The archive streams from the
 * store; a missing image fails before anything is written.
 */
export const save: Verb = {
  spec: {
    name: 'save',
    usage: 'save [OPTIONS] IMAGE [IMAGE...]',
    summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliases: ['image save'],
    flags: [
      { name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' },
      { name: 'format', type: 'string', help: 'docker-archive or oci-archive (brig)', default: 'docker-archive' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const format = p.values.format as string;
    if (format !== 'docker-archive' && format !== 'oci-archive') {
      throw new BrigError('INVALID_ARGUMENT', `--format must be docker-archive or oci-archive, not "${format}"`, { field: '--format' });
    }
    const out = p.values.output as string | undefined;
    return report(ctx, async () => {
      if (out === undefined || out === '') {
        if (ctx.stdout.isTTY) throw new LocalError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        return ctx.engine().saveImages(p.args, (tar) => toStdout(ctx, tar), { format });
      }
      const file = path.resolve(ctx.cwd, out);
      await writeFileFromStream(file, (write) => ctx.engine().saveImages(p.args, async (tar) => {
        for await (const c of tar) await write(c);
      }, { format }), 0o600).catch((e: unknown) => {
        throw e instanceof LocalError ? new LocalError(`failed to save image: ${e.message}`) : e;
      });
    });
  },
};

