/** brig run: create a container and start it, attached (or with -d, detached). */
import { forwardSignalsUntil } from '../../../forward-signals.js';
import { DETACH_KEYS_FLAG, parseDetachKeys, startAttached } from '../../attach-session.js';
import { needArgs, type Verb } from '../../verb.js';
import { createFromPlan, ensureImage, printWarnings } from './create-flow.js';
import { CREATE_FLAGS, createPlan } from './create-options.js';
import { mark } from '../../../../util/timing.js';

export const run: Verb = {
  spec: {
    name: 'run',
    usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
    summary: 'Create and run a new container from an image',
    interspersed: false,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
      DETACH_KEYS_FLAG,
      { name: 'sig-proxy', type: 'bool', default: 'true', help: 'Proxy received signals to the process' },
      ...CREATE_FLAGS,
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const plan = createPlan(ctx, p);
    const { request } = plan;
    const tty = request.Tty === true;
    const interactive = request.OpenStdin === true;
    const detachKeys = parseDetachKeys(p.values['detach-keys'] as string | undefined);
    const sigProxy = p.values['sig-proxy'] !== false;
    const engine = ctx.engine();
    if (p.values.detach !== true && request.HostConfig?.AutoRemove === true && plan.cidfile === undefined) {
      // The fast path: a foreground container removed when it exits needs no monitor or record.
      mark('cli: flags parsed');
      await ensureImage(ctx, plan);
      mark('cli: image ensured');
      const c = await engine.runContainer(request, {
        ...(plan.name !== undefined ? { name: plan.name } : {}),
        stdio: [interactive || tty ? 0 : 'ignore', 1, 2],
      });
      printWarnings(ctx, c.warnings);
      return sigProxy ? forwardSignalsUntil(c.exit, (sig) => c.kill(sig)) : c.exit;
    }
    const id = await createFromPlan(ctx, plan);
    if (p.values.detach === true) {
      await engine.startContainer(id);
      ctx.stdout.write(`${id}\n`);
      return 0;
    }
    // Attached from before it runs: its output (a terminal's, or stdout and stderr apart), our
    // stdin with -i, then its exit code; the detach keys leave it running (status 0, as docker).
    const end = await startAttached(ctx, engine, { id, tty, stdin: interactive, detachKeys, sigProxy });
    return end.detached ? 0 : end.code;
  },
};
