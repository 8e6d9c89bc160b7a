/** brig events (brig system events): the event log, replayed and followed, as docker's. */
import { eventData, eventsTemplate, prettyEvent } from '../../../format/events.js';
import type { Template } from '../../../format/template.js';
import type { CommandSpec } from '../../../flags.js';
import { filterFlag } from '../../filter-flag.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const EVENTS: CommandSpec = {
  name: 'events',
  usage: 'events [OPTIONS]',
  summary: 'Get real time events from the server',
  aliases: ['system events'],
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
    { name: 'since', type: 'string', help: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', help: 'Stream events until this timestamp' },
  ],
};

export const events: Verb = {
  spec: EVENTS,
  async run(ctx, p) {
    noArgs(p, EVENTS);
    const filters = filterFlag(p, EVENTS);
    let template: Template | undefined;
    try {
      template = eventsTemplate(p.values.format as string | undefined);
    } catch (e) {
      // docker's status for a bad format here.
      ctx.stderr.write(`Error parsing format: ${(e as Error).message}\n`);
      return 64;
    }
    // Ctrl-C (or a reader gone from a pipe) ends the stream; docker exits 0 then.
    const stop = new AbortController();
    const end = () => stop.abort();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    ctx.stdout.once('error', end);
    try {
      return await report(ctx, async () => {
        const stream = ctx.engine().events({
          filters,
          signal: stop.signal,
          ...(p.values.since !== undefined ? { since: p.values.since as string } : {}),
          ...(p.values.until !== undefined ? { until: p.values.until as string } : {}),
        });
        for await (const m of stream) {
          ctx.stdout.write(template ? `${template.execute(eventData(m))}\n` : prettyEvent(m));
          if (stop.signal.aborted) break;
        }
      });
    } finally {
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
    }
  },
};
