/**
 * brig cp, with docker's flags, output and exit codes: both directions, directories, `-` tar
 * streams. docker cp's client half lives here as it does in docker's CLI: where the copy
 * lands and under which name (src/image/layers/copy.ts); the engine reads and writes inside
 * the container's rootfs.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Engine } from '../../../../engine/engine.js';
import { BrigError, hasErrno } from '../../../../errors/index.js';
import {
  archiveResource,
  type CopyInfo,
  errNotDirectory,
  extractArchive,
  prepareArchiveCopy,
  preserveTrailing,
  rebaseArchive,
  specifiesCurrentDir,
  splitPathDirEntry,
} from '../../../../image/layers/copy.js';
import type { CommandSpec, FlagValues } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import { exactArgs, type Verb } from '../../verb.js';
import { goError, LocalError, report, toStdout } from '../../report.js';

const isDirMode = (mode: number) => mode >= 2 ** 31;
const isSymlinkMode = (mode: number) => (mode & (1 << 27)) !== 0;

/** filepath.Base: the last element, trailing slashes dropped. */
function goBase(p: string): string {
  const t = p.replace(/\/+$/, '');
  if (t === '') return p === '' ? '.' : '/';
  return path.posix.basename(t);
}

/** docker's GetRebaseName: the resolved path keeps the original's trailing "/" or "/."; the name to keep when the base changed. */
function rebaseFor(original: string, resolved: string): [string, string | undefined] {
  let r = resolved;
  if (specifiesCurrentDir(original) && !specifiesCurrentDir(r)) r = `${r}/.`;
  if (original.endsWith('/') && !r.endsWith('/')) r = `${r}/`;
  return [r, goBase(original) !== goBase(r) ? goBase(original) : undefined];
}

