/**
 * What dockerd makes in a new container's root filesystem before it runs: the working
 * directory when the image lacks it (root-owned, 0755, also for another user and a read-only
 * root: it is made before the root goes read-only), and /etc/mtab -> /proc/mounts, which
 * docker's init layer adds to every container (old programs read mounts from it). Paths
 * are resolved inside the rootfs (a symlink in the image cannot send them out of it).
 */
import { lstat, mkdir, readlink, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno } from '../errors/index.js';
import { resolveInScope } from '../image/fs-util.js';

/** Paths docker keeps in its init layer: left out of diff and commit when brig made them. */
export const INIT_LAYER_PATHS = ['/etc/mtab'];

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return false;
    throw e;
  }
}

export async function initRootfs(root: string, cwd: string): Promise<void> {
  const dir = resolveInScope(root, cwd);
  // A file in the way is the runtime's error to report (docker: "not a directory").
  if (!(await exists(dir))) await mkdir(dir, { recursive: true, mode: 0o755 });
  const etc = resolveInScope(root, '/etc');
  const mtab = path.join(etc, 'mtab');
  const etcIsDir = await stat(etc).then((s) => s.isDirectory(), () => false);
  if (etcIsDir && !(await exists(mtab))) await symlink('/proc/mounts', mtab);
}

/** Bytes brig's init-layer files take in a container's upper dir (its /etc/mtab link), for sizes. */
export async function initLayerBytes(upper: string | undefined): Promise<number> {
  if (upper === undefined) return 0;
  const mtab = path.join(upper, 'etc', 'mtab');
  try {
    return (await readlink(mtab)) === '/proc/mounts' ? (await lstat(mtab)).size : 0;
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'EINVAL') || hasErrno(e, 'ENOTDIR')) return 0;
    throw e;
  }
}
