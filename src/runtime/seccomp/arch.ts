/**
 * The syscall ABIs a seccomp filter can meet on brig's hosts. The kernel tags every
 * syscall with an AUDIT_ARCH_* value (seccomp_data.arch) naming the ABI it came through:
 * an x86_64 process can still enter via `int 0x80` (i386 numbers) or with the x32 bit set,
 * and an aarch64 kernel may run 32-bit arm binaries. A filter that only knew x86_64
 * numbers would read an i386 syscall number as a different x86_64 syscall, which is why
 * every section starts with the arch check.
 */

import { AARCH64_SYSCALLS } from './tables/aarch64.js';
import { ARM_SYSCALLS } from './tables/arm.js';
import { I386_SYSCALLS } from './tables/i386.js';
import { X32_SYSCALLS } from './tables/x32.js';
import { X86_64_SYSCALLS } from './tables/x86_64.js';
import type { NativeArch, SeccompArch } from './types.js';

export type AbiName = 'x86_64' | 'x32' | 'i386' | 'aarch64' | 'arm';

// linux/audit.h: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000)
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;

/** x32 shares AUDIT_ARCH_X86_64 and sets this bit in the syscall number instead. */
export const X32_SYSCALL_BIT = 0x40000000;

/** arm's private syscalls (cacheflush, set_tls, ...) start here, far above the regular table. */
const ARM_PRIVATE_BASE = 0x0f0000;

export interface Abi {
  name: AbiName;
  auditArch: number;
  /** Arguments are 64-bit; on 32-bit ABIs only the low half of seccomp_data.args[i] is compared. */
  wide: boolean;
  /** The syscall numbers this ABI uses: [first, last] inclusive. */
  first: number;
  last: number;
  table: ReadonlyMap<string, number>;
  /** The highest regular number the table knows; unknown numbers above it are newer than brig. */
  highest: number;
}

function abi(name: AbiName, auditArch: number, wide: boolean, table: ReadonlyMap<string, number>): Abi {
  const x32 = name === 'x32';
  const x86_64 = name === 'x86_64';
  return {
    name,
    auditArch,
    wide,
    first: x32 ? X32_SYSCALL_BIT : 0,
    last: x86_64 ? X32_SYSCALL_BIT - 1 : 0xffffffff,
    table,
    highest: Math.max(...[...table.values()].filter((n) => n < ARM_PRIVATE_BASE || x32)),
  };
}

export const ABIS: Readonly<Record<AbiName, Abi>> = {
  x86_64: abi('x86_64', AUDIT_ARCH_X86_64, true, X86_64_SYSCALLS),
  x32: abi('x32', AUDIT_ARCH_X86_64, true, X32_SYSCALLS),
  i386: abi('i386', AUDIT_ARCH_I386, false, I386_SYSCALLS),
  aarch64: abi('aarch64', AUDIT_ARCH_AARCH64, true, AARCH64_SYSCALLS),
  arm: abi('arm', AUDIT_ARCH_ARM, false, ARM_SYSCALLS),
};

/** The ABIs a process can use on a host of this architecture, native first. */
export const RUNNABLE: Readonly<Record<NativeArch, readonly AbiName[]>> = {
  x86_64: ['x86_64', 'x32', 'i386'],
  aarch64: ['aarch64', 'arm'],
};

/**
 * SCMP_ARCH_* -> ABI. Architectures mapped to undefined are valid names that can never
 * execute on brig's hosts (a mips syscall cannot reach an x86_64 kernel), so a filter
 * section for them would be dead code; they are accepted and left out.
 */
export const SCMP_ARCHES: Readonly<Record<SeccompArch, AbiName | undefined>> = {
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: undefined,
  SCMP_ARCH_MIPS64: undefined,
  SCMP_ARCH_MIPS64N32: undefined,
  SCMP_ARCH_MIPSEL: undefined,
  SCMP_ARCH_MIPSEL64: undefined,
  SCMP_ARCH_MIPSEL64N32: undefined,
  SCMP_ARCH_PPC: undefined,
  SCMP_ARCH_PPC64: undefined,
  SCMP_ARCH_PPC64LE: undefined,
  SCMP_ARCH_S390: undefined,
  SCMP_ARCH_S390X: undefined,
  SCMP_ARCH_PARISC: undefined,
  SCMP_ARCH_PARISC64: undefined,
  SCMP_ARCH_RISCV64: undefined,
  SCMP_ARCH_LOONGARCH64: undefined,
  SCMP_ARCH_M68K: undefined,
  SCMP_ARCH_SH: undefined,
  SCMP_ARCH_SHEB: undefined,
};

/** The number of `name` on `abi`, or undefined when that ABI has no such syscall. */
export function syscallNumber(abi: AbiName, name: string): number | undefined {
  return ABIS[abi].table.get(name);
}
