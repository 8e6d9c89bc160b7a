/** brig attach: our stdio to a running container's (its monitor's attach socket). */
import { BrigError } from '../../../../errors/index.js';
import { type AttachSettings, connectAttach, DETACH_KEYS_FLAG, parseDetachKeys, streamAttached, wantsInput } from '../../attach-session.js';
import { exactArgs, type Verb } from '../../verb.js';

export const attach: Verb = {
  spec: {
    name: 'attach',
    usage: 'attach [OPTIONS] CONTAINER',
    summary: 'Attach local standard input, output, and error streams to a running container',
    flags: [
      DETACH_KEYS_FLAG,
      { name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', default: 'true', help: 'Proxy all received signals to the process' },
    ],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    const detachKeys = parseDetachKeys(p.values['detach-keys'] as string | undefined);
    const engine = ctx.engine();
    const c = await engine.inspectContainer(p.args[0]!);
    if (!c.State.Running) throw new BrigError('CONTAINER_STATE', 'cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new BrigError('CONTAINER_STATE', 'cannot attach to a paused container, unpause it first');
    const s: AttachSettings = {
      id: c.Id,
      tty: c.Config.Tty,
      stdin: p.values['no-stdin'] !== true && c.Config.OpenStdin,
      detachKeys,
      sigProxy: p.values['sig-proxy'] !== false,
      nudge: true,
    };
    const end = await streamAttached(ctx, engine, await connectAttach(await engine.attachSocket(c.Id), wantsInput(s)), s);
    if (end.detached) {
      // docker attach reports the detach as its error: a line on stderr, status 1.
      ctx.stderr.write('read escape sequence\n');
      return 1;
    }
    return end.code;
  },
};
