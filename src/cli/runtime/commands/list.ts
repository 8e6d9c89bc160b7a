import type { Command } from '../command.js';

export const list: Command = {
  name: 'list',
  usage: 'list [--format table|json] [-q]',
  summary: 'list containers',
  flags: { format: { kind: 'string', short: 'f' }, quiet: { kind: 'bool', short: 'q' } },
  async run(ctx, { flags }) {
    const all = await ctx.runtime.list();
    if (flags.quiet) {
      for (const c of all) ctx.stdout.write(`${c.id}\n`);
    } else if (flags.format === 'json') {
      ctx.stdout.write(`${JSON.stringify(all)}\n`);
    } else {
      const rows = [
        ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED'],
        ...all.map((c) => [c.id, String(c.pid ?? 0), c.status, c.bundle, c.created]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows)
        ctx.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('   ')
            .trimEnd()}\n`,
        );
    }
    return 0;
  },
};
