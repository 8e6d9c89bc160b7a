/**
 * linux.resources.unified: cgroup v2 file → content, written as given after every other
 * controller so it can override them. The key must be a plain file name of this cgroup and
 * its controller (the part before the first dot) must be enabled here.
 */
import { BrigError } from '../../../errors/index.js';
import type { Controller } from '../controller.js';

export const unified: Controller = {
  name: 'unified',
  wanted: (r) => r.unified !== undefined && Object.keys(r.unified).length > 0,
  async set(dir, r) {
    const entries = Object.entries(r.unified ?? {});
    if (entries.length === 0) return;
    const enabled = ((await dir.readOptional('cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean);
    for (const [file, value] of entries) {
      const field = `linux.resources.unified[${JSON.stringify(file)}]`;
      if (!/^[a-z_]+\.[a-z0-9_.]+$/i.test(file) || file.includes('..')) {
        throw new BrigError('CGROUP_INVALID', `${field}: not a cgroup file name`, { field });
      }
      if (typeof value !== 'string') {
        throw new BrigError('CGROUP_INVALID', `${field}: the value must be a string`, { field });
      }
      const controller = file.slice(0, file.indexOf('.'));
      if (controller !== 'cgroup' && !enabled.includes(controller)) {
        throw new BrigError(
          'CGROUP_UNSUPPORTED',
          `${controller}: cannot write ${JSON.stringify(value)} to ${dir.path(file)}: the ${controller} controller is not enabled in this cgroup`,
          { field, path: dir.path(file), hint: `enabled here: ${enabled.join(' ') || 'none'}` },
        );
      }
      await dir.write(file, value);
    }
  },
};
