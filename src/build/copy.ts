/**
 * What COPY and ADD copy, with docker's rules: sources are paths or wildcards (Go's
 * filepath.Match per component) relative to the context (or to another stage's or image's
 * root with --from); a directory's contents are copied, not the directory; a file lands at
 * DEST, or inside it when DEST ends in `/` or is a directory; several sources need a DEST
 * ending in `/`. Sources never leave their root: `..` stops at it, and symlinks met on the
 * way resolve inside it (a symlink that is itself copied stays a symlink).
 *
 * The copy is planned as a list of entries first, so its content digest (names, types,
 * modes, link targets and file contents; not times) keys the build cache before a byte is
 * written; then the same entries become a tar stream for the layer applier.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { resolveInContainer, hostPathIn } from '../image/fs-util.js';
import { headerFor } from '../image/layers/create.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../image/layers/tar-writer.js';
import { globSource, PATH_GLOB } from './glob.js';
import type { IgnoreMatcher } from './ignore.js';

export interface CopyEntry {
  /** Host path (never followed at its last component). */
  abs: string;
  /** Name under the destination directory, `/`-separated, no leading slash. */
  name: string;
  st: Stats;
  linkname?: string;
  /** A small file's content, read once for the digest and kept for the copy. */
  data?: Buffer;
}

/** Files up to this size are read whole (one call, not a stream), and kept between digest and copy. */
const SMALL = 256 << 10;
/** The most small-file content one COPY keeps in memory between digest and copy. */
const KEEP_BUDGET = 64 << 20;

