/**
 * The client's half of a build through the Engine API (POST /build), as docker's CLI does it
 * for the classic builder:
 *
 *  - the context directory goes as a tar body, `.dockerignore` applied here (the Dockerfile's
 *    own `NAME.dockerignore` first), the Dockerfile and the ignore file always sent, every
 *    entry owned by 0:0 (docker/cli's build context: ChownOpts 0:0);
 *  - a Dockerfile the client read itself (`-f -`, or one outside the context) goes into the
 *    tar under a name of its own, `.dockerfile.<random>` (docker/cli's AddDockerfileToBuildContext),
 *    with the ignore text beside it as `<name>.dockerignore`;
 *  - the answer, docker's JSON message stream, is read back into BuildProgress: `Step …`
 *    starts a step, ` ---> Using cache` marks it cached, other lines are its output, the
 *    aux ID is the image, an error line fails the build.
 *
 * The classic stream has no step ids on output lines: when the engine runs stages at the same
 * time, their lines are shown under the step that started last.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BrigError, hasErrno } from '../../errors/index.js';
import { IgnoreMatcher } from '../../build/ignore.js';
import { decompress } from '../../image/layers/compression.js';
import { tarTree } from '../../image/layers/create.js';
import { numeric } from '../../image/layers/tar-reader.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../image/layers/tar-writer.js';
import type { BuildProgress } from '../engine.js';
import { jsonLines } from './streams.js';

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR') || hasErrno(e, 'EISDIR')) return undefined;
    throw e;
  }
}

/** An entry the client adds to the context (the Dockerfile it read, its ignore file). */
export interface ExtraEntry {
  name: string;
  data: string;
}

/**
 * The context directory as a tar stream: what `ignore` leaves out is not sent (an excluded
 * directory is still walked when a `!` pattern may bring something below it back), except
 * the names in `keep`; sockets, devices and fifos are not sent (docker's CLI skips them too).
 */
