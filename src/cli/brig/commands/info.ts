/** brig info: the engine's data root, snapshotter and image limits (docker info, in part). */
import { parseArgs } from '../../args.js';
import { parseTemplate } from '../../format/template.js';
import type { BrigCommand } from '../context.js';

export const info: BrigCommand = async (ctx, argv) => {
  const { flags } = parseArgs(argv, { format: { kind: 'string' } });
  // docker info --format: "json", or a template over the info object.
  const format = flags.format === undefined || flags.format === 'json' ? undefined : parseTemplate(flags.format as string);
  const i = await ctx.engine().info();
  if (flags.format === 'json' || format) {
    ctx.stdout.write(`${format ? format.execute(i) : JSON.stringify(i)}\n`);
    return 0;
  }
  const lines = [`Docker Root Dir: ${i.DockerRootDir}`, `Storage Driver: ${i.Driver}`];
  for (const [k, v] of i.DriverStatus) lines.push(` ${k}: ${v}`);
  lines.push('Image Limits:');
  for (const l of i.ImageLimits) lines.push(` ${l.name}: ${l.value} (${l.env})`);
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return 0;
};
