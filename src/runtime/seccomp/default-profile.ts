/**
 * brig's default seccomp profile: what a container gets when its configuration asks for
 * none. It follows the approach of Docker's default profile (moby
 * profiles/seccomp/default.json): an allow-list of everyday syscalls, refusing the rest with
 * EPERM, and letting a syscall through when the container holds the capability the kernel
 * would check for it anyway. The lists below are authored here, from the syscalls' own
 * documentation, not copied.
 *
 * Why a syscall is refused even though the kernel checks a capability itself: the
 * capability checks are per-namespace and many of these interfaces have had bugs reachable
 * before the check (keyctl, bpf, perf_event_open, userfaultfd, io_uring, unshare of a user
 * namespace). An allow-list also means new kernel syscalls stay refused until reviewed: the
 * compiler answers ENOSYS for numbers newer than its tables, so libc falls back to older calls.
 */
import { ENOSYS, EPERM } from './actions.js';
import type { LinuxSeccomp, LinuxSyscall, NativeArch, SeccompArch } from './types.js';

/** Everyday syscalls, allowed for every container. */
 
const BASE: readonly string[] = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate',
  'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64',
  'fdatasync', 'file_getattr', 'file_setattr', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs',
  'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futimesat', 'getcwd', 'getdents', 'getdents64',
  'ioctl', 'lchown', 'lchown32', 'link', 'linkat', '_llseek', 'lseek', 'lstat', 'lstat64', 'mkdir',
  'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat', 'open', 'openat', 'openat2',
  'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink',
  'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64',
  'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat',
  'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev', 'cachestat',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'getxattrat', 'lgetxattr',
  'listxattr', 'listxattrat', 'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr',
  'removexattrat', 'setxattr', 'setxattrat',
  // file change notification
  'fanotify_mark', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch',
  // polling and event descriptors
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
  'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'poll', 'ppoll', 'ppoll_time64', 'pselect6',
  'pselect6_time64', 'pipe', 'pipe2', 'select', '_newselect', 'signalfd', 'signalfd4', 'timerfd_create',
  'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  // asynchronous I/O (not io_uring)
  'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup',
  'io_submit', 'ioprio_get', 'ioprio_set',
  // memory
  'brk', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'mincore', 'mlock', 'mlock2',
  'mlockall', 'mmap', 'mmap2', 'mprotect', 'mremap', 'mseal', 'msync', 'munlock', 'munlockall',
  'munmap', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  // processes, threads, credentials
  'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'getcpu',
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32',
  'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getresgid', 'getresgid32', 'getresuid',
  'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'gettid', 'getuid',
  'getuid32', 'nice', 'prctl', 'prlimit64', 'process_mrelease', 'rseq', 'sched_getaffinity',
  'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  'seccomp', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups',
  'setgroups32', 'setpgid', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32',
  'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list', 'setsid',
  'set_tid_address', 'setuid', 'setuid32', 'ugetrlimit', 'wait4', 'waitid', 'waitpid',
  'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lsm_get_self_attr',
  'lsm_list_modules',
  // futexes
  'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake',
  // signals
  'alarm', 'kill', 'pause', 'pidfd_open', 'pidfd_send_signal', 'restart_syscall', 'rt_sigaction',
  'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaction', 'sigaltstack',
  'signal', 'sigpending', 'sigprocmask', 'sigreturn', 'sigsuspend', 'tgkill', 'tkill',
  // time and timers (reading; setting the clock needs CAP_SYS_TIME below)
  'adjtimex', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64',
  'clock_gettime', 'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer',
  'gettimeofday', 'nanosleep', 'setitimer', 'time', 'timer_create', 'timer_delete',
  'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  'times',
  // sockets
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen',
  'recv', 'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg',
  'sendto', 'setsockopt', 'shutdown', 'socket', 'socketcall', 'socketpair',
  // System V and POSIX IPC (namespaced per container)
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd',
  'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl', 'shmdt',
  'shmget',
  // system information
  'getrandom', 'sysinfo', 'uname',
];

/** Per-ABI extras: TLS and segment setup on x86, cache and TLS helpers on arm. */
 
const ARCH_EXTRAS: Readonly<Record<NativeArch, readonly string[]>> = {
  x86_64: ['arch_prctl', 'get_thread_area', 'modify_ldt', 'set_thread_area'],
  aarch64: ['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'get_tls', 'set_tls', 'sync_file_range2'],
};

/**
 * Syscalls allowed when the container holds the capability. The kernel still performs its
 * own check; this only decides whether the syscall is reachable at all.
 */
 
const BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
    'listmount', 'lookup_dcookie', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'open_tree_attr', 'perf_event_open', 'pivot_root', 'quotactl', 'quotactl_fd', 'setdomainname',
    'sethostname', 'setns', 'statmount', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'finit_module', 'init_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace', 'userfaultfd'],
  CAP_SYS_RAWIO: ['ioperm', 'iopl'],
  CAP_SYS_TIME: ['clock_settime', 'clock_settime64', 'settimeofday', 'stime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'migrate_pages', 'move_pages', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
};

/** clone(2) flags that create namespaces; without CAP_SYS_ADMIN clone must not carry any. */
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
export const CLONE_NAMESPACE_FLAGS =
  CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/**
 * personality(2) values programs really use: PER_LINUX, PER_LINUX32, UNAME26, both, and
 * 0xffffffff which only queries. Others (e.g. ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) weaken
 * the address-space hardening of whatever the process execs next.
 */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const ARCHITECTURES: Readonly<Record<NativeArch, SeccompArch[]>> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

export interface DefaultProfileOptions {
  /** The container's bounding set, e.g. ['CAP_CHOWN', 'CAP_SYS_ADMIN']. */
  capabilities: string[];
  arch: NativeArch;
}

export function defaultSeccompProfile(opts: DefaultProfileOptions): LinuxSeccomp {
  const caps = new Set(opts.capabilities);
  const allowed = new Set([...BASE, ...ARCH_EXTRAS[opts.arch]]);
  for (const [cap, names] of Object.entries(BY_CAPABILITY)) {
    if (caps.has(cap)) for (const n of names) allowed.add(n);
  }
  const syscalls: LinuxSyscall[] = [{ names: [...allowed].sort(), action: 'SCMP_ACT_ALLOW' }];
  if (!caps.has('CAP_SYS_ADMIN')) {
    syscalls.push(
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      },
      // clone3 passes its flags in a struct seccomp cannot read: answer "not implemented"
      // so libc falls back to clone, whose flags the rule above can check.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    );
  }
  for (const value of PERSONALITIES) {
    syscalls.push({
      names: ['personality'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
    });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: [...ARCHITECTURES[opts.arch]],
    syscalls,
  };
}
