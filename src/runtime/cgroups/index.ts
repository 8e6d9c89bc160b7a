/** The cgroup layer's public surface; the runtime imports from here only. */
export { type CgroupHost, type CgroupLayout, describeCgroups, detectCgroups } from './detect.js';
export { DEFAULT_ALLOWED_DEVICES, normalizeDeviceRules } from './devices.js';
export { type CreateCgroupOptions, createCgroupManager, openCgroupManager } from './factory.js';
export type {
  CgroupManager,
  CgroupManagerOptions,
  CgroupRemoval,
  CgroupState,
  CgroupVersion,
  DeviceProgramAttacher,
  FreezerState,
  OomEvent,
} from './manager.js';
export type { LinuxResources } from './resources.js';
export type { CgroupStats } from './stats.js';
export { compileDeviceProgram, type DeviceProgram } from './v2/device-bpf.js';
