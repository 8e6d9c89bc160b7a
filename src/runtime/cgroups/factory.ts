/**
 * Choosing a manager. The runtime calls `detectCgroups()` once, then:
 *
 *   create:          const m = createCgroupManager(host, { id, cgroupsPath, warn, attachDevices });
 *                    await m.apply(initPid); await m.set(spec.linux.resources);
 *                    state.cgroup = m.state();
 *   later verbs:     const m = openCgroupManager(state.cgroup, { warn, attachDevices });
 *
 * unified → V2Manager; hybrid and legacy → V1Manager (hybrid also gets the unified
 * directory, for controllers only v2 has there); none or `disabled` → NullManager.
 */
import { join } from 'node:path';
import { BrigError } from '../../errors/index.js';
import type { CgroupHost } from './detect.js';
import type { CgroupManager, CgroupManagerOptions, CgroupState } from './manager.js';
import { NullManager } from './null.js';
import { checkCgroupsPath, pathInHierarchy } from './path.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export interface CreateCgroupOptions extends CgroupManagerOptions {
  /** Container id, for the default path /brig/<id>. */
  id: string;
  /** linux.cgroupsPath from config.json. */
  cgroupsPath?: string | undefined;
  /** Force the null manager (rootless without delegation, --cgroup-manager=disabled). */
  disabled?: boolean;
}

/** Directory of hierarchy path `p` under a mount whose root is `hierarchyRoot` (not "/" inside some containers). */
function dirIn(mountPoint: string, hierarchyRoot: string, p: string): string {
  if (hierarchyRoot !== '/' && (p === hierarchyRoot || p.startsWith(`${hierarchyRoot}/`))) {
    return join(mountPoint, p.slice(hierarchyRoot.length));
  }
  return join(mountPoint, p);
}

function withDefaults(opts: CgroupManagerOptions): CgroupManagerOptions {
  // The one process.* use of this layer: killing leftovers in destroy(). Tests pass their own.
  return { kill: (pid, sig) => process.kill(pid, sig), ...opts };
}

export function createCgroupManager(host: CgroupHost, opts: CreateCgroupOptions): CgroupManager {
  const checked = checkCgroupsPath(opts.cgroupsPath, opts.id);
  if (opts.disabled || host.layout === 'none') {
    return new NullManager(
      checked,
      opts.disabled ? undefined : 'no cgroup filesystem is mounted on this host',
    );
  }
  const o = withDefaults(opts);
  if (host.layout === 'unified') {
    const u = host.unified!;
    const dir = dirIn(u.mountPoint, u.hierarchyRoot, pathInHierarchy(checked, host.own.unified));
    return new V2Manager({ path: checked, dirs: { unified: dir }, created: [] }, o, u.mountPoint);
  }
  const dirs: Record<string, string> = {};
  const mounts: Record<string, string> = {};
  for (const [controller, m] of Object.entries(host.v1)) {
    dirs[controller] = dirIn(
      m.mountPoint,
      m.hierarchyRoot,
      pathInHierarchy(checked, host.own.v1[controller]),
    );
    mounts[controller] = m.mountPoint;
  }
  const u = host.unified;
  if (u && u.controllers.length > 0) {
    dirs.unified = dirIn(u.mountPoint, u.hierarchyRoot, pathInHierarchy(checked, host.own.unified));
    mounts.unified = u.mountPoint;
  }
  return new V1Manager({ path: checked, dirs, created: [] }, o, mounts);
}

/** Rebuild the manager of an existing container from its saved `state()`. */
export function openCgroupManager(state: CgroupState, opts: CgroupManagerOptions = {}): CgroupManager {
  switch (state.version) {
    case 'v1':
      return new V1Manager(state, withDefaults(opts));
    case 'v2':
      return new V2Manager(state, withDefaults(opts));
    case 'none':
      return new NullManager(state.path);
    default:
      throw new BrigError(
        'STATE_CORRUPT',
        `unknown cgroup version ${JSON.stringify((state as { version?: unknown }).version)} in container state`,
      );
  }
}
