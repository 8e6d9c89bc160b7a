import { constants as os } from 'node:os';
import { BrigError } from '../../../errors/index.js';
import { parseArgs } from '../../args.js';
import type { BrigCommand } from '../context.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export const run: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(
    argv,
    {
      rm: { kind: 'bool' },
      name: { kind: 'string' },
      env: { kind: 'strings', short: 'e' },
      workdir: { kind: 'string', short: 'w' },
      user: { kind: 'string', short: 'u' },
      hostname: { kind: 'string', short: 'h' },
      interactive: { kind: 'bool', short: 'i' },
    },
    true,
  );
  const [image, ...cmd] = rest;
  if (!image) throw new BrigError('INVALID_ARGUMENT', 'run needs an image (try "host")');
  const c = await ctx.engine().runContainer({
    image,
    cmd,
    rm: flags.rm === true,
    stdio: [flags.interactive ? 0 : 'ignore', 1, 2],
    ...(flags.name ? { name: flags.name as string } : {}),
    ...(flags.env ? { env: (flags.env as string[]).map((e) => (e.includes('=') ? e : `${e}=${ctx.env[e] ?? ''}`)) } : {}),
    ...(flags.workdir ? { workdir: flags.workdir as string } : {}),
    ...(flags.user ? { user: flags.user as string } : {}),
    ...(flags.hostname ? { hostname: flags.hostname as string } : {}),
  });
  const forward = (sig: NodeJS.Signals) => {
    try {
      c.kill(os.signals[sig]);
    } catch {}
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await c.exit;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
};
