/**
 * Device rules, normalised once for both cgroup versions.
 *
 * The OCI list (`linux.resources.devices`) is read in order, later rules overriding earlier
 * ones, starting from "deny everything". That is the v1 devices controller's own model: a
 * default (allow or deny) plus a list of exceptions, where an "a" rule resets the default
 * and clears the list. `normalizeDeviceRules` runs the list through that model (as runc's
 * devices emulator does) and returns the final default and exceptions. v1 writes exactly
 * that; v2 compiles it to eBPF (v2/device-bpf.ts), so both versions mean the same thing.
 *
 * Like runc, a deny that would punch a hole into a wildcard allow (allow `c *:* m`, then
 * deny `c 1:3 m`) is an error: v1 would silently ignore it.
 */
import { BrigError } from '../../errors/index.js';
import type { LinuxDeviceCgroup } from './resources.js';

/** Access bits as the kernel's BPF_DEVCG_ACC_* uses them. */
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;
export const ACC_ALL = ACC_MKNOD | ACC_READ | ACC_WRITE;

/** -1 = any major / minor. */
export interface DeviceException {
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: number;
}

export interface DevicePolicy {
  /** True when the default is allow and the exceptions are denials (a "blacklist"). */
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

interface Parsed {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: number;
}

function parseRule(rule: LinuxDeviceCgroup, i: number): Parsed {
  const field = `linux.resources.devices[${i}]`;
  const bad = (what: string, sub: string) =>
    new BrigError('CGROUP_INVALID', `${field}.${sub}: ${what}`, { field: `${field}.${sub}` });
  if (typeof rule.allow !== 'boolean') throw bad('must be true or false', 'allow');
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c')
    throw bad(`${JSON.stringify(type)} is not "a", "b" or "c"`, 'type');
  const num = (v: number | undefined | null, sub: string): number => {
    if (v === undefined || v === null || v === -1) return -1;
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
      throw bad(`${JSON.stringify(v)} is not a device number`, sub);
    return v;
  };
  const accessText = rule.access ?? 'rwm';
  let access = 0;
  for (const ch of accessText) {
    const bit = ch === 'r' ? ACC_READ : ch === 'w' ? ACC_WRITE : ch === 'm' ? ACC_MKNOD : 0;
    if (bit === 0) throw bad(`${JSON.stringify(accessText)} may only contain r, w and m`, 'access');
    access |= bit;
  }
  if (access === 0) access = ACC_ALL;
  return {
    allow: rule.allow,
    type,
    major: num(rule.major, 'major'),
    minor: num(rule.minor, 'minor'),
    access,
  };
}

const key = (e: { type: string; major: number; minor: number }) => `${e.type} ${e.major}:${e.minor}`;

export function normalizeDeviceRules(rules: readonly LinuxDeviceCgroup[]): DevicePolicy {
  let defaultAllow = false;
  let exceptions = new Map<string, DeviceException>();
  for (const [i, rule] of rules.entries()) {
    const r = parseRule(rule, i);
    if (r.type === 'a') {
      // As in the kernel, "a" is all-or-nothing whatever its numbers and access say.
      defaultAllow = r.allow;
      exceptions = new Map();
      continue;
    }
    const k = key(r);
    if (r.allow !== defaultAllow) {
      // An exception to the default: add the access bits.
      const cur = exceptions.get(k);
      exceptions.set(k, {
        type: r.type,
        major: r.major,
        minor: r.minor,
        access: (cur?.access ?? 0) | r.access,
      });
      continue;
    }
    // Same verdict as the default: take bits away from the exact exception, refusing holes.
    for (const [maj, min] of [
      [-1, r.minor],
      [r.major, -1],
      [-1, -1],
    ] as const) {
      if (maj === r.major && min === r.minor) continue;
      const wild = exceptions.get(key({ type: r.type, major: maj, minor: min }));
      if (wild && (wild.access & r.access) !== 0) {
        throw new BrigError(
          'CGROUP_INVALID',
          `linux.resources.devices[${i}]: "${r.allow ? 'allow' : 'deny'} ${k}" cannot punch a hole in the earlier wildcard rule "${key(wild)}"`,
          {
            field: `linux.resources.devices[${i}]`,
            hint: 'list the specific devices instead of a wildcard, or order the rules so the wildcard comes last',
          },
        );
      }
    }
    const cur = exceptions.get(k);
    if (cur) {
      const left = cur.access & ~r.access;
      if (left === 0) exceptions.delete(k);
      else exceptions.set(k, { ...cur, access: left });
    }
  }
  return { defaultAllow, exceptions: [...exceptions.values()] };
}

export function accessString(access: number): string {
  return (access & ACC_READ ? 'r' : '') + (access & ACC_WRITE ? 'w' : '') + (access & ACC_MKNOD ? 'm' : '');
}

/** The v1 devices.allow / devices.deny line for one exception: "c 1:3 rwm", "*" for any. */
export function deviceLine(e: DeviceException): string {
  const n = (v: number) => (v === -1 ? '*' : String(v));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${accessString(e.access)}`;
}

/**
 * The devices every OCI container gets (spec "Default Devices") plus /dev/pts and
 * /dev/ptmx, as runc's AllowedDevices. The runtime appends these after a leading deny-all
 * when it builds linux.resources.devices; the managers apply the list they are given.
 */
export const DEFAULT_ALLOWED_DEVICES: readonly LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
];
