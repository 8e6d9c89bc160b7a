/**
 * POST /containers/{id}/wait with docker's conditions:
 *   not-running (default)  at once if it is not running, else at its exit
 *   next-exit              at the exit after this request, even if it has not started yet
 *   removed                once the container is gone (docker run --rm), with its last exit code
 * The headers go at once, the body ({"StatusCode": n}) at the condition: docker's CLI sends
 * the wait before the start and waits for the headers in between. Exits are read from the
 * engine's event stream (die events carry the exit code, destroy ends a removed wait), which
 * every brig process writes, so exits are seen whoever started or removed the container.
 */
import type { EventMessage } from '../engine/engine.js';
import { badRequest } from './errors.js';
import type { RequestContext } from './router.js';

const CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;
/** How long the answer waits for the record to say what the die event said. */
const RECORD_WAIT_MS = 2000;

export async function waitContainer(c: RequestContext): Promise<void> {
  const condition = c.query.string('condition') || 'not-running';
  if (!(CONDITIONS as readonly string[]).includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
  const since = (Date.now() / 1000).toFixed(9);
  const ac = new AbortController();
  const abort = () => ac.abort();
  c.x.signal.addEventListener('abort', abort);
  const info = await c.engine.inspectContainer(c.params.id!);
  const id = info.Id;
  // The event stream is opened before the answer's headers go: nothing after them is missed.
  const events = c.engine.events({ since, filters: { type: ['container'], container: [id], event: ['die', 'destroy'] }, signal: ac.signal })[Symbol.asyncIterator]();
  const out = c.x.stream(200, { 'Content-Type': 'application/json' });
  let code = info.State.ExitCode;
  let done = condition === 'not-running' && !info.State.Running && !info.State.Restarting;
  try {
    while (!done) {
      const next = await events.next().catch((e: unknown) => {
        if (ac.signal.aborted) return { done: true as const, value: undefined };
        throw e;
      });
      if (next.done) return;
      const ev: EventMessage = next.value;
      if (ev.Action === 'die') {
        code = Number(ev.Actor.Attributes.exitCode ?? code);
        if (condition !== 'removed') done = true;
      } else if (ev.Action === 'destroy') done = true;
    }
    // The monitor says `die` as the process ends; the record may say so a moment later. The
    // answer waits for the record, so that what the client does next (rm, start) finds the
    // container stopped. A container removed meanwhile, or restarted by its policy (never
    // stopped in the record), keeps the code its die event gave.
    if (condition !== 'removed') {
      code = await c.engine.waitContainer(id, { signal: AbortSignal.any([ac.signal, AbortSignal.timeout(RECORD_WAIT_MS)]) }).then(
        (w) => w.StatusCode,
        () => code,
      );
    }
  } finally {
    c.x.signal.removeEventListener('abort', abort);
    ac.abort();
    void Promise.resolve(events.return?.()).catch(() => {});
  }
  out.end(`${JSON.stringify({ StatusCode: code })}\n`);
}
