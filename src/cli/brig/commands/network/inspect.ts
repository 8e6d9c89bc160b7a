/** brig network inspect: docker's JSON (or a --format template). */
import { inspectFormatter } from '../../../format/docker.js';
import { needArgs, type Verb } from '../../verb.js';

export const inspect: Verb = {
  spec: {
    name: 'network inspect',
    usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
    summary: 'Display detailed information on one or more networks',
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const format = inspectFormatter(p.values.format as string | undefined);
    const out: unknown[] = [];
    let failed = 0;
    for (const ref of p.args) {
      try {
        out.push(await ctx.engine().inspectNetwork(ref));
      } catch (e) {
        failed++;
        ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    ctx.stdout.write(format.render(out));
    return failed ? 1 : 0;
  },
};
