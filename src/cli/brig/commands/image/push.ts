/** brig push: an image to a registry, with progress. */
import { JSON_FLAG, progressMode, progressRenderer } from '../../render.js';
import { report } from '../../report.js';
import { exactArgs, type Verb } from '../../verb.js';

export const push: Verb = {
  spec: {
    name: 'push',
    usage: 'push [OPTIONS] NAME[:TAG]',
    summary: 'Upload an image to a registry',
    aliases: ['image push'],
    flags: [{ name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' }, JSON_FLAG],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    // Failures are docker's: "Error response from daemon: ...", exit 1.
    return report(ctx, async () => {
      const r = await ctx.engine().pushImage(p.args[0]!, { onProgress: progressRenderer(ctx.stdout, progressMode(p.values)) });
      if (p.values.json !== true) ctx.stdout.write(`${r.reference}: digest: ${r.digest} size: ${r.size}\n`);
    });
  },
};
