/**
 * What `run` and `create` do before the engine makes the container, as docker's CLI does:
 * the --cidfile guard, --pull (missing: pull when the image is not here, saying so on
 * stderr; always; never), the engine's warnings on stderr, and the id into the cidfile.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { BrigError, hasErrno } from '../../../../errors/index.js';
import type { BrigContext } from '../../context.js';
import { jsonMessageRenderer } from '../../render.js';
import type { CreatePlan } from './create-options.js';

/** Pulls the image as --pull says; a pull's progress goes to stderr (stdout is the container's). */
export async function ensureImage(ctx: BrigContext, plan: CreatePlan): Promise<void> {
  const engine = ctx.engine();
  const ref = plan.request.Image;
  if (plan.pull === 'never') return;
  if (plan.pull === 'missing') {
    try {
      await engine.inspectImage(ref);
      return;
    } catch (e) {
      if ((e as BrigError).code !== 'IMAGE_NOT_FOUND') throw e;
    }
    ctx.stderr.write(`Unable to find image '${ref}' locally\n`);
  }
  // The engine's stream ends with docker's "Digest:" and "Status:" lines.
  await engine.pullImage(ref, plan.quiet ? {} : { onProgress: jsonMessageRenderer(ctx.stderr) });
}

export function printWarnings(ctx: BrigContext, warnings: string[]): void {
  for (const w of warnings) ctx.stderr.write(`WARNING: ${w}\n`);
}

/**
 * docker's --cidfile: refused if the file exists (another container may own it), created
 * before the container, holds its id once made, and goes again if the create fails.
 */
export async function withCidFile(plan: CreatePlan, create: () => Promise<string>): Promise<string> {
  if (plan.cidfile === undefined) return create();
  let fd: number;
  try {
    fd = openSync(plan.cidfile, 'wx', 0o644);
  } catch (e) {
    if (hasErrno(e, 'EEXIST')) {
      throw new BrigError('INVALID_ARGUMENT', `Container ID file found, make sure the other container isn't running or delete ${plan.cidfile}`, { field: '--cidfile', path: plan.cidfile });
    }
    throw new BrigError('INVALID_ARGUMENT', `failed to create the container ID file: ${(e as Error).message}`, { field: '--cidfile', path: plan.cidfile, cause: e });
  }
  try {
    const id = await create();
    writeSync(fd, id);
    return id;
  } catch (e) {
    rmSync(plan.cidfile, { force: true });
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** create: image, cidfile, the engine's create; the new container's id. */
export async function createFromPlan(ctx: BrigContext, plan: CreatePlan): Promise<string> {
  await ensureImage(ctx, plan);
  return withCidFile(plan, async () => {
    const { Id, Warnings } = await ctx.engine().createContainer(plan.request, plan.name !== undefined ? { name: plan.name } : {});
    printWarnings(ctx, Warnings);
    return Id;
  });
}
