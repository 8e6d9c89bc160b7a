/** Fixed host facts for compiler tests: this project's kind of machine (hybrid cgroups, no CAP_SYS_RESOURCE). */
import type { HostFacts } from '../../src/runtime/plan/facts.js';

export const FACTS: HostFacts = {
  bundle: '/bundles/b',
  rootfs: '/bundles/b/rootfs',
  rootfsParentMount: '/',
  arch: 'x86_64',
  capLastCap: 40,
  hasCapSysResource: false,
  hardRlimits: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96365, RLIMIT_CORE: Number.POSITIVE_INFINITY },
  oomScoreAdj: 0,
  sources: {
    '/dev/null': 'file',
    '/dev/zero': 'file',
    '/dev/full': 'file',
    '/dev/random': 'file',
    '/dev/urandom': 'file',
    '/dev/tty': 'file',
    '/srv/data': 'dir',
    '/etc/resolv.conf': 'file',
  },
  hasKcore: true,
  cgroupLayout: 'hybrid',
  cgroups: [
    { controllers: 'memory', path: '/process_api/abc' },
    { controllers: 'pids', path: '/' },
    { controllers: 'name=systemd', path: '/' },
    { controllers: '', path: '/' },
  ],
  cgroupV1Mounts: ['memory', 'pids', 'systemd'],
};
