import path from 'node:path';
import type { Command } from '../command.js';

/** Prints the LaunchPlan `run` would execute: one op per line as JSON (field first). */
export const plan: Command = {
  name: 'plan',
  usage: 'plan [--bundle DIR] [--detach] [--no-pivot]',
  summary: 'print the compiled launch plan without running anything',
  flags: {
    bundle: { kind: 'string', short: 'b' },
    detach: { kind: 'bool', short: 'd' },
    'no-pivot': { kind: 'bool' },
  },
  async run(ctx, { flags }) {
    const p = await ctx.runtime.plan(path.resolve(ctx.cwd, (flags.bundle as string | undefined) ?? '.'), {
      detach: flags.detach === true,
      noPivot: flags['no-pivot'] === true,
    });
    ctx.stdout.write(formatPlan(p));
    return 0;
  },
};

export function formatPlan(p: { version: number; ops: object[] }): string {
  const lines = [`# brig launch plan v${p.version}, ${p.ops.length} ops`];
  p.ops.forEach((o, i) => {
    lines.push(
      `${String(i).padStart(3)} ${JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
