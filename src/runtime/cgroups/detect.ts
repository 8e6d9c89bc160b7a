/**
 * What cgroup layout the host has, read once from /proc/self/mountinfo, /proc/cgroups and
 * /proc/self/cgroup. `brig-runtime features` and `--debug` print the result.
 *
 *   unified  cgroup2 only (mounted at /sys/fs/cgroup on current distributions)
 *   hybrid   v1 controller hierarchies plus a cgroup2 mount (systemd's /sys/fs/cgroup/unified)
 *   legacy   v1 hierarchies only
 *   none     no cgroup filesystem mounted (some sandboxes) — only the null manager works
 *
 * `root` is the filesystem root the /proc and /sys paths are read under: "/" on a host, a
 * temporary directory in unit tests. Mount points in the result include that prefix, so they
 * can be used as they are.
 */

import { join } from 'node:path';
import { hasErrno } from '../../errors/index.js';
import { readTextSync } from '../../util/read-text.js';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

/** The controllers brig's v1 manager knows how to place a process in. */
export const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
] as const;

export interface V1Mount {
  /** Absolute, including `root`. */
  mountPoint: string;
  /** The mount's root inside its hierarchy (field 4 of mountinfo); "/" unless bind-mounted or namespaced. */
  hierarchyRoot: string;
  /** All controllers co-mounted on this hierarchy, e.g. ["cpu", "cpuacct"]. */
  controllers: string[];
}

export interface UnifiedMount {
  mountPoint: string;
  hierarchyRoot: string;
  /** Contents of the root cgroup.controllers: controllers the v2 hierarchy owns. */
  controllers: string[];
}

export interface CgroupHost {
  layout: CgroupLayout;
  /** Per v1 controller, where its hierarchy is mounted. */
  v1: Record<string, V1Mount>;
  unified?: UnifiedMount;
  /** /proc/cgroups: every controller the kernel was built with, and whether it is enabled. */
  kernel: Record<string, { hierarchy: number; enabled: boolean }>;
  /** This process's own cgroup per v1 controller, and in the unified hierarchy ("0::"). */
  own: { v1: Record<string, string>; unified?: string };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Synchronous: a few small proc files, cheaper read inline than through the thread pool. */
function readOptional(path: string): string | undefined {
  try {
    return readTextSync(path);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

export function parseMountinfo(
  text: string,
  root: string,
): { v1: Record<string, V1Mount>; unified?: Omit<UnifiedMount, 'controllers'> } {
  const v1: Record<string, V1Mount> = {};
  let unified: Omit<UnifiedMount, 'controllers'> | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const hierarchyRoot = unescapeMount(left[3] ?? '/');
    const mountPoint = join(root, unescapeMount(left[4] ?? ''));
    if (fstype === 'cgroup2') {
      // The first cgroup2 mount wins; later ones are bind mounts of the same hierarchy.
      unified ??= { mountPoint, hierarchyRoot };
    } else if (fstype === 'cgroup') {
      const opts = superOpts.split(',');
      const controllers = opts.filter((o) => (V1_CONTROLLERS as readonly string[]).includes(o));
      for (const c of controllers) v1[c] ??= { mountPoint, hierarchyRoot, controllers };
    }
  }
  return unified === undefined ? { v1 } : { v1, unified };
}

export function parseProcCgroups(text: string): CgroupHost['kernel'] {
  const out: CgroupHost['kernel'] = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name, hierarchy, , enabled] = line.trim().split(/\s+/);
    if (name) out[name] = { hierarchy: Number(hierarchy), enabled: enabled === '1' };
  }
  return out;
}

export function parseProcSelfCgroup(text: string): CgroupHost['own'] {
  const own: CgroupHost['own'] = { v1: {} };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, list = '', path = '/'] = m;
    if (id === '0' && list === '') own.unified = path;
    else for (const c of list.split(',')) if (c) own.v1[c] = path;
  }
  return own;
}

export async function detectCgroups(opts: { root?: string } = {}): Promise<CgroupHost> {
  const root = opts.root ?? '/';
  const mountinfo = readOptional(join(root, 'proc/self/mountinfo'));
  const procCgroups = readOptional(join(root, 'proc/cgroups'));
  const self = readOptional(join(root, 'proc/self/cgroup'));
  const mounts = parseMountinfo(mountinfo ?? '', root);
  let unified: UnifiedMount | undefined;
  if (mounts.unified) {
    const text = readOptional(join(mounts.unified.mountPoint, 'cgroup.controllers'));
    unified = { ...mounts.unified, controllers: (text ?? '').split(/\s+/).filter(Boolean) };
  }
  const hasV1 = Object.keys(mounts.v1).length > 0;
  const layout: CgroupLayout = hasV1 ? (unified ? 'hybrid' : 'legacy') : unified ? 'unified' : 'none';
  const host: CgroupHost = {
    layout,
    v1: mounts.v1,
    kernel: parseProcCgroups(procCgroups ?? ''),
    own: parseProcSelfCgroup(self ?? ''),
  };
  if (unified) host.unified = unified;
  return host;
}

/** One line for `brig-runtime features` / `--debug`: "hybrid (v1: cpu,memory,...; v2: hugetlb)". */
export function describeCgroups(host: CgroupHost): string {
  const v1 = Object.keys(host.v1).sort().join(',');
  const v2 = host.unified?.controllers.join(',') ?? '';
  const parts = [];
  if (v1) parts.push(`v1: ${v1}`);
  if (host.unified) parts.push(`v2: ${v2 || '(no controllers)'} at ${host.unified.mountPoint}`);
  return parts.length ? `${host.layout} (${parts.join('; ')})` : host.layout;
}
