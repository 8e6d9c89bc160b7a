/**
 * The LaunchPlan: a versioned, flat, ordered list of operations with resolved arguments.
 * The C helper interprets it op by op and knows nothing else: no JSON, no defaults, no
 * policy. Every op records the config field it came from so an error in the helper can be
 * reported against that field.
 *
 * Adding an op: add it to OP_TABLE (the code is the wire number; never reuse one), add the
 * same code and argument order to native/helper/plan.h, and implement it in the helper.
 * Arguments are positional on the wire, in the order OP_TABLE lists them.
 */

export const PLAN_VERSION = 1;

/** Argument kinds on the wire: u64 integers, byte strings (paths are NUL-terminated by the encoder), string lists. */
type ArgKind = 'int' | 'str' | 'bytes' | 'strs';

export const OP_TABLE = {
  // --- stage 0: the helper's first process, in the caller's namespaces ---------------------
  /** Open a namespace file to join later (all are opened before any is joined). slot: 0..15. */
  ns_open: { code: 1, args: { path: 'str', slot: 'int' } },
  /** setns() into a namespace opened by ns_open. */
  ns_join: { code: 2, args: { slot: 'int', nstype: 'int' } },
  /** unshare() in the current process (the time namespace, which applies to children). */
  unshare: { code: 3, args: { flags: 'int' } },
  /** Write bytes to a file (sysctls, timens_offsets, oom_score_adj). */
  write_file: { code: 4, args: { path: 'str', data: 'bytes' } },
  /**
   * Make a user namespace with these id maps (a short-lived child unshares it, stage 0
   * writes its maps and keeps an fd to it), for id-mapped mounts. slot: 0..15.
   */
  userns_create: { code: 6, args: { slot: 'int', uid_map: 'str', gid_map: 'str' } },
  /**
   * Clone a host tree detached (open_tree) and id-map it with the user namespace in
   * userns_slot; recursive maps every submount too. Kept in slot for mount_attach. Done
   * in stage 0 because id-mapping needs CAP_SYS_ADMIN over the source filesystem.
   */
  mount_detached: { code: 7, args: { slot: 'int', source: 'str', recursive: 'int', userns_slot: 'int', idmap_recursive: 'int' } },
  /**
   * Clone the container's init with these CLONE_NEW* flags. The parent reports the child's
   * pid to the caller, then either waits for it and exits with its status (wait=1, for
   * foreground runs) or exits at once so init is reparented (wait=0). The child goes on
   * with the next op.
   */
  clone: { code: 5, args: { flags: 'int', wait: 'int' } },
  /**
   * Open this cgroup v2 directory (a host path: the op comes before any namespace is
   * joined); the next clone is a clone3(CLONE_INTO_CGROUP) into it.
   */
  clone_into_cgroup: { code: 63, args: { path: 'str' } },
  /**
   * Open a host file for writing into a slot (0..15), to be written by file_write later:
   * after the clone, by init, with the access checked here. cgroup v1 `tasks` files: init
   * moves itself into the container's cgroups, so stage 0 never counts against its limits.
   */
  file_open: { code: 64, args: { path: 'str', slot: 'int' } },
  /** Write data to the file in the slot, then close it. path: for error messages only. */
  file_write: { code: 65, args: { slot: 'int', data: 'bytes', path: 'str' } },
  // --- the container's init, before any user code -----------------------------------------
  /** Block until the caller says go (id maps written, cgroups joined). */
  sync_go: { code: 10, args: {} },
  /** Tell the caller setup is done, then block until it says start. */
  sync_ready: { code: 11, args: {} },
  /**
   * For create/start, which outlive the caller: make the exec FIFO in the state directory
   * (mode 0622, owned by the container's root) and keep an O_PATH fd to it; init inherits
   * the fd, so it never needs the host path...
   */
  fifo_create: { code: 15, args: { path: 'str', uid: 'int', gid: 'int' } },
  /**
   * Before the root switch: the caller runs the prestart and createRuntime hooks (runtime
   * namespace) and sends back the container state for the hooks init runs itself.
   */
  sync_hooks: { code: 19, args: {} },
  /** Run a hook inside the container: state on stdin, exact args and env, timeout in ms (0: none). */
  hook: { code: 61, args: { path: 'str', args: 'strs', env: 'strs', timeout_ms: 'int' } },
  /**
   * A foreground process with a terminal and no console socket (`runc run` in a terminal):
   * a socket pair stands in for the console socket, and stage 0, waiting for the process,
   * receives the master and relays its own stdio to the pty until the process exits; with
   * tty=1 (its stdin is a terminal) that terminal is put in raw mode and the pty's size follows it.
   * resize_fd (or -1): a pipe stage 0 holds, on which the caller writes the pty's new sizes
   * (rows, cols: big-endian u16 each, one 4-byte write per size).
   */
  console_relay: { code: 68, args: { tty: 'int', resize_fd: 'int' } },
  /** Connect to the caller's console socket (stage 0, host path) for console_setup. */
  console_connect: { code: 17, args: { path: 'str' } },
  /**
   * Open a pty from the container's /dev/ptmx, make its peer the controlling terminal and
   * stdio (owned by uid, sized rows x cols when given), send the master to the console socket.
   */
  console_setup: { code: 18, args: { rows: 'int', cols: 'int', uid: 'int' } },
  /** ...and block opening it for writing through /proc/self/fd until `start` reads it. */
  fifo_wait: { code: 16, args: {} },
  sethostname: { code: 12, args: { name: 'str' } },
  /** A session and process group of its own (runc's init is PGID = SID = its pid). */
  setsid: { code: 67, args: {} },
  /** Set a network interface up (SIOCSIFFLAGS IFF_UP): the loopback of a new network namespace. */
  link_up: { code: 66, args: { name: 'str' } },
  setdomainname: { code: 13, args: { name: 'str' } },
  /** setresgid + setresuid, used to become root of a new user namespace. */
  set_ids: { code: 14, args: { uid: 'int', gid: 'int' } },
  /** mount(NULL, path, NULL, flags, NULL): change propagation of an existing mount. */
  mount_propagation: { code: 20, args: { path: 'str', flags: 'int' } },
  /** Bind the rootfs onto itself (so it is a mount point) and open it as the root for *_in_root ops. */
  rootfs_open: { code: 21, args: { path: 'str' } },
  /** mkdir -p of a path resolved inside the root (openat2 RESOLVE_IN_ROOT), last component mode. */
  mkdir_in_root: { code: 22, args: { path: 'str', mode: 'int' } },
  /** Create parents and an empty regular file if nothing exists at path (bind target for files). */
  mkfile_in_root: { code: 23, args: { path: 'str', mode: 'int' } },
  /**
   * Mount a new filesystem on a path inside the root with fsopen/fsconfig/fsmount/move_mount.
   * options are alternating key, value pairs for fsconfig; an empty value is a flag.
   */
  mount_fs: {
    code: 24,
    args: { fstype: 'str', source: 'str', dest: 'str', attrs: 'int', propagation: 'int', options: 'strs' },
  },
  /**
   * Bind a host path (source is resolved in the caller's mount namespace) onto a path inside
   * the root with open_tree/mount_setattr/move_mount. recursive selects rbind; rec_attrs
   * are applied with AT_RECURSIVE, attrs to the top mount only.
   */
  mount_bind: {
    code: 25,
    args: {
      source: 'str',
      dest: 'str',
      recursive: 'int',
      attrs: 'int',
      attrs_clr: 'int',
      rec_attrs: 'int',
      rec_attrs_clr: 'int',
      propagation: 'int',
    },
  },
  /** Set attributes on the detached tree in slot and move it onto dest inside the root. */
  mount_attach: { code: 33, args: { slot: 'int', dest: 'str', attrs: 'int', attrs_clr: 'int', rec_attrs: 'int', rec_attrs_clr: 'int', propagation: 'int' } },
  /** mknod (mode includes S_IFCHR/S_IFBLK/S_IFIFO) then chown, inside the root. */
  mknod_in_root: { code: 26, args: { path: 'str', mode: 'int', dev: 'int', uid: 'int', gid: 'int' } },
  symlink_in_root: { code: 27, args: { target: 'str', path: 'str' } },
  /** pivot_root into the root, detach the old root. */
  pivot_root: { code: 28, args: {} },
  /** MS_MOVE the root onto / and chroot into it (--no-pivot). */
  chroot_root: { code: 29, args: {} },
  /** Hide a path: /dev/null over a file, a read-only empty tmpfs over a directory. Missing paths are skipped. */
  mask_path: { code: 30, args: { path: 'str' } },
  /** Bind a path onto itself and make it read-only (recursively). Missing paths are skipped. */
  readonly_path: { code: 31, args: { path: 'str' } },
  /** Set mount attributes on an existing mount point (e.g. read-only root). */
  mount_setattr: { code: 32, args: { path: 'str', attrs: 'int', recursive: 'int' } },
  setrlimit: { code: 40, args: { resource: 'int', soft: 'int', hard: 'int' } },
  personality: { code: 41, args: { persona: 'int' } },
  ioprio: { code: 42, args: { value: 'int' } },
  sched: {
    code: 43,
    args: {
      policy: 'int',
      flags: 'int',
      nice: 'int',
      priority: 'int',
      runtime: 'int',
      deadline: 'int',
      period: 'int',
    },
  },
  umask: { code: 44, args: { mask: 'int' } },
  /** Drop every capability not in keep (a bitmask) from the bounding set. */
  caps_bounding: { code: 50, args: { keep: 'int', last: 'int' } },
  setgroups: { code: 51, args: { gids: 'strs' } },
  /** prctl(PR_SET_KEEPCAPS, 1); setresgid; setresuid: switch to the process user, keeping capabilities. */
  set_user: { code: 52, args: { uid: 'int', gid: 'int' } },
  /** capset() with the three 64-bit masks. */
  capset: { code: 53, args: { effective: 'int', permitted: 'int', inheritable: 'int' } },
  /** Clear the ambient set, then raise each capability in the mask. */
  caps_ambient: { code: 54, args: { mask: 'int' } },
  no_new_privs: { code: 55, args: {} },
  /**
   * Join (create if missing) the named session keyring instead of the caller's, then add
   * perm_add (if not 0) to its permissions (runc's _ses.<id>; --no-new-keyring leaves this out).
   * ENOSYS (kernel without keys) is not an error, as with runc.
   */
  session_keyring: { code: 62, args: { name: 'str', perm_add: 'int' } },
  /** chdir inside the container, then refuse a cwd outside it (CVE-2024-21626). */
  chdir: { code: 56, args: { path: 'str' } },
  /** Mark every fd >= first close-on-exec. */
  cloexec_from: { code: 57, args: { first: 'int' } },
  /**
   * Connect to the seccomp agent's socket while its path is still reachable (before the
   * root switch); seccomp_load sends the listener fd over it.
   */
  seccomp_connect: { code: 58, args: { path: 'str' } },
  /**
   * seccomp(SECCOMP_SET_MODE_FILTER, flags, program). With a listener (NEW_LISTENER in
   * flags) the fd goes to the agent connected by seccomp_connect, with the container
   * process state the caller sent at sync_go, then is closed.
   */
  seccomp_load: { code: 59, args: { flags: 'int', program: 'bytes' } },
  /** execve the first candidate that exists (PATH lookup done by the compiler). */
  exec: { code: 60, args: { candidates: 'strs', argv: 'strs', envp: 'strs' } },
} as const satisfies Record<string, { code: number; args: Record<string, ArgKind> }>;

