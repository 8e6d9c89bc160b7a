/**
 * v1 devices: the normalised policy (devices.ts) as writes. "a" to devices.deny or
 * devices.allow sets the default and clears the exception list; each exception is then
 * one line to the opposite file.
 *
 * On a live cgroup (`update`) this reset opens a window of a few writes in which the
 * exceptions are missing; runc avoids it by diffing against devices.list. brig accepts it
 * for now: device rules rarely change after start.
 */
import type { Controller } from '../controller.js';
import { deviceLine, normalizeDeviceRules } from '../devices.js';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => r.devices !== undefined && r.devices.length > 0,
  async set(dir, r) {
    if (!r.devices || r.devices.length === 0) return;
    const policy = normalizeDeviceRules(r.devices);
    await dir.write(policy.defaultAllow ? 'devices.allow' : 'devices.deny', 'a');
    const file = policy.defaultAllow ? 'devices.deny' : 'devices.allow';
    for (const e of policy.exceptions) await dir.write(file, deviceLine(e));
  },
};
