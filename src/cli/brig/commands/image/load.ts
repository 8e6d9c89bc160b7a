/** brig load: images from a docker-archive or oci-archive tar, in a file or on stdin. */
import { familiarReference, parseReference } from '../../../../engine/engine.js';
import { fileOrStdin, LocalError, report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

/**
 * docker load: from -i FILE or stdin (refusing a terminal, as docker does). Each name
 * loaded is "Loaded image: NAME", an image without one "Loaded image ID: sha256:...";
 * -q changes nothing here (brig shows no per-layer progress).
 */
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
    noArgs(p, this.spec);
    const file = p.values.input as string | undefined;
    return report(ctx, async () => {
      if ((file === undefined || file === '') && ctx.stdin.isTTY) throw new LocalError('requested load from stdin, but stdin is empty');
      const r = await ctx.engine().loadImages(fileOrStdin(ctx, file || undefined));
      for (const name of r.loaded) ctx.stdout.write(`Loaded image: ${familiarReference(parseReference(name))}\n`);
      for (const id of r.ids) ctx.stdout.write(`Loaded image ID: ${id}\n`);
    });
  },
};

