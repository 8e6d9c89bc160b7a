/** brig logout: erase a registry's credentials from where login kept them. */
import { HUB_SERVER, serverKey } from '../../../../engine/engine.js';
import { BrigError } from '../../../../errors/index.js';
import { report } from '../../report.js';
import { type Verb } from '../../verb.js';

/**
 * docker logout: "Removing login credentials for HOST", then erases the key login uses and
 * the older forms docker once wrote (http:// and https:// before the host), from the
 * credential helper and from `auths`. It warns only when every erase failed; the exit status
 * is 0 either way, as docker's.
 */
export const logout: Verb = {
  spec: {
    name: 'logout',
    usage: 'logout [SERVER]',
    summary: 'Log out from a registry\nIf no server is specified, the default is defined by the daemon.',
    flags: [],
  },
  async run(ctx, p) {
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', '"brig logout" requires at most 1 argument.', { hint: "See 'brig logout --help'." });
    return report(ctx, async () => {
      const given = p.args[0];
      const key = serverKey(given);
      const keys = key === HUB_SERVER ? [HUB_SERVER] : [...new Set([given!, key, `http://${key}`, `https://${key}`])];
      ctx.stdout.write(`Removing login credentials for ${key}\n`);
      const store = ctx.credentials();
      const errors: string[] = [];
      for (const k of keys) {
        const r = await store.erase(k).catch((e: Error) => ({ error: e.message }));
        if (r.error !== undefined) errors.push(`${k}: ${r.error}`);
      }
      if (errors.length === keys.length) ctx.stderr.write(`WARNING: could not erase credentials:\n${errors.join('\n')}\n`);
    });
  },
};
