/**
 * Removing trees that hold read-only directories, or paths longer than PATH_MAX. Root ignores directory permissions; any
 * other user (rootless brig, tests) cannot unlink inside a 0555 directory, and images are
 * full of them. On EACCES the tree's directories are made writable (never following
 * symlinks) and the removal is retried.
 */
import { chmodSync, lstatSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';

function makeWritableSync(path: string): void {
  let st: import('node:fs').Stats;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) chmodSync(path, (st.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) makeWritableSync(join(path, name));
}

export function rmTreeSync(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    if (!hasErrno(e, 'EACCES') && !hasErrno(e, 'EPERM')) throw e;
    makeWritableSync(path);
    rmSync(path, { recursive: true, force: true });
  }
}

export async function rmTree(path: string): Promise<void> {
  try {
    await fs.rm(path, { recursive: true, force: true });
  } catch (e) {
    // The async rm walks by absolute path and stops at PATH_MAX; the synchronous one
    // (C++ std::filesystem) descends relative to directory fds, whatever the depth.
    if (hasErrno(e, 'ENAMETOOLONG')) return rmTreeSync(path);
    if (!hasErrno(e, 'EACCES') && !hasErrno(e, 'EPERM')) throw e;
    makeWritableSync(path);
    // When permissions were not the cause (an immutable file), the first error says why.
    await fs.rm(path, { recursive: true, force: true }).catch(() => Promise.reject(e));
  }
}

/**
 * Makes `path` (and any missing parents) a directory only its owner can enter: created 0700,
 * and an existing one with group or other bits is tightened to 0700. Store directories hold
 * image files as the image ships them (setuid-root binaries, file capabilities, device
 * nodes); if another host user could reach them, they would be that user's way to root.
 * Docker keeps /var/lib/docker the same way.
 */
export async function privateDir(path: string): Promise<void> {
  await fs.mkdir(path, { recursive: true, mode: 0o700 });
  const st = await fs.stat(path);
  // Its owner could change what is inside behind brig's back (and undo the chmod).
  const uid = userInfo().uid;
  if (st.uid !== uid) {
    throw new BrigError('INVALID_ARGUMENT', `${path} is owned by uid ${st.uid}, not by this user (${uid})`, {
      path,
      hint: `a store another user owns is theirs to change: chown ${uid} ${path}, or use another data root`,
    });
  }
  if ((st.mode & 0o077) !== 0) await fs.chmod(path, 0o700);
}

/** A bind mount of a stopped container, as its config names it: `destination` shows `source`. */
export interface ScopeMount {
  destination: string;
  source: string;
}

/**
 * docker's FollowSymlinkInScope: `p` (a path as a container sees it) as a path under `root`,
 * every symlink on the way read with lstat/readlink and followed inside `root` (an absolute
 * target restarts at `root`, `..` stops at it), so the result never leaves `root`. Missing or
 * non-directory components are kept as named (the caller's open then fails).
 *
 * `mounts` are what a stopped container's binds would show (its volumes, /etc/hosts): a path
 * at or below a mount's destination is read in the mount's source instead, as docker's
 * archive endpoints mount a stopped container's volumes before they look.
 */
export function resolveInScope(root: string, p: string, opts: { maxHops?: number; tooMany?: () => Error; mounts?: readonly ScopeMount[] } = {}): string {
  return hostPathIn(root, resolveInContainer(root, p, opts), opts.mounts);
}

/** resolveInScope's answer as the container names it: `/`-rooted, every symlink resolved. */
export function resolveInContainer(root: string, p: string, opts: { maxHops?: number; tooMany?: () => Error; mounts?: readonly ScopeMount[] } = {}): string {
  const stack: string[] = [];
  const queue = p.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      stack.pop();
      continue;
    }
    const real = hostPathIn(root, `/${[...stack, c].join('/')}`, opts.mounts);
    let link = false;
    try {
      link = lstatSync(real).isSymbolicLink();
    } catch (e) {
      if (!hasErrno(e, 'ENOENT') && !hasErrno(e, 'ENOTDIR')) throw e;
    }
    if (link) {
      if (++hops > (opts.maxHops ?? 255)) throw opts.tooMany?.() ?? new BrigError('INVALID_ARGUMENT', `too many links in ${p}`, { path: p });
      const target = readlinkSync(real);
      if (target.startsWith('/')) stack.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    stack.push(c);
  }
  return `/${stack.join('/')}`;
}

/** Where the host keeps a container path: under the deepest mount that covers it, else under `root`. */
export function hostPathIn(root: string, inner: string, mounts: readonly ScopeMount[] = []): string {
  let best: { dest: string; source: string } | undefined;
  for (const m of mounts) {
    const dest = m.destination.replace(/\/+$/, '');
    if (dest === '' || !(inner === dest || inner.startsWith(`${dest}/`))) continue;
    if (!best || dest.length > best.dest.length) best = { dest, source: m.source };
  }
  if (!best) return inner === '/' ? root : join(root, inner);
  const rest = inner.slice(best.dest.length);
  return rest === '' ? best.source : join(best.source, rest);
}
