/**
 * v1 rdma: rdma.max, one "<hca> hca_handle=N hca_object=M" line per device. The v2 file has
 * the same name and format, so v2/rdma.ts reuses this controller.
 */
import { BrigError } from '../../../errors/index.js';
import { type Controller, checkInt, isSet } from '../controller.js';

export const rdma: Controller = {
  name: 'rdma',
  wanted: (r) => r.rdma !== undefined && Object.keys(r.rdma).length > 0,
  async set(dir, r) {
    for (const [device, limits] of Object.entries(r.rdma ?? {})) {
      if (!/^[^\s=]+$/.test(device)) {
        throw new BrigError(
          'CGROUP_INVALID',
          `linux.resources.rdma: ${JSON.stringify(device)} is not an HCA device name`,
          {
            field: 'linux.resources.rdma',
          },
        );
      }
      const parts = [device];
      if (isSet(limits.hcaHandles))
        parts.push(`hca_handle=${checkInt(limits.hcaHandles, `rdma.${device}.hcaHandles`, { min: 0 })}`);
      if (isSet(limits.hcaObjects))
        parts.push(`hca_object=${checkInt(limits.hcaObjects, `rdma.${device}.hcaObjects`, { min: 0 })}`);
      if (parts.length > 1) await dir.write('rdma.max', parts.join(' '));
    }
  },
};
