/**
 * The seccomp part of the OCI runtime spec (config-linux.md, `linux.seccomp`), as JSON
 * carries it. Values are checked by validate.ts before anything is compiled.
 */

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompArch =
  | 'SCMP_ARCH_X86'
  | 'SCMP_ARCH_X86_64'
  | 'SCMP_ARCH_X32'
  | 'SCMP_ARCH_ARM'
  | 'SCMP_ARCH_AARCH64'
  | 'SCMP_ARCH_MIPS'
  | 'SCMP_ARCH_MIPS64'
  | 'SCMP_ARCH_MIPS64N32'
  | 'SCMP_ARCH_MIPSEL'
  | 'SCMP_ARCH_MIPSEL64'
  | 'SCMP_ARCH_MIPSEL64N32'
  | 'SCMP_ARCH_PPC'
  | 'SCMP_ARCH_PPC64'
  | 'SCMP_ARCH_PPC64LE'
  | 'SCMP_ARCH_S390'
  | 'SCMP_ARCH_S390X'
  | 'SCMP_ARCH_PARISC'
  | 'SCMP_ARCH_PARISC64'
  | 'SCMP_ARCH_RISCV64'
  | 'SCMP_ARCH_LOONGARCH64'
  | 'SCMP_ARCH_M68K'
  | 'SCMP_ARCH_SH'
  | 'SCMP_ARCH_SHEB';

export type SeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC'
  | 'SECCOMP_FILTER_FLAG_LOG'
  | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/**
 * One argument condition. `value`/`valueTwo` are uint64; JSON numbers above 2^53 lose
 * precision, so a bigint is accepted as well. For SCMP_CMP_MASKED_EQ `value` is the mask
 * and `valueTwo` the datum: (arg & value) == valueTwo.
 */
export interface LinuxSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: SeccompOperator;
}

export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  /** errno for SCMP_ACT_ERRNO, data for SCMP_ACT_TRACE; EPERM when absent. */
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** Architectures besides the native one whose syscalls the filter also handles. */
  architectures?: SeccompArch[];
  flags?: SeccompFlag[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

/** The architectures brig runs on; seccomp profiles are compiled for one of them. */
export type NativeArch = 'x86_64' | 'aarch64';

/** What the helper needs to load a filter: seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). */
export interface CompiledSeccomp {
  /** struct sock_filter[], 8 bytes each, little-endian: u16 code, u8 jt, u8 jf, u32 k. */
  bytes: Uint8Array;
  instructions: number;
  /** SECCOMP_FILTER_FLAG_* bitmask. */
  flags: number;
  /** True when some rule uses SCMP_ACT_NOTIFY: load returns a listener fd (NEW_LISTENER). */
  notify: boolean;
}
