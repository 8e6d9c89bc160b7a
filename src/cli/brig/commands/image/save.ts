/** brig save and load: images to and from docker-archive or oci-archive tar files. */
import path from 'node:path';
import { BrigError } from '../../../../errors/index.js';
import { needArgs, type Verb } from '../../verb.js';

export const save: Verb = {
  spec: {
    name: 'save',
    usage: 'save [OPTIONS] IMAGE [IMAGE...]',
    summary: 'Save one or more images to a tar archive',
    aliases: ['image save'],
    flags: [
      { name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' },
      { name: 'format', type: 'string', help: 'docker-archive or oci-archive (brig)', default: 'docker-archive' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const out = p.values.output as string | undefined;
    if (!out) throw new BrigError('INVALID_ARGUMENT', 'save needs --output FILE', { field: '--output' });
    const format = p.values.format as string;
    if (format !== 'docker-archive' && format !== 'oci-archive') {
      throw new BrigError('INVALID_ARGUMENT', `--format must be docker-archive or oci-archive, not "${format}"`, { field: '--format' });
    }
    await ctx.engine().saveImages(p.args, path.resolve(ctx.cwd, out), format);
    return 0;
  },
};

export const load: Verb = {
  spec: {
    name: 'load',
    usage: 'load [OPTIONS]',
    summary: 'Load an image from a tar archive or STDIN',
    aliases: ['image load'],
    flags: [
      { name: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
    ],
  },
  async run(ctx, p) {
    const file = (p.values.input as string | undefined) ?? p.args[0];
    if (!file) throw new BrigError('INVALID_ARGUMENT', 'load needs --input FILE', { field: '--input' });
    const r = await ctx.engine().loadImages(path.resolve(ctx.cwd, file));
    for (const name of r.loaded) ctx.stdout.write(`Loaded image: ${name}\n`);
    if (r.loaded.length === 0) for (const id of r.ids) ctx.stdout.write(`Loaded image ID: ${id}\n`);
    return 0;
  },
};