/** A file's content through a descriptor opened without following a swapped-in symlink. */
async function readSmall(e: CopyEntry): Promise<Buffer> {
  const b = await fs.readFile(e.abs, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  if (b.length !== e.st.size) throw new BrigError('BUILD_CONTEXT', `"${e.name}" changed size while it was being copied`, { path: e.abs });
  return b;
}

/** Runs `fn` on every item, `n` at a time, in order of completion (small files are many). */
async function eachLimit<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export interface SourceRoot {
  /** The host directory standing for `/` (the context, or a mounted stage or image). */
  root: string;
  /** The context's .dockerignore; none for a stage or image. */
  ignore?: IgnoreMatcher;
  /** How errors name it: "build context", "stage builder". */
  what: string;
}

const hasMeta = (s: string) => /[*?[]/.test(s);

function globComponent(pat: string): RegExp {
  return new RegExp(`^${globSource(pat, PATH_GLOB)}$`);
}

async function lstatQuiet(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

function notFound(src: string, from: SourceRoot): BrigError {
  return new BrigError('BUILD_CONTEXT', `failed to compute cache key: "/${src.replace(/^\/+/, '')}" not found in the ${from.what}${from.ignore && !from.ignore.empty ? ' (or excluded by .dockerignore)' : ''}`, { path: src });
}

/**
 * The paths (inside the root, `/`-rooted and resolved) one source names. A wildcard matches
 * what exists and is not ignored; a plain path must exist.
 */
export async function matchSource(from: SourceRoot, src: string, opts: { outsideIsError: boolean }): Promise<string[]> {
  const norm = path.posix.normalize(`/${src}`);
  if (opts.outsideIsError && path.posix.normalize(src).startsWith('../')) {
    throw new BrigError('BUILD_CONTEXT', `COPY failed: forbidden path outside the build context: ${src}`, { path: src });
  }
  const rel = (p: string) => p.replace(/^\/+/, '');
  if (!hasMeta(norm)) {
    const inner = resolveInContainer(from.root, norm);
    // The context's root itself is never ignored (`COPY . .` with a `*` pattern).
    if ((rel(norm) !== '' && from.ignore?.ignored(rel(norm))) || (await lstatQuiet(hostPathIn(from.root, inner))) === undefined) throw notFound(src, from);
    return [inner];
  }
  let found = ['/'];
  for (const comp of norm.split('/').filter((c) => c !== '')) {
    const next: string[] = [];
    for (const dir of found) {
      if (!hasMeta(comp)) {
        next.push(path.posix.join(dir, comp));
        continue;
      }
      const real = hostPathIn(from.root, resolveInContainer(from.root, dir));
      const names = await fs.readdir(real).catch(() => [] as string[]);
      const re = globComponent(comp);
      for (const n of names.sort()) if (re.test(n)) next.push(path.posix.join(dir, n));
    }
    found = next;
  }
  const out: string[] = [];
  for (const p of found) {
    if (from.ignore?.ignored(rel(p))) continue;
    const inner = resolveInContainer(from.root, p);
    if ((await lstatQuiet(hostPathIn(from.root, inner))) !== undefined) out.push(inner);
  }
  return out;
}

/** Every entry under a source path (the path itself first), named from `base`. */
async function walkSource(from: SourceRoot, inner: string, base: string, out: CopyEntry[]): Promise<void> {
  const abs = hostPathIn(from.root, inner);
  const st = await fs.lstat(abs);
  const entry: CopyEntry = { abs, name: base, st };
  if (st.isSymbolicLink()) entry.linkname = await fs.readlink(abs);
  if (base !== '') out.push(entry);
  if (!st.isDirectory()) return;
  const rel = inner.replace(/^\/+/, '');
  for (const n of (await fs.readdir(abs)).sort()) {
    const childRel = rel === '' ? n : `${rel}/${n}`;
    if (from.ignore?.ignored(childRel)) {
      const cst = await fs.lstat(path.join(abs, n));
      if (!cst.isDirectory() || !from.ignore.mayReinclude(childRel)) continue;
    }
    await walkSource(from, `${inner === '/' ? '' : inner}/${n}`, base === '' ? n : `${base}/${n}`, out);
  }
}

export interface CopyPlan {
  /** The directory (inside the stage's root) the entries go into, and whether it must be made. */
  destDir: string;
  entries: CopyEntry[];
}

/**
 * Plans one COPY/ADD of `sources` (already matched) to `dest` (absolute, inside the stage):
 * docker's naming rules. `destIsDir` says whether DEST exists as a directory in the stage.
 */
export async function planCopy(from: SourceRoot, sources: string[], dest: string, destIsDir: boolean, rawDest: string): Promise<CopyPlan> {
  const endsSlash = rawDest.endsWith('/') || rawDest === '.' || rawDest.endsWith('/.');
  const intoDir = endsSlash || destIsDir;
  const entries: CopyEntry[] = [];
  for (const src of sources) {
    const st = await fs.lstat(hostPathIn(from.root, src));
    if (st.isDirectory()) {
      // The directory's contents go into DEST.
      await walkSource(from, src, '', entries);
      continue;
    }
    if (intoDir) await walkSource(from, src, path.posix.basename(src), entries);
    else {
      // DEST names the file itself.
      const before = entries.length;
      await walkSource(from, src, path.posix.basename(dest), entries);
      if (entries.length !== before + 1) throw new BrigError('INTERNAL', 'a file source gave more than one entry');
    }
  }
  const multi = sources.length > 1 || (await Promise.all(sources.map(async (s) => (await fs.lstat(hostPathIn(from.root, s))).isDirectory()))).some(Boolean);
  const destDir = intoDir || multi ? dest : path.posix.dirname(dest);
  return { destDir, entries };
}

/** The content digest of a plan: names, types, modes, link targets, sizes, file contents. */
export async function digestCopy(entries: readonly CopyEntry[], extra: string): Promise<string> {
  // Small files are read in parallel first (and kept for the copy); big ones streamed below.
  // Kept up to a budget, so a huge context is hashed and copied in bounded memory.
  let budget = KEEP_BUDGET;
  const small = entries.filter((e) => e.st.isFile() && e.st.size <= SMALL && e.data === undefined && (budget -= e.st.size) >= 0);
  await eachLimit(small, 16, async (e) => {
    e.data = await readSmall(e);
  });
  const h = createHash('sha256');
  h.update(`${extra}\0`);
  for (const e of entries) {
    const type = e.st.isDirectory() ? 'd' : e.st.isSymbolicLink() ? 'l' : e.st.isFile() ? 'f' : 'o';
    h.update(`${e.name}\0${type}\0${e.st.mode & 0o7777}\0${e.st.uid}:${e.st.gid}\0${e.linkname ?? ''}\0${e.st.size}\0`);
    if (e.data !== undefined) h.update(e.data);
    else if (type === 'f') {
      const fh = await fs.open(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) h.update(chunk as Buffer);
      } finally {
        await fh.close();
      }
    }
  }
  return `sha256:${h.digest('hex')}`;
}

/** The entries as a tar stream (`--chmod` applied), for extractArchive. */
export async function* copyTar(entries: readonly CopyEntry[], chmod: number | undefined): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const h = headerFor(e.name, e.st);
    if (e.linkname !== undefined) h.linkname = e.linkname;
    if (chmod !== undefined && h.type !== 'symlink') h.mode = chmod;
    yield encodeHeader(h);
    if (h.type !== 'file') continue;
    if (e.data !== undefined || e.st.size <= SMALL) {
      yield e.data ?? (await readSmall(e));
      yield padding(e.st.size);
      continue;
    }
    const fh = await fs.open(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let got = 0;
      for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
        const b = chunk as Buffer;
        const take = Math.min(b.length, e.st.size - got);
        if (take > 0) yield b.subarray(0, take);
        got += take;
        if (got >= e.st.size) break;
      }
      if (got !== e.st.size) throw new BrigError('BUILD_CONTEXT', `"${e.name}" changed size while it was being copied`, { path: e.abs });
    } finally {
      await fh.close();
    }
    yield padding(e.st.size);
  }
  yield END_OF_ARCHIVE;
}

/** A tar header's first block tells a tar archive (ustar magic, or a valid v7 checksum). */
export function isTarHeader(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  if (Buffer.from(b.subarray(257, 262)).toString('latin1') === 'ustar') return true;
  const stored = parseInt(Buffer.from(b.subarray(148, 156)).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return Number.isFinite(stored) && stored === sum && b[0] !== 0;
}

/** Compressed archive magic ADD recognises: gzip, bzip2, xz, zstd. */
export async function compression(file: string): Promise<'gzip' | 'bzip2' | 'xz' | 'zstd' | undefined> {
  const fh = await fs.open(file, 'r');
  try {
    const b = Buffer.alloc(6);
    await fh.read(b, 0, 6, 0);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (b[0] === 0xfd && b.subarray(1, 6).toString('latin1') === '7zXZ\0') return 'xz';
    if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return undefined;
  } finally {
    await fh.close();
  }
}
