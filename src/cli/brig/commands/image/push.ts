/** brig push: an image to a registry, with progress. */
import { JSON_FLAG, jsonMessageRenderer, progressMode } from '../../render.js';
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
      // docker's CLI: the daemon's messages as they come; -q the reference alone.
      const mode = progressMode(p.values);
      const r = await ctx.engine().pushImage(p.args[0]!, {
        ...(mode === 'quiet' ? {} : { onProgress: mode === 'json' ? (m) => ctx.stdout.write(`${JSON.stringify(m)}\n`) : jsonMessageRenderer(ctx.stdout) }),
      });
      if (mode === 'quiet') ctx.stdout.write(`${r.reference}\n`);
    });
  },
};
