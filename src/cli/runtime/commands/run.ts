import { constants as os } from 'node:os';
import path from 'node:path';
import { BrigError } from '../../../errors/index.js';
import type { Command } from '../command.js';

/** Signals a foreground `run` passes on to the container's init, as runc does. */
const FORWARDED: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

export const run: Command = {
  name: 'run',
  usage: 'run [--bundle DIR] [--detach] [--pid-file FILE] [--no-pivot] [--preserve-fds N] ID',
  summary: 'create and start a container',
  flags: {
    bundle: { kind: 'string', short: 'b', help: 'bundle directory (default: current directory)' },
    detach: { kind: 'bool', short: 'd', help: 'do not wait for the container to exit' },
    'pid-file': { kind: 'string', help: 'write the init pid here' },
    'no-pivot': { kind: 'bool', help: 'use chroot instead of pivot_root' },
    'no-new-keyring': {
      kind: 'bool',
      help: 'accepted for runc compatibility (no session keyring is created)',
    },
    'preserve-fds': { kind: 'int', help: 'pass N more fds (3..3+N-1) to the container' },
    'console-socket': { kind: 'string', help: 'not supported yet' },
  },
  async run(ctx, { flags, rest }) {
    const id = rest[0];
    if (!id || rest.length > 1)
      throw new BrigError('INVALID_ARGUMENT', `run needs exactly one container id, got ${rest.length}`);
    if (flags['console-socket']) {
      throw new BrigError('UNSUPPORTED_FIELD', '--console-socket is not supported by this build yet', {
        field: '--console-socket',
      });
    }
    const preserve = (flags['preserve-fds'] as number | undefined) ?? 0;
    const started = await ctx.runtime.run(id, {
      bundle: path.resolve(ctx.cwd, (flags.bundle as string | undefined) ?? '.'),
      detach: flags.detach === true,
      noPivot: flags['no-pivot'] === true,
      preserveFds: preserve,
      stdio: [0, 1, 2, ...Array.from({ length: preserve }, (_, i) => 3 + i)],
      ...(flags['pid-file'] ? { pidFile: path.resolve(ctx.cwd, flags['pid-file'] as string) } : {}),
    });
    if (flags.detach) return 0;
    const forward = (sig: NodeJS.Signals) => {
      try {
        process.kill(started.pid, os.signals[sig]);
      } catch {}
    };
    for (const s of FORWARDED) process.on(s, forward);
    try {
      return await started.exit;
    } finally {
      for (const s of FORWARDED) process.off(s, forward);
    }
  },
};
