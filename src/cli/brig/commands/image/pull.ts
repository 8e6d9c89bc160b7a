/** brig pull: an image from a registry, with docker's progress and wording. */
import { parseReference } from '../../../../engine/engine.js';
import { JSON_FLAG, jsonMessageRenderer, progressMode } from '../../render.js';
import { LocalError, report } from '../../report.js';
import { exactArgs, type Verb } from '../../verb.js';


/**
 * docker pull: the reference is checked here first ("invalid reference format", "Using
 * default tag: latest"), then the engine's progress is printed as docker's CLI prints its
 * JSON stream (up to "Status: ..."), then the full reference. -q prints only that.
 */
export const pull: Verb = {
  spec: {
    name: 'pull',
    usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
    summary: 'Download an image from a registry',
    aliases: ['image pull'],
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
      { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
      JSON_FLAG,
    ],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const v = p.values;
    const name = p.args[0]!;
    const all = v['all-tags'] === true;
    const quiet = v.quiet === true;
    const platform = (v.platform as string | undefined) ?? ctx.env.DOCKER_DEFAULT_PLATFORM;
    return report(ctx, async () => {
      let ref;
      try {
        ref = parseReference(name, { defaultTag: false });
      } catch (e) {
        throw new LocalError((e as Error).message);
      }
      const nameOnly = ref.tag === undefined && ref.digest === undefined;
      if (all && !nameOnly) throw new LocalError("tag can't be used with --all-tags/-a");
      if (!all && nameOnly && !quiet) ctx.stdout.write('Using default tag: latest\n');
      const mode = progressMode(v);
      const r = await ctx.engine().pullImage(name, {
        allTags: all,
        ...(platform ? { platform } : {}),
        ...(mode === 'quiet' ? {} : { onProgress: mode === 'json' ? (m) => ctx.stdout.write(`${JSON.stringify(m)}\n`) : jsonMessageRenderer(ctx.stdout) }),
      });
      ctx.stdout.write(`${r.reference}\n`);
    });
  },
};
