/**
 * What a directory tree holds, as docker counts a layer's size (moby pkg/directory.Size):
 * the apparent size of everything but directories (files, symlinks' targets as text,
 * devices and whiteouts count 0), a hard-linked file once; inodes counted too, directories
 * included (containerd's Usage.Inodes).
 *
 * The tree may be a running container's upper dir: it can change while it is walked, and
 * whatever is in it was put there by the container. So nothing is followed: every
 * directory is opened with O_NOFOLLOW | O_DIRECTORY and read through its fd
 * (/proc/self/fd/N), entries are lstat'ed relative to it. A directory swapped for a symlink
 * mid-walk is skipped, never entered, and depth is not limited by PATH_MAX (one fd per
 * level is held while below it). Entries that vanish mid-walk are skipped.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync } from 'node:fs';
import { hasErrno } from '../../errors/index.js';

export interface TreeUsage {
  size: number;
  inodes: number;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Gone, or no longer a directory (ENOTDIR), or now a symlink (ELOOP): skipped. */
const vanished = (e: unknown) => hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR') || hasErrno(e, 'ELOOP');

export function treeUsage(root: string): TreeUsage {
  let size = 0;
  let inodes = 0;
  const seen = new Set<string>();
  let top: number;
  try {
    top = openSync(root, DIR_FLAGS);
  } catch (e) {
    if (vanished(e)) return { size, inodes };
    throw e;
  }
  inodes++;
  // Depth first, one open directory per level: [fd, names not yet looked at].
  const stack: { fd: number; names: string[] }[] = [];
  const enter = (fd: number) => {
    let names: string[];
    try {
      names = readdirSync(`/proc/self/fd/${fd}`);
    } catch (e) {
      closeSync(fd);
      if (vanished(e)) return;
      throw e;
    }
    stack.push({ fd, names });
  };
  try {
    enter(top);
    while (stack.length > 0) {
      const level = stack.at(-1)!;
      const name = level.names.pop();
      if (name === undefined) {
        closeSync(level.fd);
        stack.pop();
        continue;
      }
      const p = `/proc/self/fd/${level.fd}/${name}`;
      let st;
      try {
        st = lstatSync(p, { bigint: true });
      } catch (e) {
        if (vanished(e)) continue;
        throw e;
      }
      if (st.isDirectory()) {
        let fd: number;
        try {
          fd = openSync(p, DIR_FLAGS);
        } catch (e) {
          if (vanished(e)) continue;
          throw e;
        }
        inodes++;
        enter(fd);
        continue;
      }
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      inodes++;
      size += Number(st.size);
    }
  } finally {
    for (const l of stack) closeSync(l.fd);
  }
  return { size, inodes };
}
