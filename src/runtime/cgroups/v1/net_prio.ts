/** v1 net_prio: per-interface priority of outgoing packets, one "ifname prio" line per write. */
import { BrigError } from '../../../errors/index.js';
import { type Controller, checkInt } from '../controller.js';

export const netPrio: Controller = {
  name: 'net_prio',
  wanted: (r) => (r.network?.priorities?.length ?? 0) > 0,
  async set(dir, r) {
    for (const [i, p] of (r.network?.priorities ?? []).entries()) {
      if (!/^[^\s/]{1,15}$/.test(p.name)) {
        throw new BrigError(
          'CGROUP_INVALID',
          `linux.resources.network.priorities[${i}].name: ${JSON.stringify(p.name)} is not an interface name`,
          {
            field: `linux.resources.network.priorities[${i}].name`,
          },
        );
      }
      await dir.write(
        'net_prio.ifpriomap',
        `${p.name} ${checkInt(p.priority, `network.priorities[${i}].priority`, { min: 0, max: 0xffffffff })}`,
      );
    }
  },
};
