/**
 * v2 io. Throttles go to io.max ("maj:min rbps=N"). Weights: under the BFQ scheduler
 * io.bfq.weight takes the spec's 10..1000 weight and per-device weights; otherwise
 * io.weight (1..10000, the cgroup-wide "io cost" weight) takes the converted value and
 * per-device weights cannot be applied — an error here, where runc skips them silently.
 * v2 has no leaf weight.
 */
import { BrigError } from '../../../errors/index.js';
import { type Controller, checkInt, isSet } from '../controller.js';
import type { BlkioEntry } from '../stats.js';
import { blockIOWanted, dev, THROTTLES } from '../v1/blkio.js';

/** runc's ConvertBlkIOToIOWeightValue: 10..1000 onto 1..10000. */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export const io: Controller = {
  name: 'io',
  wanted: (r) => blockIOWanted(r.blockIO),
  async set(dir, r) {
    const b = r.blockIO;
    if (!b) return;
    if (isSet(b.leafWeight) && b.leafWeight !== 0) {
      throw new BrigError(
        'CGROUP_UNSUPPORTED',
        `io: linux.resources.blockIO.leafWeight cannot be applied on cgroup v2 (${dir.dir}): v2 has no leaf weight`,
        {
          field: 'linux.resources.blockIO.leafWeight',
          hint: 'remove blockIO.leafWeight',
        },
      );
    }
    const deviceWeights = (b.weightDevice ?? []).filter((wd) => isSet(wd.weight) && wd.weight !== 0);
    const hasWeight = isSet(b.weight) && b.weight !== 0;
    const bfq = (hasWeight || deviceWeights.length > 0) && (await dir.exists('io.bfq.weight'));
    if (hasWeight) {
      const w = checkInt(b.weight as number, 'blockIO.weight', { min: 10, max: 1000 });
      if (bfq) await dir.write('io.bfq.weight', w);
      else await dir.write('io.weight', blkioToIoWeight(w));
    }
    for (const [i, wd] of (b.weightDevice ?? []).entries()) {
      const field = `blockIO.weightDevice[${i}]`;
      if (isSet(wd.leafWeight) && wd.leafWeight !== 0) {
        throw new BrigError(
          'CGROUP_UNSUPPORTED',
          `io: linux.resources.${field}.leafWeight cannot be applied on cgroup v2: v2 has no leaf weight`,
          {
            field: `linux.resources.${field}.leafWeight`,
          },
        );
      }
      if (!isSet(wd.weight) || wd.weight === 0) continue;
      const line = `${dev(wd, field)} ${checkInt(wd.weight, `${field}.weight`, { min: 1, max: 1000 })}`;
      if (!bfq) {
        throw new BrigError(
          'CGROUP_UNSUPPORTED',
          `io: cannot write ${JSON.stringify(line)} to ${dir.path('io.bfq.weight')}: per-device weights need the BFQ I/O scheduler`,
          {
            field: `linux.resources.${field}`,
            hint: 'echo bfq > /sys/block/<dev>/queue/scheduler, or drop weightDevice',
          },
        );
      }
      await dir.write('io.bfq.weight', line);
    }
    for (const [key, , name] of THROTTLES) {
      for (const [i, td] of (b[key] ?? []).entries()) {
        const field = `blockIO.${key}[${i}]`;
        await dir.write(
          'io.max',
          `${dev(td, field)} ${name}=${checkInt(td.rate, `${field}.rate`, { min: 0 })}`,
        );
      }
    }
  },
  async stats(dir, out) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of ((await dir.readOptional('io.stat')) ?? '').split('\n')) {
      const [devno, ...kv] = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(devno ?? '');
      if (!m) continue;
      const major = Number(m[1]);
      const minor = Number(m[2]);
      for (const pair of kv) {
        const [k, v] = pair.split('=');
        const value = Number(v);
        if (k === 'rbytes') bytes.push({ major, minor, op: 'Read', value });
        if (k === 'wbytes') bytes.push({ major, minor, op: 'Write', value });
        if (k === 'rios') ios.push({ major, minor, op: 'Read', value });
        if (k === 'wios') ios.push({ major, minor, op: 'Write', value });
      }
    }
    if (bytes.length) out.blkio.ioServiceBytesRecursive = bytes;
    if (ios.length) out.blkio.ioServicedRecursive = ios;
  },
};
