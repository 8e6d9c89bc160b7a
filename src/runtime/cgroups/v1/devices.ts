/**
 * v1 devices: the normalised policy (devices.ts) as writes. "a" to devices.deny or
 * devices.allow sets the default and clears the exception list; each exception is then
 * one line to the opposite file.
 *
 * On a live cgroup (`update`) that reset would leave the container without even /dev/null
 * for a few writes. So when the cgroup already denies by default (devices.list shows its
 * allow-list), brig writes only the difference: denials for access that goes away, then
 * allowances for what is new — the same transition runc computes. An allow-by-default
 * cgroup does not list its denials, so there the reset is the only way.
 */
import type { Controller } from '../controller.js';
import {
  ACC_MKNOD,
  ACC_READ,
  ACC_WRITE,
  type DeviceException,
  type DevicePolicy,
  deviceLine,
  normalizeDeviceRules,
} from '../devices.js';
import type { ControllerDir } from '../fs.js';

const key = (e: DeviceException) => `${e.type} ${e.major}:${e.minor}`;

/** devices.list: "a *:* rwm" when allowing by default, else one allowed exception per line. */
export function parseDevicesList(text: string): DevicePolicy | undefined {
  const exceptions: DeviceException[] = [];
  for (const line of text.split('\n')) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    const [, type, major = '*', minor = '*', acc = ''] = m;
    if (type === 'a') return { defaultAllow: true, exceptions: [] };
    const access =
      (acc.includes('r') ? ACC_READ : 0) |
      (acc.includes('w') ? ACC_WRITE : 0) |
      (acc.includes('m') ? ACC_MKNOD : 0);
    exceptions.push({
      type: type as 'b' | 'c',
      major: major === '*' ? -1 : Number(major),
      minor: minor === '*' ? -1 : Number(minor),
      access,
    });
  }
  return { defaultAllow: false, exceptions };
}

async function reset(dir: ControllerDir, target: DevicePolicy): Promise<void> {
  await dir.write(target.defaultAllow ? 'devices.allow' : 'devices.deny', 'a');
  const file = target.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of target.exceptions) await dir.write(file, deviceLine(e));
}

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => r.devices !== undefined && r.devices.length > 0,
  async set(dir, r) {
    if (!r.devices || r.devices.length === 0) return;
    const target = normalizeDeviceRules(r.devices);
    const list = await dir.readOptional('devices.list');
    const current = list === undefined ? undefined : parseDevicesList(list);
    if (target.defaultAllow || !current || current.defaultAllow) {
      await reset(dir, target);
      return;
    }
    // Both deny by default: take away what goes, then add what comes.
    const want = new Map(target.exceptions.map((e) => [key(e), e]));
    for (const e of current.exceptions) {
      const gone = e.access & ~(want.get(key(e))?.access ?? 0);
      if (gone) await dir.write('devices.deny', deviceLine({ ...e, access: gone }));
    }
    const have = new Map(current.exceptions.map((e) => [key(e), e.access]));
    for (const e of target.exceptions) {
      const added = e.access & ~(have.get(key(e)) ?? 0);
      if (added) await dir.write('devices.allow', deviceLine({ ...e, access: added }));
    }
  },
};