export async function* contextTar(dir: string, ignore: IgnoreMatcher, keep: ReadonlySet<string>, extra: readonly ExtraEntry[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const select = (name: string, st: Stats) => {
    if (!keep.has(name) && !ignore.empty && ignore.ignored(name)) return st.isDirectory() && ignore.mayReinclude(name) ? 'descend' : 'exclude';
    return st.isFile() || st.isDirectory() || st.isSymbolicLink() ? 'include' : 'exclude';
  };
  yield* tarTree(dir, { xattrs: false, noEnd: true, owner: { uid: 0, gid: 0 }, select, ...(signal ? { signal } : {}) });
  const mtime = Math.floor(Date.now() / 1000);
  for (const e of extra) yield* extraEntry(e, mtime);
  yield END_OF_ARCHIVE;
}

function* extraEntry(e: ExtraEntry, mtime: number): Generator<Buffer> {
  const data = Buffer.from(e.data);
  yield encodeHeader({ name: e.name, type: 'file', mode: 0o600, uid: 0, gid: 0, size: data.length, mtime });
  yield data;
  yield padding(data.length);
}

/** Where a tar's end-of-archive starts (its entries walked by their header sizes). */
function tarEnd(tar: Buffer): number {
  let at = 0;
  while (at + 512 <= tar.length) {
    const block = tar.subarray(at, at + 512);
    if (block.every((b) => b === 0)) return at;
    // The reader's parser (octal or GNU base-256); a bad field is its INVALID_TAR error.
    const size = numeric(block.subarray(124, 136), 'size');
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return Math.min(at, tar.length);
}

/** A tar context (plain or compressed) with `extra` entries added at its end. */
async function* tarWithExtra(tar: AsyncIterable<Uint8Array>, extra: readonly ExtraEntry[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of decompress(tar, signal ? { signal } : {})) parts.push(Buffer.from(c));
  const whole = Buffer.concat(parts);
  yield whole.subarray(0, tarEnd(whole));
  const mtime = Math.floor(Date.now() / 1000);
  for (const e of extra) yield* extraEntry(e, mtime);
  yield END_OF_ARCHIVE;
}

/** What the client sends: the body and the Dockerfile's name in it. */
export async function buildContext(
  context: { dir: string } | { tar: AsyncIterable<Uint8Array> },
  opts: { dockerfile?: string; dockerfileText?: string; ignoreText?: string; signal?: AbortSignal },
): Promise<{ body: AsyncIterable<Uint8Array>; dockerfile: string }> {
  const extra: ExtraEntry[] = [];
  let dockerfile = opts.dockerfile ?? 'Dockerfile';
  if (opts.dockerfileText !== undefined) {
    dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra.push({ name: dockerfile, data: opts.dockerfileText });
    if (opts.ignoreText !== undefined) extra.push({ name: `${dockerfile}.dockerignore`, data: opts.ignoreText });
  }
  if ('tar' in context) return { body: extra.length > 0 ? tarWithExtra(context.tar, extra, opts.signal) : context.tar, dockerfile };
  const dir = path.resolve(context.dir);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new BrigError('BUILD_CONTEXT', `unable to prepare context: path "${context.dir}" not found`, { path: context.dir });
  const named = path.posix.normalize(dockerfile).replace(/^\/+/, '');
  // The engine's rule (src/build/engine-build.ts): NAME.dockerignore beside the Dockerfile wins.
  const ignoreText = opts.ignoreText ?? (opts.dockerfileText === undefined ? await readIfExists(path.join(dir, `${named}.dockerignore`)) : undefined) ?? (await readIfExists(path.join(dir, '.dockerignore')));
  const keep = new Set(opts.dockerfileText === undefined ? [named, `${named}.dockerignore`, '.dockerignore', 'dockerfile'] : ['.dockerignore']);
  return { body: contextTar(dir, IgnoreMatcher.parse(ignoreText ?? ''), keep, extra, opts.signal), dockerfile };
}

/** The classic builder's JSON stream read back into progress; the image ID and the counts. */
export async function followBuild(body: Readable, onProgress?: (p: BuildProgress) => void): Promise<{ id: string; steps: number; cached: number }> {
  let id: string | undefined;
  let step = 0;
  let steps = 0;
  let cached = 0;
  let t0 = Date.now();
  let open = false;
  let partial = '';
  const emit = (p: BuildProgress) => onProgress?.(p);
  const finish = () => {
    if (open) emit({ type: 'done', id: step, seconds: (Date.now() - t0) / 1000 });
    open = false;
  };
  const line = (text: string) => {
    const s = /^Step (\S+) : (.*)$/.exec(text);
    if (s) {
      finish();
      step++;
      steps++;
      t0 = Date.now();
      open = true;
      // dockerd numbers steps N/M; brig serve's names carry their stage and number already.
      emit({ type: 'step', id: step, name: /^\d+\/\d+$/.test(s[1]!) ? `[${s[1]}] ${s[2]}` : s[2]! });
    } else if (/^ ---> Using cache$/.test(text)) {
      cached++;
      if (open) emit({ type: 'cached', id: step });
      open = false;
    } else if (/^ ---> |^Removing intermediate container |^Successfully (built|tagged) /.test(text)) {
      // dockerd's intermediate containers and images, and the summary: not a step's output.
    } else if (step === 0) emit({ type: 'info', text });
    else emit({ type: 'log', id: step, text, seconds: (Date.now() - t0) / 1000 });
  };
  for await (const m of jsonLines<{ stream?: string; aux?: { ID?: string }; error?: string; errorDetail?: { message?: string } }>(body)) {
    if (m.error !== undefined || m.errorDetail !== undefined) {
      if (partial !== '') line(partial);
      const message = m.errorDetail?.message ?? m.error ?? 'unknown error';
      if (open) emit({ type: 'error', id: step, message });
      throw new BrigError('BUILD_STEP_FAILED', message);
    }
    if (m.aux?.ID !== undefined) id = m.aux.ID;
    if (m.stream !== undefined) {
      const lines = (partial + m.stream).split('\n');
      partial = lines.pop()!;
      for (const l of lines) line(l.replace(/\r$/, ''));
    }
  }
  if (partial !== '') line(partial);
  finish();
  if (id === undefined) throw new BrigError('INTERNAL', 'the engine ended the build without naming the image (no aux ID in its answer)');
  return { id, steps, cached };
}
