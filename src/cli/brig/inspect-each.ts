/**
 * docker's inspect of several objects (image inspect, volume inspect): the ones found, in
 * docker's JSON array or through -f's template, then "Error response from daemon: ..." for
 * the first one not found (exit 1).
 */
import { inspectFormatter } from '../format/docker.js';
import type { ParsedCommand } from '../flags.js';
import type { BrigContext } from './context.js';
import { report } from './report.js';

export async function inspectEach(ctx: BrigContext, p: ParsedCommand, fetch: (name: string) => Promise<unknown>): Promise<number> {
  const format = inspectFormatter(p.values.format as string | undefined);
  const found: unknown[] = [];
  let failed: Error | undefined;
  for (const name of p.args) {
    try {
      found.push(await fetch(name));
    } catch (e) {
      failed ??= e as Error;
    }
  }
  if (found.length || !failed) ctx.stdout.write(format.render(found));
  return report(ctx, async () => {
    if (failed) throw failed;
  });
}
