import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

/** "5s", "500ms", "1m", or a number of seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new BrigError('INVALID_ARGUMENT', `--interval: "${v}" is not a duration (e.g. 5s, 500ms)`, { field: '--interval' });
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

/**
 * runc events: `--stats` prints one {"type":"stats","id","data"} line; otherwise a stats
 * line every --interval and an {"type":"oom","id"} line per OOM kill, until the container
 * stops.
 */
export const events: Command = {
  name: 'events',
  usage: 'events [--stats] [--interval 5s] ID',
  summary: 'print resource usage and OOM events as JSON lines',
  flags: { stats: { kind: 'bool' }, interval: { kind: 'string' } },
  async run(ctx, { flags, rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'events needs exactly one container id');
    const id = rest[0]!;
    const line = (o: object) => ctx.stdout.write(`${JSON.stringify(o)}\n`);
    if (flags.stats) {
      line({ type: 'stats', id, data: await ctx.runtime.stats(id) });
      return 0;
    }
    const interval = parseDuration((flags.interval as string | undefined) ?? '5s');
    const stop = new AbortController();
    const oom = (async () => {
      try {
        for await (const _e of ctx.runtime.oomEvents(id, { signal: stop.signal, intervalMs: Math.min(interval, 200) })) line({ type: 'oom', id });
      } catch (e) {
        if (!stop.signal.aborted) throw e;
      }
    })();
    try {
      for (;;) {
        let data;
        try {
          data = await ctx.runtime.stats(id);
        } catch (e) {
          if (e instanceof BrigError && e.code === 'CONTAINER_NOT_RUNNING') return 0;
          throw e;
        }
        line({ type: 'stats', id, data });
        await new Promise((r) => setTimeout(r, interval));
      }
    } finally {
      stop.abort();
      await oom.catch(() => {});
    }
  },
};
