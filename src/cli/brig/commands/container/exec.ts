/** brig exec: a new process in a running container, foreground or -d. */
import { BrigError } from '../../../../errors/index.js';
import { forwardSignalsUntil } from '../../../forward-signals.js';
import { needArgs, type Verb } from '../../verb.js';
import { envList, readKeyValueFile } from './create-options.js';

export const exec: Verb = {
  spec: {
    name: 'exec',
    usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
    summary: 'Execute a command in a running container',
    interspersed: false,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
      { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
      { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
      { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
      { name: 'privileged', type: 'bool', help: 'Give extended privileges to the command' },
      { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
      { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 2);
    const [ref, ...cmd] = p.args;
    const v = p.values;
    if (v.workdir !== undefined && !(v.workdir as string).startsWith('/')) {
      throw new BrigError('INVALID_ARGUMENT', `the working directory '${v.workdir}' is invalid, it needs to be an absolute path`, { field: '--workdir' });
    }
    const fromFiles = ((v['env-file'] as string[] | undefined) ?? []).flatMap((f) => readKeyValueFile(f, ctx.cwd, (k) => ctx.env[k], 'env-file'));
    const env = p.given.has('env') || p.given.has('env-file') ? [...fromFiles, ...(envList(v.env as string[] | undefined, ctx.env) ?? [])] : undefined;
    const tty = v.tty === true;
    const started = await ctx.engine().execContainer(ref!, {
      cmd,
      tty,
      interactive: v.interactive === true,
      detach: v.detach === true,
      privileged: v.privileged === true,
      // Without -i (or -t) the process reads nothing: docker gives it an empty stdin.
      stdio: [v.interactive === true || tty ? 0 : 'ignore', 1, 2],
      ...(env ? { env } : {}),
      ...(v.workdir !== undefined ? { workdir: v.workdir as string } : {}),
      ...(v.user !== undefined ? { user: v.user as string } : {}),
    });
    if (v.detach === true) return 0;
    return forwardSignalsUntil(started.exit, (sig) => process.kill(started.pid, sig));
  },
};