export type OpName = keyof typeof OP_TABLE;

type KindType<K> = K extends 'int'
  ? number | bigint
  : K extends 'str'
    ? string
    : K extends 'bytes'
      ? string | Uint8Array
      : K extends 'strs'
        ? string[]
        : never;

type ArgsOf<N extends OpName> = {
  -readonly [A in keyof (typeof OP_TABLE)[N]['args']]: KindType<(typeof OP_TABLE)[N]['args'][A]>;
};

/** One planned operation: its name, resolved arguments and the config field it serves. */
export type Op = { [N in OpName]: { op: N; field: string } & ArgsOf<N> }[OpName];

export interface LaunchPlan {
  version: number;
  ops: Op[];
  /** Facts the caller needs around the helper (not sent to it). */
  meta: PlanMeta;
}

export interface PlanMeta {
  /** Whether init gets a new user namespace: the caller must then write these maps at sync_go. */
  uidMap?: string;
  gidMap?: string;
  /** The rootfs as an absolute host path. */
  rootfs: string;
  /** Number of fds the caller passes through (stdio excluded). */
  preserveFds: number;
  /** With a seccomp listener: the caller sends the container process state at sync_go. */
  seccompListener?: { metadata: string };
  /** Instructions in the seccomp program, for --debug and features. */
  seccompInstructions?: number;
  /** What the config asked for that the kernel cannot give and is left out, for the runtime log. */
  warnings?: string[];
}

/** A typed constructor, so compiler code reads `op('mkdir_in_root', field, { path, mode })`. */
export function op<N extends OpName>(name: N, field: string, args: ArgsOf<N>): Op {
  return { op: name, field, ...args } as Op;
}
