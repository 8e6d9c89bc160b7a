/**
 * v1 cpuset. A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until both
 * are filled, so the manager copies the parent's values into every directory it creates
 * (see `initCpuset`) before writing the requested ones.
 */
import { join } from 'node:path';
import { type Controller, isSet } from '../controller.js';
import { ControllerDir } from '../fs.js';
import type { CgroupStats } from '../stats.js';
import { parseList } from '../stats.js';

export const cpuset: Controller = {
  name: 'cpuset',
  wanted: (r) => isSet(r.cpu?.cpus) || isSet(r.cpu?.mems),
  async set(dir, r) {
    if (isSet(r.cpu?.cpus) && r.cpu.cpus !== '') await dir.write('cpuset.cpus', r.cpu.cpus);
    if (isSet(r.cpu?.mems) && r.cpu.mems !== '') await dir.write('cpuset.mems', r.cpu.mems);
  },
  async stats(dir, out: CgroupStats) {
    const [cpus, mems] = await Promise.all([
      dir.readOptional('cpuset.cpus'),
      dir.readOptional('cpuset.mems'),
    ]);
    if (cpus?.trim()) out.cpuset.cpus = parseList(cpus);
    if (mems?.trim()) out.cpuset.mems = parseList(mems);
  },
};

/** Fill an empty, freshly created cpuset directory from its parent. */
export async function initCpuset(dir: ControllerDir): Promise<void> {
  const parent = new ControllerDir('cpuset', join(dir.dir, '..'), dir.fs, dir.onWrite);
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = (await dir.read(file)).trim();
    if (own === '') await dir.write(file, (await parent.read(file)).trim());
  }
}
