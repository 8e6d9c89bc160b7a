/** brig info: the engine's data root, snapshotter and image limits (docker info, in part). */
import { parseTemplate } from '../../../format/template.js';
import { noArgs, type Verb } from '../../verb.js';

export const info: Verb = {
  spec: {
    name: 'info',
    usage: 'info [OPTIONS]',
    summary: 'Display system-wide information',
    aliases: ['system info'],
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const given = p.values.format as string | undefined;
    // docker info --format: "json", or a template over the info object.
    const format = given === undefined || given === 'json' ? undefined : parseTemplate(given);
    const i = await ctx.engine().info();
    if (given !== undefined) {
      ctx.stdout.write(`${format ? format.execute(i) : JSON.stringify(i)}\n`);
      return 0;
    }
    const lines = [`Docker Root Dir: ${i.DockerRootDir}`, `Storage Driver: ${i.Driver}`];
    for (const [k, v] of i.DriverStatus) lines.push(` ${k}: ${v}`);
    lines.push('Image Limits:');
    for (const l of i.ImageLimits) lines.push(` ${l.name}: ${l.value} (${l.env})`);
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
