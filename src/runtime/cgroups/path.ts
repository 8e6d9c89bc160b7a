/**
 * Where a container's cgroup goes (OCI linux.cgroupsPath):
 *
 * - absolute ("/brig/abc"): that path from the root of each hierarchy;
 * - relative ("brig/abc"): below the cgroup brig itself runs in, per hierarchy (the spec
 *   leaves the base to the runtime; runc uses its own cgroup too);
 * - absent: "/brig/<id>".
 *
 * systemd's "slice:prefix:name" form needs the systemd driver, which brig does not have.
 */
import { posix } from 'node:path';
import { BrigError } from '../../errors/index.js';

export function checkCgroupsPath(cgroupsPath: string | undefined, id: string): string {
  const field = 'linux.cgroupsPath';
  if (cgroupsPath === undefined || cgroupsPath === '') {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
      throw new BrigError(
        'CGROUP_PATH',
        `cannot derive a cgroup path from container id ${JSON.stringify(id)}`,
        { field },
      );
    }
    return `/brig/${id}`;
  }
  if (/^[^/:]*:[^:]*:[^:]*$/.test(cgroupsPath) && !cgroupsPath.startsWith('/')) {
    throw new BrigError(
      'CGROUP_PATH',
      `${field}: ${JSON.stringify(cgroupsPath)} is a systemd "slice:prefix:name" path`,
      {
        field,
        hint: 'brig manages cgroupfs directly; give a path such as /brig/<id>',
      },
    );
  }
  if (cgroupsPath.includes('\0') || cgroupsPath.split('/').some((part) => part === '..' || part === '.')) {
    throw new BrigError(
      'CGROUP_PATH',
      `${field}: ${JSON.stringify(cgroupsPath)} must not contain "." or ".." components`,
      {
        field,
      },
    );
  }
  const normal = posix.normalize(cgroupsPath).replace(/\/+$/, '');
  if (normal === '' || normal === '/') {
    throw new BrigError('CGROUP_PATH', `${field}: the root cgroup cannot hold a container`, { field });
  }
  return normal;
}

/** The path inside one hierarchy, given the cgroup this process runs in there. */
export function pathInHierarchy(checked: string, own: string | undefined): string {
  return checked.startsWith('/') ? checked : posix.join(own ?? '/', checked);
}
