/**
 * v1 blkio. Proportional weights exist only under a proportional scheduler: CFQ's
 * blkio.weight (kernels before 5.0) or BFQ's blkio.bfq.weight; with neither (mq-deadline,
 * none) a weight is an error naming the file, not a silent no-op. Throttling works with
 * any scheduler.
 */
import { type Controller, checkInt, isSet } from '../controller.js';
import type { ControllerDir } from '../fs.js';
import type { LinuxBlockIO, LinuxThrottleDevice } from '../resources.js';
import type { BlkioEntry, CgroupStats } from '../stats.js';

export function dev(d: { major: number; minor: number }, field: string): string {
  return `${checkInt(d.major, `${field}.major`, { min: 0 })}:${checkInt(d.minor, `${field}.minor`, { min: 0 })}`;
}

export const THROTTLES = [
  ['throttleReadBpsDevice', 'read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'write_iops_device', 'wiops'],
] as const satisfies readonly (readonly [keyof LinuxBlockIO, string, string])[];

export function blockIOWanted(b: LinuxBlockIO | undefined): boolean {
  if (!b) return false;
  return (
    isSet(b.weight) ||
    isSet(b.leafWeight) ||
    (b.weightDevice?.length ?? 0) > 0 ||
    THROTTLES.some(([k]) => ((b[k] as LinuxThrottleDevice[] | undefined)?.length ?? 0) > 0)
  );
}

/** CFQ names first, as runc: a kernel with both is an old CFQ kernel. */
async function weightFiles(dir: ControllerDir): Promise<{ weight: string; device: string }> {
  return (await dir.exists('blkio.weight'))
    ? { weight: 'blkio.weight', device: 'blkio.weight_device' }
    : { weight: 'blkio.bfq.weight', device: 'blkio.bfq.weight_device' };
}

function parseBlkio(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [devno, op, value] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(devno ?? '');
    if (!m || op === undefined || value === undefined) continue;
    out.push({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(value) });
  }
  return out;
}

export const blkio: Controller = {
  name: 'blkio',
  wanted: (r) => blockIOWanted(r.blockIO),
  async set(dir, r) {
    const b = r.blockIO;
    if (!b) return;
    const needWeights = isSet(b.weight) || (b.weightDevice?.length ?? 0) > 0;
    const files = needWeights ? await weightFiles(dir) : undefined;
    if (files && isSet(b.weight) && b.weight !== 0) {
      await dir.write(files.weight, checkInt(b.weight, 'blockIO.weight', { min: 10, max: 1000 }));
    }
    if (isSet(b.leafWeight) && b.leafWeight !== 0) {
      await dir.write(
        'blkio.leaf_weight',
        checkInt(b.leafWeight, 'blockIO.leafWeight', { min: 10, max: 1000 }),
      );
    }
    for (const [i, wd] of (b.weightDevice ?? []).entries()) {
      const field = `blockIO.weightDevice[${i}]`;
      if (files && isSet(wd.weight) && wd.weight !== 0) {
        await dir.write(
          files.device,
          `${dev(wd, field)} ${checkInt(wd.weight, `${field}.weight`, { min: 10, max: 1000 })}`,
        );
      }
      if (isSet(wd.leafWeight) && wd.leafWeight !== 0) {
        await dir.write(
          'blkio.leaf_weight_device',
          `${dev(wd, field)} ${checkInt(wd.leafWeight, `${field}.leafWeight`, { min: 10, max: 1000 })}`,
        );
      }
    }
    for (const [key, file] of THROTTLES) {
      for (const [i, td] of (b[key] ?? []).entries()) {
        const field = `blockIO.${key}[${i}]`;
        await dir.write(
          `blkio.throttle.${file}`,
          `${dev(td, field)} ${checkInt(td.rate, `${field}.rate`, { min: 0 })}`,
        );
      }
    }
  },
  async stats(dir, out: CgroupStats) {
    // CFQ's files, else BFQ's, else the throttle layer's (always there), as runc reads them.
    for (const prefix of ['blkio', 'blkio.bfq', 'blkio.throttle']) {
      const bytes = await dir.readOptional(`${prefix}.io_service_bytes_recursive`);
      if (bytes === undefined) continue;
      const serviced = await dir.readOptional(`${prefix}.io_serviced_recursive`);
      out.blkio.ioServiceBytesRecursive = parseBlkio(bytes);
      out.blkio.ioServicedRecursive = parseBlkio(serviced);
      return;
    }
  },
};
