/**
 * v1 freezer: freezer.state takes FROZEN / THAWED and reads FREEZING while the kernel
 * works through the tasks. The manager's freeze() loop (v1/manager.ts) waits for FROZEN.
 */
import type { Controller } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { FreezerState } from '../manager.js';

export const freezer: Controller = {
  name: 'freezer',
  wanted: () => false,
  async set() {},
};

export async function writeFreezerState(dir: ControllerDir, state: 'FROZEN' | 'THAWED'): Promise<void> {
  await dir.write('freezer.state', state);
}

export async function readFreezerState(dir: ControllerDir): Promise<FreezerState> {
  const s = (await dir.read('freezer.state')).trim();
  return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
}
