/**
 * /dev/shm for `--ipc shareable` and `--ipc container:NAME`, as dockerd does it.
 *
 * A shared IPC namespace shares System V IPC and POSIX message queues, but POSIX shared
 * memory (shm_open) lives in files under /dev/shm, a mount. A mount inside one container's
 * mount namespace cannot be bound into another's (open_tree and MS_BIND refuse a mount of
 * another namespace with EINVAL), so a container that is to share its /dev/shm has it as a
 * tmpfs mounted on the host, in its own directory (`<container dir>/shm`), bound into it and
 * into every container that joins its IPC namespace. docker keeps the same split: a
 * "shareable" container's shm is a host mount (its ShmPath), a "private" one's is inside the
 * container and cannot be joined ("non-shareable IPC"), and `--ipc host` shares the host's
 * /dev/shm.
 *
 * The tmpfs is made fresh at each start by the engine (what was there from the last run is
 * dropped, as docker drops it when the container stops) and unmounted when the container is
 * removed. A restart by the monitor's policy keeps it.
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import type { Mount } from '../../runtime/spec/types.js';
import type { HostConfig } from './config.js';

/** The host directory a shareable container's /dev/shm is mounted on. */
export function shmDir(containerDir: string): string {
  return path.join(containerDir, 'shm');
}

/** docker's default /dev/shm: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export const SHM_OPTIONS = ['nosuid', 'noexec', 'nodev'] as const;

/** The spec's /dev/shm for a container whose own shm is the host tmpfs at `dir`. */
export function boundShm(dir: string): Mount {
  return { destination: '/dev/shm', type: 'bind', source: dir, options: ['rbind', ...SHM_OPTIONS] };
}

/** What the brig-mount tool is given to make a shareable container's tmpfs: docker's size and mode. */
export function shmMountArgs(dir: string, size: number): string[] {
  return ['tmpfs', dir, 's:source=shm', `s:size=${size}`, 's:mode=1777', ...SHM_OPTIONS.map((o) => `a:${o}`)];
}

/** The donor of an IPC namespace, as the joiner's start sees it. */
export interface IpcDonor {
  id: string;
  ipcMode: string | undefined;
  dir: string;
}

/**
 * The joiner's /dev/shm: the donor's host tmpfs, or the host's own when the donor has the
 * host's IPC namespace. Any other donor (private, the default) is refused in docker's words.
 */
export function joinedShm(donor: IpcDonor): Mount {
  if (donor.ipcMode === 'shareable') return boundShm(shmDir(donor.dir));
  if (donor.ipcMode === 'host') return boundShm('/dev/shm');
  throw new BrigError('INVALID_ARGUMENT', `container ${donor.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`, {
    field: 'HostConfig.IpcMode',
    hint: 'create the container whose IPC namespace is joined with --ipc shareable',
  });
}

/** The spec's mounts with /dev/shm replaced by `shm` (or added, when it had none). */
export function withShm(mounts: Mount[], shm: Mount): Mount[] {
  const i = mounts.findIndex((m) => m.destination === '/dev/shm');
  if (i < 0) return [...mounts, shm];
  return mounts.map((m, k) => (k === i ? shm : m));
}

export function isShareable(h: HostConfig): boolean {
  return h.IpcMode === 'shareable';
}
