/**
 * Mounting a container's rootfs from the snapshotter's mount descriptions (containerd's
 * model: the engine mounts the rootfs, the runtime gets a directory). mount(8) does it:
 * Node cannot call mount(2), and the runtime's helper only works inside a container plan.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BrigError } from '../errors/index.js';
import type { Mount } from '../image/index.js';

const run = promisify(execFile);

export async function mountRootfs(mounts: Mount[], target: string): Promise<void> {
  if (mounts.length !== 1) throw new BrigError('INTERNAL', `expected one rootfs mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const args = m.type === 'bind' ? ['--bind', ...optionArgs(m.options.filter((o) => o !== 'bind' && o !== 'rbind')), m.source, target] : ['-t', m.type, ...optionArgs(m.options), m.source, target];
  try {
    await run('mount', args);
  } catch (e) {
    throw new BrigError('SYSTEM', `mounting the container rootfs on ${target} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, {
      path: target,
      cause: e,
    });
  }
}

function optionArgs(options: string[]): string[] {
  return options.length ? ['-o', options.join(',')] : [];
}

export async function unmountRootfs(target: string): Promise<void> {
  try {
    await run('umount', [target]);
  } catch (e) {
    if (!/not mounted|no mount point/.test((e as { stderr?: string }).stderr ?? '')) throw e;
  }
}
