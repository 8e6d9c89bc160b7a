/** v2 hugetlb: hugetlb.<size>.max (+ .rsvd.max), "max" for unlimited. */
import type { Controller } from '../controller.js';
import { writeHugetlb } from '../v1/hugetlb.js';

export const hugetlb: Controller = {
  name: 'hugetlb',
  wanted: (r) => (r.hugepageLimits?.length ?? 0) > 0,
  set: (dir, r) => writeHugetlb(dir, r.hugepageLimits ?? [], 'max'),
  async stats(dir, out) {
    for (const file of await dir.list(/^hugetlb\.[^.]+\.current$/)) {
      const size = file.split('.')[1] ?? '';
      const [usage, events] = await Promise.all([
        dir.readNumber(file),
        dir.readKeyed(`hugetlb.${size}.events`),
      ]);
      out.hugetlb[size] = { failcnt: events.max ?? 0 };
      if (usage) out.hugetlb[size].usage = usage;
    }
  },
};
