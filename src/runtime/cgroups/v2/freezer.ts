/**
 * v2 freezer: cgroup.freeze takes 1/0; cgroup.events says "frozen 1" once every task has
 * stopped. Part of the core interface (kernel 5.2+), not a controller to enable.
 */
import type { Controller } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { FreezerState } from '../manager.js';

export const freezer: Controller = {
  name: 'freezer',
  wanted: () => false,
  async set() {},
};

export async function writeFreeze(dir: ControllerDir, frozen: boolean): Promise<void> {
  await dir.write('cgroup.freeze', frozen ? '1' : '0');
}

export async function readFreezerState(dir: ControllerDir): Promise<FreezerState> {
  const [want, events] = await Promise.all([
    dir.readOptional('cgroup.freeze'),
    dir.readKeyed('cgroup.events'),
  ]);
  if (events.frozen === 1) return 'frozen';
  return want?.trim() === '1' ? 'freezing' : 'thawed';
}
