/** brig login: check credentials against a registry, then keep them where docker keeps them. */
import { HUB_SERVER, serverKey } from '../../../../engine/engine.js';
import { BrigError } from '../../../../errors/index.js';
import type { BrigContext } from '../../context.js';
import { readLine } from '../../prompt.js';
import { LocalError, report } from '../../report.js';
import { type Verb } from '../../verb.js';

const UNENCRYPTED = (file: string) =>
  `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

/** Checks with the registry (through the engine, as docker's daemon does), then stores. */
async function loginWith(ctx: BrigContext, key: string, username: string, password: string): Promise<string> {
  const r = await ctx.engine().registryLogin({ username, password, serveraddress: key });
  const stored = await ctx
    .credentials()
    .store(key, r.IdentityToken ? { username, identityToken: r.IdentityToken } : { username, password })
    .catch((e: unknown) => {
      throw new LocalError(`Error saving credentials: ${(e as Error).message}`);
    });
  if (stored.plaintext !== undefined && r.IdentityToken === undefined) ctx.stderr.write(UNENCRYPTED(stored.plaintext));
  return r.Status;
}

/**
 * docker login (cli/command/registry/login.go, 28.x): -u/-p, --password-stdin (the
 * password is stdin without its line ending), or prompts on a terminal (the password
 * unechoed); with neither given, stored credentials are tried first. The registry is asked
 * before anything is stored; credentials go to a credential helper when config.json names
 * one (credHelpers for the host, else credsStore), else into `auths` (0600, written
 * atomically). Docker Hub when no server is named.
 */
export const login: Verb = {
  spec: {
    name: 'login',
    usage: 'login [OPTIONS] [SERVER]',
    summary: 'Authenticate to a registry\nDefaults to Docker Hub if no server is specified.',
    flags: [
      { name: 'password', short: 'p', type: 'string', help: 'Password or Personal Access Token (PAT)' },
      { name: 'password-stdin', type: 'bool', help: 'Take the Password or Personal Access Token (PAT) from stdin' },
      { name: 'username', short: 'u', type: 'string', help: 'Username' },
    ],
  },
  async run(ctx, p) {
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', '"brig login" requires at most 1 argument.', { hint: "See 'brig login --help'." });
    const v = p.values;
    let user = (v.username as string | undefined) ?? '';
    let password = (v.password as string | undefined) ?? '';
    return report(ctx, async () => {
      if (p.given.has('password-stdin')) {
        if (p.given.has('password')) throw new LocalError('conflicting options: cannot specify both --password and --password-stdin');
        if (!p.given.has('username')) throw new LocalError('the --password-stdin option requires --username to be set');
      }
      if (p.given.has('username') && user === '') throw new LocalError('username is empty');
      if (p.given.has('password') && password === '') throw new LocalError('password is empty');
      if (password !== '') ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (v['password-stdin'] === true) {
        let text = '';
        for await (const c of ctx.stdin as AsyncIterable<Buffer>) text += c.toString('utf8');
        password = text.replace(/\n$/, '').replace(/\r$/, '');
      }
      const server = p.args[0] !== undefined && p.args[0] !== 'docker.io' ? p.args[0] : HUB_SERVER;
      const key = serverKey(server);
      const store = ctx.credentials();
      let status: string | undefined;
      const stored = user === '' && password === '' ? await store.get(key) : undefined;
      if (stored?.username && stored.password) {
        ctx.stderr.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
        ctx.stderr.write("\n Info -> To login with a different account, run 'brig logout' followed by 'brig login'\n\n\n");
        try {
          status = await loginWith(ctx, key, stored.username, stored.password);
        } catch (e) {
          if ((e as BrigError).code === 'REGISTRY_UNAUTHORIZED') ctx.stderr.write('Stored credentials invalid or expired\n');
          else ctx.stderr.write(`Login did not succeed, error: ${(e as Error).message}\n`);
        }
      }
      if (status === undefined) {
        if ((user === '' || password === '') && !ctx.stdin.isTTY) throw new LocalError('Error: Cannot perform an interactive login from a non TTY device');
        if (user === '') {
          const fallback = stored?.username ?? '';
          user = (await readLine(ctx.stdin, { prompt: fallback ? `Username (${fallback}): ` : 'Username: ', out: ctx.stdout })).trim() || fallback;
          if (user === '') throw new LocalError('Error: Non-null Username Required');
        }
        if (password === '') {
          password = await readLine(ctx.stdin, { hidden: true, prompt: 'Password: ', out: ctx.stdout });
          ctx.stdout.write('\n');
          if (password === '') throw new LocalError('Error: Password Required');
        }
        status = await loginWith(ctx, key, user, password);
      }
      ctx.stdout.write(`${status}\n`);
    });
  },
};
