/**
 * A container's mount plans made real, as dockerd does at create: named volumes made when
 * missing (docker's create-on-use), anonymous ones made for `-v /path` and the image's
 * VOLUME entries, an empty volume seeded from the image's content at its mount point
 * (ownership and modes kept, docker's copyExistingContents) unless `nocopy`, `-v` bind
 * sources made when missing (docker's legacy -v rule; `--mount type=bind` refuses a missing
 * one), and the OCI mounts and inspect's MountPoints for them.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { resolveInScope } from '../../image/fs-util.js';
import type { Mount } from '../../runtime/spec/types.js';
import { execFileAsync } from '../../util/builtins.js';
import type { MountPlan } from './mount-spec.js';
import { ANONYMOUS_LABEL, type VolumeStore } from './store.js';

/** docker's types.MountPoint (inspect's Mounts[]). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ResolvedMounts {
  mounts: Mount[];
  points: MountPoint[];
  /** Volumes made for this container (undone if its create fails). */
  created: string[];
  /** Anonymous volumes it has (`-v /path`, image VOLUMEs): what `rm -v` and `--rm` remove. */
  anonymous: string[];
}

/** Copies the image's content at `from` into an empty volume directory, as docker does. */
async function seed(from: string, to: string): Promise<void> {
  const st = await fs.stat(from).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((await fs.readdir(to)).length > 0) return;
  // The volume's root takes the mount point's owner and mode (docker's copyOwnership).
  await fs.chown(to, st.uid, st.gid);
  await fs.chmod(to, st.mode & 0o7777);
  if ((await fs.readdir(from)).length === 0) return;
  await execFileAsync('cp', ['-a', '--no-target-directory', from, to]).catch((e: Error & { stderr?: string }) => {
    throw new BrigError('SYSTEM', `copying the image's ${from} into the volume: ${e.stderr?.trim() || e.message}`, { path: to });
  });
}

export async function resolveMounts(plans: MountPlan[], deps: { volumes: VolumeStore; rootfs: string }): Promise<ResolvedMounts> {
  const out: ResolvedMounts = { mounts: [], points: [], created: [], anonymous: [] };
  try {
    for (const p of plans) {
      if (p.kind === 'tmpfs') {
        out.mounts.push({ destination: p.destination, type: 'tmpfs', source: 'tmpfs', options: p.options });
        out.points.push({ Type: 'tmpfs', Source: '', Destination: p.destination, Mode: '', RW: p.rw, Propagation: '' });
        continue;
      }
      if (p.kind === 'bind') {
        const st = await fs.stat(p.source).catch((e: unknown) => {
          if (hasErrno(e, 'ENOENT')) return undefined;
          throw e;
        });
        if (!st) {
          if (!p.createSource) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "bind": bind source path does not exist: ${p.source}`, { path: p.source });
          await fs.mkdir(p.source, { recursive: true, mode: 0o755 });
        }
        out.mounts.push({ destination: p.destination, type: 'bind', source: p.source, options: [p.recursive ? 'rbind' : 'bind', p.propagation, ...(p.rw ? [] : ['ro'])] });
        out.points.push({ Type: 'bind', Source: p.source, Destination: p.destination, Mode: p.mode, RW: p.rw, Propagation: p.propagation });
        continue;
      }
      const made = await deps.volumes.create({ ...(p.name ? { name: p.name } : {}), anonymous: p.name === undefined, labels: p.labels, options: p.driverOpts, field: p.destination });
      if (made.created) out.created.push(made.volume.Name);
      if (Object.hasOwn(made.volume.Labels ?? {}, ANONYMOUS_LABEL)) out.anonymous.push(made.volume.Name);
      const data = await deps.volumes.mountpoint(made.volume.Name);
      let source = data;
      if (p.subpath) {
        source = path.join(data, p.subpath);
        if (!(await fs.stat(source).catch(() => undefined))?.isDirectory()) {
          throw new BrigError('INVALID_ARGUMENT', `cannot access path ${source}: the volume subpath must exist`, { path: source });
        }
      }
      // Seeded from the image (its path resolved inside the rootfs, never following a link out of it).
      if (p.copy && !p.subpath) await seed(resolveInScope(deps.rootfs, p.destination), data);
      out.mounts.push({ destination: p.destination, type: 'bind', source, options: ['rbind', 'rprivate', ...(p.rw ? [] : ['ro'])] });
      out.points.push({ Type: 'volume', Name: made.volume.Name, Source: source, Destination: p.destination, Driver: 'local', Mode: p.mode, RW: p.rw, Propagation: '' });
    }
    return out;
  } catch (e) {
    for (const v of out.created) await deps.volumes.remove(v).catch(() => {});
    throw e;
  }
}
