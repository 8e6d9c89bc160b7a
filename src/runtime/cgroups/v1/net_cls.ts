/** v1 net_cls: tags the container's packets with a class id for tc/iptables. No v2 equivalent. */
import { type Controller, checkInt, isSet } from '../controller.js';

export const netCls: Controller = {
  name: 'net_cls',
  wanted: (r) => isSet(r.network?.classID),
  async set(dir, r) {
    const id = r.network?.classID;
    if (isSet(id))
      await dir.write('net_cls.classid', checkInt(id, 'network.classID', { min: 0, max: 0xffffffff }));
  },
};
