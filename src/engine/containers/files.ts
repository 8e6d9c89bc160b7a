/**
 * A container's files seen from the host: paths resolved inside its rootfs (docker's
 * FollowSymlinkInScope), path stats in the Docker API's shape, archives of a path and
 * extraction into one (docker cp), and the changes against its image (docker diff).
 *
 * Resolution never leaves the rootfs: components are taken one by one with lstat; a symlink
 * is read and its target resolved in the same scope (an absolute target restarts at the
 * rootfs, as the container sees it); `..` stops at the rootfs. The rootfs is the host's
 * mount of the container's snapshot, so a running container could swap a component between
 * the check and the use: the engine pauses a running container while it reads or writes its
 * files this way.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { hostPathIn, resolveInContainer, resolveInScope, type ScopeMount } from '../../image/fs-util.js';

function lstatQuiet(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

export { resolveInScope, type ScopeMount };

/** docker's ResolvePath: the directory resolved in scope, the final component as named (not followed). */
export function resolvePath(root: string, p: string, mounts?: readonly ScopeMount[]): { resolved: string; abs: string } {
  const joined = path.posix.join('/', p);
  const abs = preserveTrailingOf(joined, p);
  const slash = abs.lastIndexOf('/');
  const dir = abs.slice(0, slash + 1);
  const base = abs.slice(slash + 1);
  const rdir = resolveInContainer(root, dir, { mounts });
  const resolved = hostPathIn(root, base === '' || base === '.' ? rdir : path.posix.join(rdir, base), mounts);
  return { resolved: base === '.' ? `${resolved.replace(/\/$/, '')}/.` : resolved, abs };
}

function preserveTrailingOf(cleaned: string, original: string): string {
  if ((original === '.' || original.endsWith('/.')) && !cleaned.endsWith('/.')) return `${cleaned.replace(/\/$/, '')}/.`;
  if (original.endsWith('/') && !cleaned.endsWith('/')) return `${cleaned}/`;
  return cleaned;
}

/** The Docker API's ContainerPathStat (X-Docker-Container-Path-Stat): Mode is Go's os.FileMode. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode bits for a stat's type and permissions. */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m |= 1 << 23;
  if (st.mode & 0o2000) m |= 1 << 22;
  if (st.mode & 0o1000) m |= 1 << 20;
  if (st.isDirectory()) m |= 2 ** 31;
  else if (st.isSymbolicLink()) m |= 1 << 27;
  else if (st.isFIFO()) m |= 1 << 25;
  else if (st.isSocket()) m |= 1 << 24;
  else if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) m |= 1 << 26;
  return m >>> 0;
}

export const isDirMode = (mode: number) => mode >= 2 ** 31;
export const isSymlinkMode = (mode: number) => (mode & (1 << 27)) !== 0;

export function fileNotFound(p: string, container: string): BrigError {
  return new BrigError('PATH_NOT_FOUND', `Could not find the file ${p} in container ${container}`, { path: p });
}

/** docker's statPath: the path's own stat (a symlink not followed; its target resolved in scope). */
export function statPath(root: string, p: string, container: string, mounts?: readonly ScopeMount[]): { stat: ContainerPathStat; resolved: string; abs: string } {
  const { resolved, abs } = resolvePath(root, p, mounts);
  const st = lstatQuiet(resolved);
  if (!st) throw fileNotFound(p, container);
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = resolveInContainer(root, abs, { mounts });
  const base = abs === '/' ? '/' : path.posix.basename(abs.replace(/(.)\/$/, '$1'));
  return { stat: { name: base, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget }, resolved, abs };
}

/** docker's ChangeType: 0 modified, 1 added, 2 deleted. */
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

function sameDir(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs;
}

/**
 * The mount points the runtime made in a container's upper dir because the image had none
 * (/proc, /etc/hostname, a --tmpfs target, ...). docker keeps those in an init layer below
 * the container's, so they are no change of the container's: diff and commit leave them out.
 */
export function madeMountpoints(destinations: readonly string[], lowers: readonly string[]): Set<string> {
  const inLower = (p: string) => lowers.some((l) => lstatQuiet(path.join(l, p)) !== undefined);
  return new Set(destinations.map((d) => path.posix.normalize(d)).filter((d) => d !== '/' && !inLower(d.slice(1))));
}

/**
 * docker's changes of a container: what the upper dir holds against the lower dirs (nearest
 * first). A 0:0 character device is a deletion; a path found in a lower dir is a
 * modification (a directory when its size, mode or mtime differ); anything else was added;
 * and every directory with a change below it is modified too, as dockerd reports it (its
 * tree-comparing diff, which it uses on hosts like this one: "Native Overlay Diff: false";
 * overlay copy-up keeps a directory's own times, so only this rule names /usr for a new
 * /usr/local/bin/x). Mount points the runtime made (`made`) are no change, nor the mtime they
 * gave their directory. Parents first, names in order.
 */
export function overlayChanges(upper: string, lowers: string[], made: ReadonlySet<string> = new Set()): Change[] {
  const madeIn = new Set([...made].map((m) => path.posix.dirname(m)));
  /** The changes at and below `rel` (a directory of the upper dir). */
  const walk = (rel: string): Change[] => {
    const out: Change[] = [];
    for (const n of readdirSync(path.join(upper, rel)).sort()) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const p = `/${r}`;
      const st = lstatSync(path.join(upper, r));
      if (made.has(p) && !st.isDirectory()) continue;
      let kind: 0 | 1 | 2 | undefined;
      if (st.isCharacterDevice() && st.rdev === 0) kind = 2;
      else if (made.has(p)) kind = undefined;
      else {
        kind = 1;
        for (const l of lowers) {
          const lst = lstatQuiet(path.join(l, r));
          if (!lst) continue;
          const same = madeIn.has(p) ? st.mode === lst.mode : sameDir(st, lst);
          kind = st.isDirectory() && lst.isDirectory() && same ? undefined : 0;
          break;
        }
      }
      const below = st.isDirectory() && kind !== 2 ? walk(r) : [];
      if (kind === undefined && below.length > 0) kind = 0;
      if (kind !== undefined) out.push({ Path: p, Kind: kind });
      out.push(...below);
    }
    return out;
  };
  return walk('');
}