const CP: CommandSpec = {
  name: 'cp',
  usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tbrig cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  flags: [
    { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
};

/** docker's splitCpArg: "ctr:path", or a local path (absolute, or starting with "." when it holds a colon). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** docker's CopyInfoDestinationPath on the host: symlinks at the destination followed; a missing one needs its parent. */
function hostDestination(p: string): CopyInfo {
  let cur = p;
  for (let n = 0; ; n++) {
    let st;
    try {
      st = lstatSync(cur);
    } catch (e) {
      if (!hasErrno(e, 'ENOENT')) throw goError('lstat', cur, e);
      const [parent] = splitPathDirEntry(cur);
      let pst;
      try {
        pst = statSync(parent);
      } catch (e2) {
        throw goError('stat', parent, e2);
      }
      if (!pst.isDirectory()) throw new LocalError(errNotDirectory().message);
      return { path: cur, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) return { path: cur, exists: true, isDir: st.isDirectory() };
    if (n >= 10) throw new LocalError(`too many symlinks in ${p}`);
    const target = readlinkQuiet(cur);
    cur = target.startsWith('/') ? target : path.join(splitPathDirEntry(cur)[0], target);
  }
}

function readlinkQuiet(p: string): string {
  try {
    return readlinkSync(p);
  } catch (e) {
    throw goError('readlink', p, e);
  }
}

/** docker's CopyInfoSourcePath on the host: the final component followed only with -L. */
function hostSource(p: string, follow: boolean): CopyInfo {
  let resolved: string;
  let rebase: string | undefined;
  try {
    if (follow) {
      [resolved, rebase] = rebaseFor(p, realpathSync(p));
    } else {
      const slash = p.lastIndexOf('/');
      const dir = slash < 0 ? '.' : p.slice(0, slash + 1) || '/';
      const base = slash < 0 ? p : p.slice(slash + 1);
      const rdir = realpathSync(dir);
      resolved = base === '' ? `${rdir}/` : path.join(rdir, base) + (base === '.' ? '/.' : '');
      if (p.endsWith('/') && goBase(p) !== goBase(resolved)) rebase = goBase(p);
    }
  } catch (e) {
    throw goError('lstat', p, e);
  }
  let st;
  try {
    st = lstatSync(resolved);
  } catch (e) {
    throw goError('lstat', p, e);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), ...(rebase !== undefined ? { rebaseName: rebase } : {}) };
}

/** docker's TarResource: the source, its top entry named as its base (or its rebase name). */
function hostArchive(src: CopyInfo): AsyncIterable<Buffer> {
  const [dir, base] = splitPathDirEntry(src.path);
  return archiveResource(base === '.' ? dir : path.join(dir, base), src.rebaseName ?? base);
}

async function statOrUndefined(engine: Engine, ref: string, p: string) {
  try {
    return await engine.statContainerPath(ref, p);
  } catch (e) {
    if ((e as BrigError).code === 'PATH_NOT_FOUND') return undefined;
    throw e;
  }
}

async function copyFromContainer(ctx: BrigContext, ref: string, srcPath: string, dst: string, v: FlagValues): Promise<void> {
  const engine = ctx.engine();
  // The container's root has no name of its own: its contents, as "/." names them.
  let src = path.posix.join('/', srcPath) === '/' ? '/.' : srcPath;
  let rebase: string | undefined;
  if (v['follow-link'] === true) {
    const st = await statOrUndefined(engine, ref, src);
    if (st && isSymlinkMode(st.mode)) [src, rebase] = rebaseFor(src, st.linkTarget);
  }
  // Where it lands is known before the container's files are read (a bad destination reads nothing).
  const dstInfo = dst === '-' ? undefined : hostDestination(preserveTrailing(path.resolve(ctx.cwd, dst), dst));
  await engine.getContainerArchive(ref, src, async (stat, tar) => {
    if (dstInfo === undefined) return toStdout(ctx, tar);
    const srcInfo: CopyInfo = { path: src, exists: true, isDir: isDirMode(stat.mode), ...(rebase !== undefined ? { rebaseName: rebase } : {}) };
    const content = rebase !== undefined ? rebaseArchive(tar, splitPathDirEntry(src)[1], rebase) : tar;
    let prepared;
    try {
      prepared = prepareArchiveCopy(content, srcInfo, dstInfo);
    } catch (e) {
      throw new LocalError((e as Error).message);
    }
    try {
      // As docker's CLI (archive.CopyTo, NoLchown): copies out are the caller's, -a or not;
      // -a keeps owners only on the way into a container.
      await extractArchive(prepared.content, prepared.dir, '', { owner: 'none' });
    } catch (e) {
      throw new LocalError((e as Error).message);
    }
  });
}

async function copyToContainer(ctx: BrigContext, src: string, ref: string, dstPath: string, v: FlagValues): Promise<void> {
  const engine = ctx.engine();
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statOrUndefined(engine, ref, dstPath);
  // A symlink at the destination is followed (inside the container), as docker does.
  if (st && isSymlinkMode(st.mode)) {
    dstInfo.path = st.linkTarget;
    st = await statOrUndefined(engine, ref, st.linkTarget);
  }
  if (st) {
    dstInfo.exists = true;
    dstInfo.isDir = isDirMode(st.mode);
  }
  if (src === '-') {
    if (!dstInfo.isDir) throw new LocalError(`destination "${ref}:${dstPath}" must be a directory`);
    await engine.putContainerArchive(ref, dstInfo.path, ctx.stdin as AsyncIterable<Buffer>, { copyUIDGID: v.archive === true });
    return;
  }
  const srcInfo = hostSource(preserveTrailing(path.resolve(ctx.cwd, src), src), v['follow-link'] === true);
  let prepared;
  try {
    prepared = prepareArchiveCopy(hostArchive(srcInfo), srcInfo, dstInfo);
  } catch (e) {
    throw new LocalError((e as Error).message);
  }
  await engine.putContainerArchive(ref, prepared.dir, prepared.content, { copyUIDGID: v.archive === true });
}

export const cp: Verb = {
  spec: CP,
  async run(ctx, p) {
  exactArgs(p, CP, 2);
  const src = splitCpArg(p.args[0]!);
  const dst = splitCpArg(p.args[1]!);
  return report(ctx, async () => {
    if (src.container !== undefined && dst.container !== undefined) throw new LocalError('copying between containers is not supported');
    if (src.container !== undefined) return copyFromContainer(ctx, src.container, src.path, dst.path, p.values);
    if (dst.container !== undefined) return copyToContainer(ctx, src.path, dst.container, dst.path, p.values);
    throw new LocalError('must specify at least one container source');
  });
  },
};
