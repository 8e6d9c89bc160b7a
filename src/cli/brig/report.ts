/**
 * How verbs that act through the engine report failure, as docker's CLI does: "Error response
 * from daemon: ..." (a host-side failure as it is) on stderr and exit 1. Also the writing of a
 * stream to stdout, and Go's wording for a failed system call on a host path.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import type { BrigContext } from './context.js';

/**
 * An error on the caller's side (a host path, an argument docker's CLI checks itself):
 * printed as it is, without the daemon prefix.
 */
export class LocalError extends Error {}

/**
 * Runs a verb's work; its failure is docker's: the message on stderr, exit 1. (brig's hint
 * is left out here: these verbs print what docker prints, line for line.)
 */
export async function report(ctx: BrigContext, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (e) {
    // The client's own failures (a bad -H, an engine it cannot reach) are not the daemon's words.
    if (e instanceof LocalError || (e as { clientSide?: boolean }).clientSide === true) ctx.stderr.write(`${(e as Error).message}\n`);
    else ctx.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    return 1;
  }
}

/** docker's atomicwriter.validateDestination: a directory to write in, a regular file (or none) to replace. */
async function validateDestination(file: string): Promise<void> {
  const dir = path.dirname(file);
  const st = await fs.stat(dir).catch((e: unknown) => {
    throw new LocalError(`invalid output path: ${goError('stat', dir, e).message}`);
  });
  if (!st.isDirectory()) throw new LocalError(`invalid output path: stat ${dir}: not a directory`);
  const cur = await fs.lstat(file).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LocalError(`failed to stat output path: ${goError('lstat', file, e).message}`);
  });
  if (cur === undefined || cur.isFile()) return;
  if (cur.isCharacterDevice() || cur.isBlockDevice()) throw new LocalError('cannot write to a character device file');
  if (cur.isSymbolicLink()) throw new LocalError('cannot write to a symbolic link directly');
  if (cur.isFIFO()) throw new LocalError('cannot write to a named pipe (FIFO)');
  if (cur.isSocket()) throw new LocalError('cannot write to a socket');
  throw new LocalError(`cannot write to a directory: ${file}`);
}

/**
 * Writes a stream into `file` as docker's atomicwriter does: the destination checked first,
 * then a temporary file beside it, renamed over it once complete, so a failure leaves the
 * old file (or none), never half of one. Errors are Go's wording.
 */
export async function writeFileFromStream(file: string, data: AsyncIterable<Uint8Array> | ((write: (c: Uint8Array) => Promise<void>) => Promise<void>), mode: number): Promise<void> {
  await validateDestination(file);
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const fh = await fs.open(tmp, 'wx', mode).catch((e: unknown) => {
      throw goError('open', tmp, e);
    });
    try {
      const write = async (c: Uint8Array) => void (await fh.write(c));
      if (typeof data === 'function') await data(write);
      else for await (const c of data) await write(c);
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
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

/** A file's bytes (Go's "open FILE: ..." when it will not open), or stdin's without one. */
export async function* fileOrStdin(ctx: BrigContext, file: string | undefined): AsyncGenerator<Uint8Array> {
  if (file === undefined) {
    yield* ctx.stdin as AsyncIterable<Buffer>;
    return;
  }
  const stream = createReadStream(path.resolve(ctx.cwd, file));
  try {
    yield* stream;
  } catch (e) {
    if ((e as { syscall?: string }).syscall === 'open') throw goError('open', file, e);
    throw e;
  }
}

/** Go's error text for a failed system call on a path ("lstat /x: no such file or directory"). */
export function goError(op: string, p: string, e: unknown): LocalError {
  const code = (e as NodeJS.ErrnoException).code;
  const text: Record<string, string> = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links' };
  return new LocalError(`${op} ${p}: ${(code && text[code]) ?? (e as Error).message}`);
}
