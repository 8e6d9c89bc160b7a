/** v2 cpuset: cpuset.cpus / cpuset.mems. Empty means "inherit", so no parent copying as on v1. */
import { type Controller, isSet } from '../controller.js';
import { parseList } from '../stats.js';
import { cpuset as v1 } from '../v1/cpuset.js';

export const cpuset: Controller = {
  name: 'cpuset',
  wanted: (r) => isSet(r.cpu?.cpus) || isSet(r.cpu?.mems),
  set: v1.set,
  // The effective lists are what the container really gets on v2.
  async stats(dir, out) {
    const [cpus, mems] = await Promise.all([
      dir.readOptional('cpuset.cpus.effective'),
      dir.readOptional('cpuset.mems.effective'),
    ]);
    if (cpus?.trim()) out.cpuset.cpus = parseList(cpus);
    if (mems?.trim()) out.cpuset.mems = parseList(mems);
  },
};
