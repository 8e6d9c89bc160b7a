/**
 * The flags of `run` and `create`, and their translation into the Engine's create request,
 * as docker's CLI turns its flags into a container config.
 */
import { BrigError } from '../../../../errors/index.js';
import type { Flag, ParsedCommand } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import type { CreateContainerOptions } from '../../../../engine/engine.js';

export const CREATE_FLAGS: Flag[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', help: 'Log driver options' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
];

/** docker's -e: "A=1" as given; "A" takes the caller's value, and is left out when it has none. */
export function envList(list: string[] | undefined, env: NodeJS.ProcessEnv): string[] | undefined {
  if (!list) return undefined;
  return list.flatMap((e) => (e.includes('=') ? [e] : env[e] !== undefined ? [`${e}=${env[e]}`] : []));
}

function keyValues(list: string[] | undefined, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0 && field === '--log-opt') throw new BrigError('INVALID_ARGUMENT', `${field} ${kv}: expected key=value`, { field });
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

export function createOptions(ctx: BrigContext, p: ParsedCommand): CreateContainerOptions {
  const [image, ...cmd] = p.args;
  const v = p.values;
  const env = envList(v.env as string[] | undefined, ctx.env);
  return {
    image: image!,
    cmd,
    rm: v.rm === true,
    tty: v.tty === true,
    interactive: v.interactive === true,
    ...(v.name !== undefined ? { name: v.name as string } : {}),
    ...(env ? { env } : {}),
    ...(v.workdir !== undefined ? { workdir: v.workdir as string } : {}),
    ...(v.user !== undefined ? { user: v.user as string } : {}),
    ...(v.hostname !== undefined ? { hostname: v.hostname as string } : {}),
    ...(v.label ? { labels: keyValues(v.label as string[], '--label') } : {}),
    ...(v['log-driver'] !== undefined ? { logDriver: v['log-driver'] as string } : {}),
    ...(v['log-opt'] ? { logOpts: keyValues(v['log-opt'] as string[], '--log-opt') } : {}),
    ...(v['stop-signal'] !== undefined ? { stopSignal: v['stop-signal'] as string } : {}),
    ...(v['stop-timeout'] !== undefined ? { stopTimeout: v['stop-timeout'] as number } : {}),
  };
}
