/**
 * What the verbs on a container's files share: docker's CLI prints their failures as
 * "Error response from daemon: ..." (a host-side failure as it is) and exits 1.
 */
import type { BrigContext } from '../../context.js';

/** An error about the caller's side (a host path): printed as it is, without the daemon prefix. */
export class LocalError extends Error {}

/** Runs a verb's work; its failure is docker's: the message on stderr, exit 1. */
export async function report(ctx: BrigContext, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (e) {
    if (e instanceof LocalError) ctx.stderr.write(`${e.message}\n`);
    else ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Writes a stream to our stdout, minding back-pressure, without ending it; a reader that went away (EPIPE) ends it quietly. */
export async function toStdout(ctx: BrigContext, data: AsyncIterable<Uint8Array>): Promise<void> {
  let failed: Error | undefined;
  const onError = (e: Error) => {
    failed = e;
    ctx.stdout.emit('drain');
  };
  ctx.stdout.on('error', onError);
  try {
    for await (const chunk of data) {
      if (failed) break;
      if (!ctx.stdout.write(chunk)) await new Promise<void>((resolve) => ctx.stdout.once('drain', () => resolve()));
    }
  } finally {
    ctx.stdout.off('error', onError);
  }
  if (failed && (failed as NodeJS.ErrnoException).code !== 'EPIPE') throw new LocalError(`write /dev/stdout: ${failed.message}`);
}

/** Go's error text for a failed system call on a path ("lstat /x: no such file or directory"). */
export function goError(op: string, p: string, e: unknown): LocalError {
  const code = (e as NodeJS.ErrnoException).code;
  const text: Record<string, string> = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links' };
  return new LocalError(`${op} ${p}: ${(code && text[code]) ?? (e as Error).message}`);
}
