/** brig pull and push: images to and from a registry, with progress. */
import { progressRenderer } from '../../render.js';
import type { Flag, FlagValues } from '../../../flags.js';
import { exactArgs, type Verb } from '../../verb.js';

const PROGRESS_FLAGS: Flag[] = [
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  { name: 'json', type: 'bool', help: 'Print progress as JSON lines (brig)' },
];

function progressMode(v: FlagValues): 'auto' | 'json' | 'quiet' {
  return v.json === true ? 'json' : v.quiet === true ? 'quiet' : 'auto';
}

export const pull: Verb = {
  spec: { name: 'pull', usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]', summary: 'Download an image from a registry', aliases: ['image pull'], flags: PROGRESS_FLAGS },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const r = await ctx.engine().pullImage(p.args[0]!, { onProgress: progressRenderer(ctx.stdout, progressMode(p.values)) });
    if (p.values.json !== true) ctx.stdout.write(p.values.quiet === true ? `${r.reference}\n` : `Digest: ${r.manifestDigest}\nStatus: image is up to date for ${r.reference}\n${r.reference}\n`);
    return 0;
  },
};

export const push: Verb = {
  spec: { name: 'push', usage: 'push [OPTIONS] NAME[:TAG]', summary: 'Upload an image to a registry', aliases: ['image push'], flags: PROGRESS_FLAGS },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const r = await ctx.engine().pushImage(p.args[0]!, { onProgress: progressRenderer(ctx.stdout, progressMode(p.values)) });
    if (p.values.json !== true) ctx.stdout.write(`${r.reference}: digest: ${r.digest} size: ${r.size}\n`);
    return 0;
  },
};
