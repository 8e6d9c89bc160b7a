/**
 * v1 hugetlb: hugetlb.<size>.limit_in_bytes, and the reservation limit
 * hugetlb.<size>.rsvd.limit_in_bytes where the kernel has it (5.7+), set to the same value
 * as runc does so reserved-but-unfaulted pages are limited too.
 * On hybrid hosts hugetlb often sits in the unified hierarchy; the v1 manager then uses
 * v2/hugetlb.ts on the unified directory instead.
 */
import { BrigError } from '../../../errors/index.js';
import { type Controller, checkInt } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { LinuxHugepageLimit } from '../resources.js';

export function checkPageSize(l: LinuxHugepageLimit, i: number): string {
  if (!/^\d+[KMG]B$/.test(l.pageSize ?? '')) {
    throw new BrigError(
      'CGROUP_INVALID',
      `linux.resources.hugepageLimits[${i}].pageSize: ${JSON.stringify(l.pageSize)} is not a page size like "2MB" or "1GB"`,
      { field: `linux.resources.hugepageLimits[${i}].pageSize` },
    );
  }
  return l.pageSize;
}

/** Writes limit and, when present, the rsvd limit; a page size the kernel lacks names the file. */
export async function writeHugetlb(
  dir: ControllerDir,
  limits: LinuxHugepageLimit[],
  suffix: string,
): Promise<void> {
  for (const [i, l] of limits.entries()) {
    const size = checkPageSize(l, i);
    const value = checkInt(l.limit, `hugepageLimits[${i}].limit`, { min: -1 });
    const text = value === -1 && suffix === 'max' ? 'max' : String(value);
    const file = `hugetlb.${size}.${suffix}`;
    if (!(await dir.exists(file))) {
      const sizes = (await dir.list(/^hugetlb\.[^.]+\.(limit_in_bytes|max)$/)).map((f) => f.split('.')[1]);
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `hugetlb: cannot write ${JSON.stringify(text)} to ${dir.path(file)}: page size ${size} is not supported here (available: ${sizes.join(', ') || 'none'})`,
        { path: dir.path(file), hint: 'use one of the available page sizes' },
      );
    }
    await dir.write(file, text);
    const rsvd = `hugetlb.${size}.rsvd.${suffix}`;
    if (await dir.exists(rsvd)) await dir.write(rsvd, text);
  }
}

export const hugetlb: Controller = {
  name: 'hugetlb',
  wanted: (r) => (r.hugepageLimits?.length ?? 0) > 0,
  set: (dir, r) => writeHugetlb(dir, r.hugepageLimits ?? [], 'limit_in_bytes'),
  async stats(dir, out) {
    for (const file of await dir.list(/^hugetlb\.[^.]+\.usage_in_bytes$/)) {
      const size = file.split('.')[1] ?? '';
      const [usage, max, failcnt] = await Promise.all([
        dir.readNumber(file),
        dir.readNumber(`hugetlb.${size}.max_usage_in_bytes`),
        dir.readNumber(`hugetlb.${size}.failcnt`),
      ]);
      out.hugetlb[size] = { failcnt: failcnt ?? 0 };
      if (usage) out.hugetlb[size].usage = usage;
      if (max) out.hugetlb[size].max = max;
    }
  },
};
