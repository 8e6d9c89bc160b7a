/**
 * brig stats: docker's live table of containers' resource use (CPU %, MEM USAGE / LIMIT,
 * MEM %, NET I/O, BLOCK I/O, PIDS), numbers from the engine's stats stream and formulas from
 * docker's CLI (cli/format/stats.ts).
 *
 * Named containers are followed as named; without names every running container (with -a
 * every one), the list read again each second where docker listens for start and die
 * events. --no-stream prints one table, each container read twice a second apart for its
 * CPU %. The live table is redrawn as docker 28 draws it: cursor home, each line followed
 * by erase-to-end-of-line, erase below, every half second; no full clear, so no flicker.
 */
import type { Engine } from '../../../../engine/engine.js';
import { listFormatter } from '../../../format/docker.js';
import { STATS_DEFAULT, STATS_HEADER, statsContext } from '../../../format/stats.js';
import type { CommandSpec } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import type { Verb } from '../../verb.js';
import { StatsCollector } from './stats-collector.js';

const STATS: CommandSpec = {
  name: 'stats',
  usage: 'stats [OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['container stats'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    { name: 'no-stream', type: 'bool', help: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
  ],
};

/** docker's redraw period (its ticker); the engine samples each second. */
const FRAME_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const stats: Verb = {
  spec: STATS,
  async run(ctx, p) {
    // A template that does not parse fails before any work (exit 125).
    const format = listFormatter(p.values.format as string | undefined, STATS_DEFAULT);
    const stream = p.values['no-stream'] !== true;
    const all = p.values.all === true;
    const trunc = p.values['no-trunc'] !== true;
    const engine = ctx.engine();
    const collectors = new Map<string, StatsCollector>();
    const add = (container: string) => {
      if (!collectors.has(container)) collectors.set(container, new StatsCollector(engine, container, stream));
    };
    const named = p.args.length > 0;
    try {
      if (named) {
        for (const ref of p.args) add(ref);
        await Promise.all([...collectors.values()].map((c) => c.first));
        // docker: an unknown container (or any failure to start) ends the command, every error said.
        const failed = [...collectors.values()].filter((c) => c.error);
        if (failed.length) {
          for (const c of failed) ctx.stderr.write(`Error response from daemon: ${c.error!.message}\n`);
          return 1;
        }
      } else {
        const failed = await refresh(ctx, engine, all, collectors, add);
        if (failed) return failed;
        await Promise.all([...collectors.values()].map((c) => c.first));
      }
      const frame = () => {
        const list = [...collectors.values()];
        return format.render(list.map((c) => statsContext(c.current(), { trunc })), STATS_HEADER);
      };
      if (!stream) {
        if (collectors.size > 0) ctx.stdout.write(frame());
        return 0;
      }
      return await live(ctx, named ? undefined : () => refresh(ctx, engine, all, collectors, add), frame);
    } finally {
      for (const c of collectors.values()) c.stop();
    }
  },
};

/**
 * Without names: follow the containers listed now (running, or all with -a); drop those no
 * longer listed (docker drops them on die, or with -a on destroy). Its failure is the daemon's.
 */
async function refresh(ctx: BrigContext, engine: Engine, all: boolean, collectors: Map<string, StatsCollector>, add: (c: string) => void): Promise<number> {
  let ids: string[];
  try {
    ids = (await engine.listContainers({ all })).map((c) => c.Id);
  } catch (e) {
    ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    return 1;
  }
  for (const id of ids) add(id);
  for (const [id, c] of collectors) {
    if (!ids.includes(id)) {
      c.stop();
      collectors.delete(id);
    }
  }
  return 0;
}

/** Redraws until stdout goes away (a closed pipe) or the user interrupts. */
async function live(ctx: BrigContext, refresh: (() => Promise<number>) | undefined, frame: () => string): Promise<number> {
  let closed = false;
  ctx.stdout.on('error', () => {
    closed = true;
  });
  let lastRefresh = Date.now();
  while (!closed) {
    await sleep(FRAME_MS);
    if (refresh && Date.now() - lastRefresh >= 1000) {
      lastRefresh = Date.now();
      const failed = await refresh();
      if (failed) return failed;
    }
    // docker: home, each line then erase-to-end-of-line (the render's final newline gives one
    // more, empty line), then erase below, in one write.
    const lines = frame().split('\n');
    ctx.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`);
  }
  return 0;
}
