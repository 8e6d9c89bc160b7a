/**
 * compose's log view: each container's lines behind `service-1  | `, the names padded to
 * the longest, coloured per container on a terminal (compose's colour cycle), followed
 * until the signal aborts when asked.
 */
import type { ContainerSummary, Engine, LogOptions } from '../../../../engine/engine.js';
import { renderLogLine } from '../../../../engine/engine.js';
import { LABEL } from '../../../../compose/container-config.js';
import { containerNumber } from '../../../../compose/orchestrate.js';
import type { BrigContext } from '../../context.js';

const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** compose's prefix name: SERVICE-N (the container's name for a container_name or a one-off). */
export function logName(c: ContainerSummary): string {
  const service = c.Labels[LABEL.service] ?? '';
  const name = (c.Names[0] ?? '').replace(/^\//, '');
  return c.Labels[LABEL.oneoff] === 'True' || !name.endsWith(`-${service}-${containerNumber(c)}`) ? name : `${service}-${containerNumber(c)}`;
}

export async function printLogs(ctx: BrigContext, engine: Engine, containers: ContainerSummary[], opts: LogOptions & { timestamps?: boolean; prefix?: boolean }): Promise<void> {
  const width = Math.max(0, ...containers.map((c) => logName(c).length));
  const colour = ctx.stdout.isTTY === true && ctx.env.NO_COLOR === undefined;
  await Promise.all(
    containers.map(async (c, i) => {
      const plain = `${logName(c).padEnd(width)}  | `;
      const prefix = opts.prefix === false ? '' : colour ? `\x1b[${COLOURS[i % COLOURS.length]}m${plain}\x1b[0m` : plain;
      let partial = '';
      try {
        for await (const l of engine.containerLogs(c.Id, opts)) {
          const text = renderLogLine(l, { timestamps: opts.timestamps === true, details: false });
          // A piece of a long line continues the previous one: one prefix per whole line.
          const out = partial === '' ? prefix + text : text;
          partial = text.endsWith('\n') ? '' : text;
          ctx.stdout.write(out);
        }
      } catch (e) {
        if (!opts.signal?.aborted) throw e;
      }
      if (partial !== '') ctx.stdout.write('\n');
    }),
  );
}
