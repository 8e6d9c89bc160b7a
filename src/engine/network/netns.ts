/**
 * A container's network namespace as a file (`ip netns add` style): a new namespace
 * bind-mounted (nsfs) on <dir>/<id>, so it outlives every process in it. The container's
 * config.json names the file (linux.namespaces {type: network, path}) and brig-runtime joins
 * it on every run, restarts included; the backend wires it before the first. brig-mount
 * makes it (Node cannot unshare: it is multi-threaded; util-linux's unshare when brig-mount is
 * not built, three processes instead of one) and its umount2 undoes it.
 */
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { execFileAsync } from '../../util/builtins.js';
import { mountTool, unmountRootfs } from '../rootfs-mount.js';


export function netnsPath(dir: string, id: string): string {
  return path.join(dir, id);
}

/** Whether the file holds a namespace (an nsfs mount), by /proc/self/mountinfo. */
export async function netnsMounted(file: string): Promise<boolean> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => {
    const f = l.split(' ');
    return f[4] === file && l.includes(' - nsfs ');
  });
}

export async function createNetns(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, '', { flag: 'a', mode: 0o600 });
  try {
    const tool = mountTool();
    await (tool ? execFileAsync(tool, ['-n', file]) : execFileAsync('unshare', [`--net=${file}`, 'true']));
  } catch (e) {
    await fs.rm(file, { force: true });
    throw new BrigError('SYSTEM', `cannot make a network namespace at ${file}: ${(e as Error).message}`, { path: file, cause: e });
  }
}

/** Unmounts and removes the file; a file already gone is fine. */
export async function removeNetns(file: string): Promise<void> {
  // Gone (a backend's teardown released it, or it was never made): no mount table to read.
  if (!existsSync(file)) return;
  // Mounted twice (two brigs raced to make it) comes off one at a time; a mount that stays is an error, not a loop.
  for (let i = 0; await netnsMounted(file); i++) {
    if (i === 8) throw new BrigError('SYSTEM', `cannot unmount the network namespace file ${file}`, { path: file });
    await unmountRootfs(file);
  }
  await fs.rm(file).catch((e: unknown) => {
    if (!hasErrno(e, 'ENOENT')) throw e;
  });
}

export async function listNetns(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch((e: unknown) => {
    if (hasErrno(e, 'ENOENT')) return [];
    throw e;
  });
}
