/** brig start: start each container named; with -a (and -i) one container, attached. */
import { BrigError } from '../../../../errors/index.js';
import { DETACH_KEYS_FLAG, parseDetachKeys, startAndAttach } from '../../attach-session.js';
import { forEachRef, needArgs, type Verb } from '../../verb.js';

export const start: Verb = {
  spec: {
    name: 'start',
    usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Start one or more stopped containers',
    flags: [
      { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
      DETACH_KEYS_FLAG,
      { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    if (p.values.attach !== true && p.values.interactive !== true) return forEachRef(ctx, p.args, (ref) => ctx.engine().startContainer(ref));
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', 'you cannot start and attach multiple containers at once');
    return startAndAttach(ctx, p.args[0]!, { interactive: p.values.interactive === true, detachKeys: parseDetachKeys(p.values['detach-keys'] as string | undefined) });
  },
};
