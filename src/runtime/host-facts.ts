/**
 * Gathers the HostFacts the plan compiler needs (the only I/O around compilation).
 *
 * Synchronous on purpose: these are a dozen tiny /proc reads and stats on the start-up
 * path of a short-lived command; going through libuv's thread pool would start its threads
 * and cost more than the reads themselves.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { NS_PROC_NAME } from './linux/constants.js';
import { DEFAULT_DEVICES } from './plan/compile.js';
import type { CgroupLayout, HostFacts } from './plan/facts.js';
import type { Spec } from './spec/types.js';
import { readTextSync } from '../util/read-text.js';

function readText(p: string): string | undefined {
  try {
    return readTextSync(p);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

function kindOf(p: string): 'dir' | 'file' | 'missing' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return 'missing';
    throw e;
  }
}

/** Mount points from /proc/self/mountinfo (field 5), unescaped. */
export function parseMountPoints(mountinfo: string): { point: string; fstype: string }[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const point = (pre ?? '').split(' ')[4] ?? '';
      return {
        point: point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
        fstype: (post ?? '').split(' ')[0] ?? '',
      };
    });
}

export function detectCgroupLayout(mounts: { point: string; fstype: string }[]): CgroupLayout {
  const v2 = mounts.some((m) => m.fstype === 'cgroup2' && m.point === '/sys/fs/cgroup');
  if (v2) return 'unified';
  const v1 = mounts.some((m) => m.fstype === 'cgroup');
  const hybrid = mounts.some((m) => m.fstype === 'cgroup2');
  if (v1 && hybrid) return 'hybrid';
  if (v1) return 'legacy';
  return hybrid ? 'unified' : 'none';
}

export function parseProcCgroup(text: string): { controllers: string; path: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, controllers = '', ...rest] = l.split(':');
      return { controllers, path: rest.join(':') };
    });
}

const RLIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

export function parseLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n').slice(1)) {
    const name = Object.keys(RLIMIT_NAMES).find((n) => line.startsWith(n));
    if (!name) continue;
    const hard = line.slice(26).trim().split(/\s+/)[1];
    out[RLIMIT_NAMES[name]!] = hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
  }
  return out;
}

/** Whether two paths name one inode (a namespace file and /proc/self/ns/*); false if either is missing. */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR') || hasErrno(e, 'EACCES')) return false;
    throw e;
  }
}

export async function gatherFacts(spec: Spec, bundle: string): Promise<HostFacts> {
  const rootPath = path.resolve(bundle, spec.root!.path);
  let rootfs: string;
  try {
    rootfs = realpathSync(rootPath);
    if (!lstatSync(rootfs).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) {
      throw new BrigError('BUNDLE_NOT_FOUND', `root.path: ${rootPath} is not a directory`, {
        field: 'root.path',
        path: rootPath,
      });
    }
    throw e;
  }
  const mountinfo = readText('/proc/self/mountinfo');
  const capLast = readText('/proc/sys/kernel/cap_last_cap');
  const status = readText('/proc/self/status');
  const limits = readText('/proc/self/limits');
  const oom = readText('/proc/self/oom_score_adj');
  const procCgroup = readText('/proc/self/cgroup');
  const kcore = kindOf('/proc/kcore');
  const mounts = parseMountPoints(mountinfo ?? '');
  const rootfsParentMount =
    mounts
      .map((m) => m.point)
      .filter((p) => rootfs === p || rootfs.startsWith(p === '/' ? '/' : `${p}/`))
      .sort((a, b) => b.length - a.length)[0] ?? '/';
  const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(status ?? '')?.[1] ?? '0'}`);
  const sourcePaths = new Set<string>();
  for (const m of spec.mounts ?? []) {
    if (m.source && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'))) {
      sourcePaths.add(path.resolve(bundle, m.source));
    }
  }
  for (const d of [...DEFAULT_DEVICES, ...(spec.linux?.devices ?? [])]) sourcePaths.add(d.path);
  const sources: HostFacts['sources'] = {};
  for (const p of sourcePaths) sources[p] = kindOf(p);
  const layout = detectCgroupLayout(mounts);
  const callers = (spec.linux?.namespaces ?? [])
    .filter((n) => n.path !== undefined && sameFile(n.path, `/proc/self/ns/${NS_PROC_NAME[n.type]}`))
    .map((n) => n.type);
  return {
    bundle,
    rootfs,
    rootfsParentMount,
    arch: arch() === 'arm64' ? 'aarch64' : 'x86_64',
    capLastCap: Number((capLast ?? '40').trim()),
    hasCapSysResource: (capEff & (1n << 24n)) !== 0n,
    hardRlimits: parseLimits(limits ?? ''),
    oomScoreAdj: Number((oom ?? '0').trim()),
    sources,
    hasKcore: kcore !== 'missing',
    ...(callers.length ? { callersNamespaces: callers } : {}),
    cgroupLayout: layout,
    cgroups: parseProcCgroup(procCgroup ?? ''),
    cgroupV1Mounts: mounts
      .filter((m) => m.fstype === 'cgroup' && path.dirname(m.point) === '/sys/fs/cgroup')
      .map((m) => path.basename(m.point)),
  };
}
