/**
 * Skip predicates, in the spirit of runc's `requires root|cgroups_v2|...`: a test that
 * cannot run here is skipped with the reason printed, never silently passed.
 *
 *   test('mount propagation', { skip: requires('root', 'helper') }, async () => { ... })
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readTextSync } from '../../src/util/read-text.js';

export type Requirement = 'root' | 'helper' | 'runc' | 'busybox' | 'userns' | 'cgroup-v2' | 'cgroup-v1' | 'python3' | 'cc' | 'dockerd-ref' | 'docker-cli';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function which(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

const checks: Record<Requirement, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : 'needs root'),
  helper: () =>
    existsSync(`${repoRoot}native/build/brig-helper`) ? undefined : 'native helper not built (npm run build)',
  runc: () => (which('runc') ? undefined : 'runc not installed (apt-get install runc)'),
  python3: () => (which('python3') ? undefined : 'python3 not installed'),
  cc: () => (which('cc') ? undefined : 'cc not installed (apt-get install gcc)'),
  busybox: () => (existsSync('/bin/busybox') ? undefined : 'busybox-static not installed'),
  userns: () => {
    try {
      const v = readTextSync('/proc/sys/user/max_user_namespaces').trim();
      return v === '0' ? 'user namespaces disabled (user.max_user_namespaces=0)' : undefined;
    } catch {
      return 'user namespaces unavailable';
    }
  },
  'cgroup-v2': () =>
    existsSync('/sys/fs/cgroup/cgroup.controllers') ? undefined : 'needs a cgroup v2 unified hierarchy',
  'cgroup-v1': () => (existsSync('/sys/fs/cgroup/memory/tasks') ? undefined : 'needs cgroup v1 controllers'),
  // The docker CLI alone (a client of brig serve): 28.x at /usr/local/bin here, else Debian's docker.io.
  'docker-cli': () => (which('docker') ? undefined : 'no docker CLI on PATH (apt-get install docker.io, or docker-ce-cli)'),
  // Debian's dockerd 20.10 on its own socket (/work/shared/reference-engines.sh start-dockerd).
  'dockerd-ref': () => (which('docker') && existsSync('/run/docker-ref.sock') ? undefined : 'no reference dockerd (reference-engines.sh start-dockerd)'),
};

/** Returns false when every requirement holds, else the reasons (node:test prints them as the skip reason). */
export function requires(...reqs: Requirement[]): false | string {
  const reasons = reqs.map((r) => checks[r]()).filter((r): r is string => r !== undefined);
  return reasons.length === 0 ? false : reasons.join('; ');
}

export { repoRoot };
