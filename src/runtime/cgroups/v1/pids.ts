/** v1 pids: pids.max. The file format is the same on v2, so v2/pids.ts reuses `writePidsLimit`. */
import { type Controller, checkInt, isSet, type SetContext } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import { UNLIMITED } from '../fs.js';
import type { LinuxResources } from '../resources.js';
import type { CgroupStats } from '../stats.js';

export async function writePidsLimit(dir: ControllerDir, r: LinuxResources, ctx: SetContext): Promise<void> {
  const limit = r.pids?.limit;
  if (!isSet(limit)) return;
  checkInt(limit, 'pids.limit', { min: -1 });
  if (limit === 0) {
    // runc and crun read 0 as "not set" (the field was once required); do the same, aloud.
    ctx.warn(`pids: linux.resources.pids.limit=0 is read as "not set" (as runc does); use -1 for no limit`);
    return;
  }
  await dir.write('pids.max', limit < 0 ? 'max' : String(limit));
}

export async function readPidsStats(dir: ControllerDir, out: CgroupStats): Promise<void> {
  const [current, max] = await Promise.all([dir.readNumber('pids.current'), dir.readNumber('pids.max')]);
  if (current) out.pids.current = current;
  // runc reports "max" as 0 (no limit) here, unlike memory.
  if (max && max !== UNLIMITED) out.pids.limit = max;
}

export const pids: Controller = {
  name: 'pids',
  wanted: (r) => isSet(r.pids?.limit),
  set: writePidsLimit,
  stats: readPidsStats,
};
