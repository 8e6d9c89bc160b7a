/**
 * v2 devices: compile the rules to an eBPF program (device-bpf.ts) and hand it to the
 * runtime's attacher (the native helper). Without an attacher the rules cannot be enforced,
 * which is an error rather than a container with every device open.
 */
import { BrigError } from '../../../errors/index.js';
import type { Controller } from '../controller.js';
import { normalizeDeviceRules } from '../devices.js';
import { compileDeviceProgram } from './device-bpf.js';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => r.devices !== undefined && r.devices.length > 0,
  async set(dir, r, ctx) {
    if (!r.devices || r.devices.length === 0) return;
    const program = compileDeviceProgram(normalizeDeviceRules(r.devices));
    if (!ctx.attachDevices) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `devices: cannot enforce linux.resources.devices on ${dir.dir}: cgroup v2 needs an eBPF device program and no loader was given`,
        { field: 'linux.resources.devices', path: dir.dir, hint: 'build the native helper (npm run build)' },
      );
    }
    await ctx.attachDevices(dir.dir, program);
  },
};
