import { BrigError } from '../../../errors/index.js';
import { childProcess } from '../../../util/builtins.js';
import type { Command } from '../command.js';

/** runc ps: the container's processes, as pids (json) or through ps(1) with its options. */
export const ps: Command = {
  name: 'ps',
  usage: 'ps [--format table|json] ID [ps options]',
  summary: 'list the processes of a container',
  flags: { format: { kind: 'string', short: 'f' } },
  stopAtPositional: true,
  async run(ctx, { flags, rest }) {
    const [id, ...psArgs] = rest;
    if (!id) throw new BrigError('INVALID_ARGUMENT', 'ps needs a container id');
    const pids = await ctx.runtime.pids(id);
    const format = (flags.format as string | undefined) ?? 'table';
    if (format === 'json') {
      ctx.stdout.write(`${JSON.stringify(pids)}\n`);
      return 0;
    }
    if (format !== 'table') throw new BrigError('INVALID_ARGUMENT', `--format must be table or json, not "${format}"`);
    const out = childProcess().execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' }).split('\n');
    const header = out[0] ?? '';
    const pidCol = header.trim().split(/\s+/).indexOf('PID');
    if (pidCol < 0) throw new BrigError('INVALID_ARGUMENT', 'ps options must keep the PID column');
    const set = new Set(pids);
    const rows = out.slice(1).filter((l) => l.trim() && set.has(Number(l.trim().split(/\s+/)[pidCol])));
    ctx.stdout.write(`${[header, ...rows].join('\n')}\n`);
    return 0;
  },
};
