/**
 * Host devices for a container: `--device HOST[:CONTAINER][:PERMS]` (a directory adds every
 * device below it, as docker does) and --privileged's "every device of the host" (the walk
 * of /dev runc's HostDevices makes). Each becomes a node in the container's /dev and a
 * devices-cgroup rule allowing it.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import type { LinuxDeviceCgroup } from '../../runtime/cgroups/resources.js';
import type { Device } from '../../runtime/spec/types.js';
import type { DeviceMapping } from '../containers/config.js';

/** The kernel's major/minor split of st_rdev (glibc's gnu_dev_major/minor). */
export function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
export function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

interface Found {
  device: Device;
  rule: LinuxDeviceCgroup;
}

function deviceAt(hostPath: string, containerPath: string, perms: string): Found | undefined {
  const st = statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return {
    device: { type, path: containerPath, major: major(st.rdev), minor: minor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid },
    rule: { allow: true, type, major: major(st.rdev), minor: minor(st.rdev), access: perms },
  };
}

/** --device mappings, resolved on the host now (a missing path names the flag and the path). */
export function mappedDevices(list: readonly DeviceMapping[]): Found[] {
  const out: Found[] = [];
  list.forEach((d, i) => {
    const field = `HostConfig.Devices[${i}]`;
    if (!/^[rwm]{1,3}$/.test(d.CgroupPermissions) || new Set(d.CgroupPermissions).size !== d.CgroupPermissions.length) {
      throw new BrigError('INVALID_ARGUMENT', `invalid device mode: ${d.CgroupPermissions}`, { field, hint: 'any of r, w, m' });
    }
    if (!path.isAbsolute(d.PathInContainer)) throw new BrigError('INVALID_ARGUMENT', `${d.PathInContainer} is not an absolute path`, { field });
    let st;
    try {
      st = statSync(d.PathOnHost);
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) {
        throw new BrigError('INVALID_ARGUMENT', `error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`, { field, path: d.PathOnHost });
      }
      throw e;
    }
    if (st.isDirectory()) {
      // docker: every device below the directory, at the same place below the container path.
      for (const f of walkDevices(d.PathOnHost, [])) {
        const found = deviceAt(f, path.join(d.PathInContainer, path.relative(d.PathOnHost, f)), d.CgroupPermissions);
        if (found) out.push(found);
      }
      return;
    }
    const found = deviceAt(d.PathOnHost, d.PathInContainer, d.CgroupPermissions);
    if (!found) throw new BrigError('INVALID_ARGUMENT', `error gathering device information while adding custom device "${d.PathOnHost}": not a device node`, { field, path: d.PathOnHost });
    out.push(found);
  });
  return out;
}

/** Paths of device nodes below `dir`, skipping what runc's HostDevices skips. */
function walkDevices(dir: string, skip: string[]): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'EACCES') || hasErrno(e, 'ENOTDIR')) return out;
    throw e;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    let st;
    try {
      st = lstatSync(p);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) continue;
      throw e;
    }
    if (st.isDirectory()) {
      if (!skip.includes(p)) out.push(...walkDevices(p, skip));
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      out.push(p);
    }
  }
  return out;
}

const PRIVILEGED_SKIP = ['/dev/pts', '/dev/shm', '/dev/fd', '/dev/mqueue', '/dev/.lxc', '/dev/.lxd-mounts', '/dev/.udev'];

/** --privileged: every device node under the host's /dev, at the same path (console excepted, as runc). */
export function hostDevices(devRoot = '/dev'): Device[] {
  const out: Device[] = [];
  for (const p of walkDevices(devRoot, PRIVILEGED_SKIP.map((s) => path.join(devRoot, path.relative('/dev', s))))) {
    if (p === path.join(devRoot, 'console')) continue;
    const found = deviceAt(p, path.join('/dev', path.relative(devRoot, p)), 'rwm');
    // Only /dev/null-style nodes the kernel names by number: 0:0 is no device.
    if (found && !(found.device.major === 0 && found.device.minor === 0)) out.push(found.device);
  }
  return out;
}
