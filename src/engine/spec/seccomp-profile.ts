/**
 * A docker seccomp profile (the JSON `--security-opt seccomp=FILE` names, docker's
 * profiles/seccomp/default.json format) turned into the OCI `linux.seccomp` the runtime
 * compiles, as moby's setupSeccomp does: architectures from `archMap` for the native one
 * (else `architectures`), and each syscall rule kept only when its `includes` hold and its
 * `excludes` do not (capabilities of this container, architecture, minimum kernel).
 * The OCI fields are then checked by the runtime's validator, which names the field.
 */
import { BrigError } from '../../errors/index.js';
import type { LinuxSeccomp, LinuxSyscall, SeccompArch } from '../../runtime/seccomp/types.js';

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerSyscall extends Omit<LinuxSyscall, 'names'> {
  name?: string;
  names?: string[];
  comment?: string;
  includes?: Filter;
  excludes?: Filter;
}

interface DockerProfile {
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: DockerSyscall[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
}

/** Names docker's filters use for the native architecture ("amd64" as Go spells it). */
const GO_ARCH: Record<string, string> = { SCMP_ARCH_X86_64: 'amd64', SCMP_ARCH_AARCH64: 'arm64' };

function kernelAtLeast(kernel: string, min: string): boolean {
  const v = (s: string) => s.split(/[.-]/).slice(0, 2).map(Number);
  const [a = 0, b = 0] = v(kernel);
  const [x = 0, y = 0] = v(min);
  return a !== x ? a > x : b >= y;
}

function matches(f: Filter | undefined, ctx: { caps: string[]; arch: string; kernel: string }, field: string): boolean {
  if (!f) return true;
  if (f.caps && !f.caps.every((c) => ctx.caps.includes(c))) return false;
  if (f.arches && !f.arches.includes(ctx.arch)) return false;
  if (f.minKernel !== undefined) {
    if (!/^\d+\.\d+/.test(f.minKernel)) throw new BrigError('INVALID_ARGUMENT', `seccomp profile: ${field}.minKernel "${f.minKernel}" is not a kernel version`, { field });
    if (!kernelAtLeast(ctx.kernel, f.minKernel)) return false;
  }
  return true;
}

function excluded(f: Filter | undefined, ctx: { caps: string[]; arch: string; kernel: string }): boolean {
  if (!f) return false;
  if (f.caps?.some((c) => ctx.caps.includes(c))) return true;
  if (f.arches?.includes(ctx.arch)) return true;
  if (f.minKernel !== undefined && kernelAtLeast(ctx.kernel, f.minKernel)) return true;
  return false;
}

/**
 * @param text the profile's JSON
 * @param ctx the container's capabilities (bounding set), the native SCMP_ARCH_*, the kernel release
 */
export function dockerSeccompProfile(text: string, ctx: { caps: string[]; nativeArch: SeccompArch; kernel: string }): LinuxSeccomp {
  let p: DockerProfile;
  try {
    p = JSON.parse(text) as DockerProfile;
  } catch (e) {
    throw new BrigError('INVALID_ARGUMENT', `seccomp profile: not JSON: ${(e as Error).message}`, { field: '--security-opt seccomp' });
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new BrigError('INVALID_ARGUMENT', 'seccomp profile: not a JSON object', { field: '--security-opt seccomp' });
  if (p.architectures?.length && p.archMap?.length) {
    throw new BrigError('INVALID_ARGUMENT', "seccomp profile: use either 'architectures' or 'archMap'", { field: '--security-opt seccomp' });
  }
  const goArch = GO_ARCH[ctx.nativeArch] ?? ctx.nativeArch;
  const filterCtx = { caps: ctx.caps, arch: goArch, kernel: ctx.kernel };
  let arches = p.architectures ?? [];
  for (const m of p.archMap ?? []) if (m.architecture === ctx.nativeArch) arches = [m.architecture, ...(m.subArchitectures ?? [])];
  const syscalls: LinuxSyscall[] = [];
  (p.syscalls ?? []).forEach((s, i) => {
    const field = `syscalls[${i}]`;
    if (s.name !== undefined && s.names !== undefined) {
      throw new BrigError('INVALID_ARGUMENT', `seccomp profile: ${field}: use either 'name' or 'names'`, { field: `--security-opt seccomp ${field}` });
    }
    if (!matches(s.includes, filterCtx, `${field}.includes`) || excluded(s.excludes, filterCtx)) return;
    const names = s.names ?? (s.name !== undefined ? [s.name] : []);
    syscalls.push({
      names,
      action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args?.length ? { args: s.args } : {}),
    });
  });
  return {
    defaultAction: (p.defaultAction ?? '') as LinuxSeccomp['defaultAction'],
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(arches.length ? { architectures: arches as SeccompArch[] } : {}),
    ...(p.flags?.length ? { flags: p.flags as LinuxSeccomp['flags'] } : {}),
    ...(p.listenerPath ? { listenerPath: p.listenerPath } : {}),
    ...(p.listenerMetadata ? { listenerMetadata: p.listenerMetadata } : {}),
    syscalls,
  };
}
