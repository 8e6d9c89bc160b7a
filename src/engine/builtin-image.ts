/**
 * The built-in image `host`: a root filesystem brig assembles with no download, from
 * read-only views of the host's /usr, /bin, /lib*, /sbin, a minimal generated /etc, and
 * fresh /tmp, /root, /proc, /dev. It is what `brig run` uses before any image is pulled.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno } from '../errors/index.js';
import type { Mount } from '../runtime/spec/types.js';

export const HOST_IMAGE = 'host';

/** Host directories shared read-only (each is a bind mount, or a symlink where the host has one). */
const SHARED = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

const ETC: Record<string, string> = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  group: 'root:x:0:\nnogroup:x:65534:\n',
  hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  'resolv.conf': '',
  'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n',
  hostname: 'brig\n',
};

export interface HostImage {
  rootfs: string;
  mounts: Mount[];
}

type Kind = 'dir' | 'symlink' | 'missing';

async function kindOf(p: string): Promise<Kind> {
  try {
    const st = await lstat(p);
    return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'missing';
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return 'missing';
    throw e;
  }
}

/** Ensures the rootfs exists under `dir` (built once, atomically) and returns it with its mounts. */
export async function ensureHostImage(dir: string, hostRoot = '/'): Promise<HostImage> {
  const rootfs = path.join(dir, 'rootfs');
  const kinds = await Promise.all(
    SHARED.map(async (n) => [n, await kindOf(path.join(hostRoot, n))] as const),
  );
  const mounts: Mount[] = kinds
    .filter(([, k]) => k === 'dir')
    .map(([n]) => ({
      destination: `/${n}`,
      type: 'bind',
      source: path.join(hostRoot, n),
      options: ['rbind', 'ro', 'rro', 'nosuid', 'nodev'],
    }));
  if ((await kindOf(rootfs)) === 'dir') return { rootfs, mounts };

  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.rootfs-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp, { mode: 0o755 });
    for (const [n, k] of kinds) {
      if (k === 'dir') await mkdir(path.join(tmp, n));
      if (k === 'symlink') await symlink(await readlink(path.join(hostRoot, n)), path.join(tmp, n));
    }
    for (const d of ['proc', 'dev', 'sys', 'tmp', 'root', 'etc', 'run']) await mkdir(path.join(tmp, d));
    for (const [f, text] of Object.entries(ETC))
      await writeFile(path.join(tmp, 'etc', f), text, { mode: 0o644 });
    try {
      await rename(tmp, rootfs);
    } catch (e) {
      // Another brig built it meanwhile: theirs is as good as ours.
      if (!hasErrno(e, 'ENOTEMPTY') && !hasErrno(e, 'EEXIST')) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { rootfs, mounts };
}
