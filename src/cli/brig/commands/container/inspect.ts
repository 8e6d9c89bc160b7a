/** brig inspect: containers, else images, as docker's JSON or through a template. */
import { BrigError } from '../../../../errors/index.js';
import { inspectFormatter } from '../../../format/docker.js';
import { needArgs, type Verb } from '../../verb.js';

export const inspect: Verb = {
  spec: {
    name: 'inspect',
    usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
    summary: 'Return low-level information on Docker objects',
    flags: [
      { name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
      { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
      { name: 'type', type: 'string', help: 'Return JSON for specified type' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const type = p.values.type as string | undefined;
    if (type !== undefined && type !== 'container' && type !== 'image') throw new BrigError('INVALID_ARGUMENT', `"${type}" is not a valid value for --type`, { field: '--type' });
    const format = inspectFormatter(p.values.format as string | undefined);
    const engine = ctx.engine();
    const out: unknown[] = [];
    let failed = 0;
    for (const ref of p.args) {
      try {
        if (type === 'image') out.push(await engine.inspectImage(ref));
        else {
          try {
            out.push(await engine.inspectContainer(ref, { size: p.values.size === true }));
          } catch (e) {
            if (type === 'container' || (e as BrigError).code !== 'CONTAINER_NOT_FOUND') throw e;
            out.push(await engine.inspectImage(ref));
          }
        }
      } catch (e) {
        failed++;
        ctx.stderr.write(`Error: No such object: ${ref}\n`);
        if ((e as BrigError).code !== 'CONTAINER_NOT_FOUND' && (e as BrigError).code !== 'IMAGE_NOT_FOUND') ctx.stderr.write(`${(e as Error).message}\n`);
      }
    }
    ctx.stdout.write(format.render(out));
    return failed ? 1 : 0;
  },
};
