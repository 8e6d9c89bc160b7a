/** brig stop and brig restart: the stop signal, SIGKILL after -t seconds (restart then starts again). */
import type { CommandSpec, ParsedCommand } from '../../../flags.js';
import { PARALLEL_OPS, perRef } from '../../verb.js';

const STOP: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  flags: [
    { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' },
    { name: 'time', short: 't', type: 'int', help: 'Seconds to wait before killing the container' },
  ],
};

const stopOptions = (p: ParsedCommand) => ({
  ...(p.values.time !== undefined ? { timeout: p.values.time as number } : {}),
  ...(p.values.signal !== undefined ? { signal: p.values.signal as string } : {}),
});

export const stop = perRef(STOP, (ctx, p, ref) => ctx.engine().stopContainer(ref, stopOptions(p)), PARALLEL_OPS);

export const restart = perRef(
  { ...STOP, name: 'restart', usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Restart one or more containers' },
  (ctx, p, ref) => ctx.engine().restartContainer(ref, stopOptions(p)),
);
