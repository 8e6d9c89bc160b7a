/** brig logs: a container's log, from its log driver's files, with docker's flags. */
import { type LogLine, renderLogLine } from '../../../../engine/engine.js';
import { BrigError } from '../../../../errors/index.js';
import { parseTime } from '../../../../util/time-arg.js';
import type { BrigContext } from '../../context.js';
import { exactArgs, type Verb } from '../../verb.js';

async function printLogs(ctx: BrigContext, lines: AsyncIterable<LogLine>, opts: { timestamps: boolean; details: boolean }): Promise<void> {
  for await (const l of lines) (l.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(renderLogLine(l, opts));
}

export const logs: Verb = {
  spec: {
    name: 'logs',
    usage: 'logs [OPTIONS] CONTAINER',
    summary: 'Fetch the logs of a container',
    flags: [
      { name: 'details', type: 'bool', help: 'Show extra details provided to logs' },
      { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
      { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs', default: 'all' },
      { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
      { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      { name: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    ],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const tail = p.values.tail as string;
    if (tail !== 'all' && !/^-?\d+$/.test(tail)) throw new BrigError('INVALID_ARGUMENT', `--tail: invalid value "${tail}"`, { field: '--tail' });
    await printLogs(
      ctx,
      ctx.engine().containerLogs(p.args[0]!, {
        follow: p.values.follow === true,
        ...(tail !== 'all' && Number(tail) >= 0 ? { tail: Number(tail) } : {}),
        ...(p.values.since !== undefined ? { since: parseTime(p.values.since as string, '--since') } : {}),
        ...(p.values.until !== undefined ? { until: parseTime(p.values.until as string, '--until') } : {}),
      }),
      { timestamps: p.values.timestamps === true, details: p.values.details === true },
    );
    return 0;
  },
};
