/*
 * brig-helper: executes a LaunchPlan compiled by brig's TypeScript runtime.
 *
 * The plan is a flat list of ops with resolved arguments. This program makes no policy
 * decisions: it carries out each op in order and, on the first failure, reports one fixed
 * error record (op index, syscall, errno, paths) and exits. The wire format and op codes
 * must match src/runtime/plan/ops.ts and src/native/encode.ts.
 */
#ifndef BRIG_HELPER_H
#define BRIG_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/plan.h"

#define PLAN_MAGIC "BRIGPLAN"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (4u << 20)

/* Control-channel message types (u32 type, u32 length, payload). */
enum msg_type {
  MSG_PLAN = 1,  /* caller -> helper: the encoded plan */
  MSG_PID = 2,   /* helper -> caller: u32 host pid of the container's init */
  MSG_GO = 3,    /* caller -> init: id maps written, go on */
  MSG_READY = 4, /* init -> caller: set up, waiting for start */
  MSG_START = 5, /* caller -> init: exec the user program */
  MSG_ERROR = 6, /* helper -> caller: struct error_record */
  MSG_HOOKS = 7, /* init -> caller: run the runtime-namespace create hooks now */
  MSG_CONTINUE = 8, /* caller -> init: done; payload: the state for in-container hooks */
};

/* The one error record. Fixed size so the caller never parses anything open-ended. */
struct error_record {
  uint32_t op_index;
  int32_t err;
  char syscall[32];
  char path[512];
  char dest[512];
  char detail[256];
};

/* Op codes: same numbers as OP_TABLE in src/runtime/plan/ops.ts. */
enum op_code {
  OP_NS_OPEN = 1, OP_NS_JOIN = 2, OP_UNSHARE = 3, OP_WRITE_FILE = 4, OP_CLONE = 5, OP_USERNS_CREATE = 6,
  OP_MOUNT_DETACHED = 7,
  OP_SYNC_GO = 10, OP_SYNC_READY = 11, OP_SETHOSTNAME = 12, OP_SETDOMAINNAME = 13, OP_SET_IDS = 14,
  OP_FIFO_CREATE = 15, OP_FIFO_WAIT = 16, OP_CONSOLE_CONNECT = 17, OP_CONSOLE_SETUP = 18,
  OP_SYNC_HOOKS = 19, OP_HOOK = 61,
  OP_MOUNT_PROPAGATION = 20, OP_ROOTFS_OPEN = 21, OP_MKDIR_IN_ROOT = 22, OP_MKFILE_IN_ROOT = 23,
  OP_MOUNT_FS = 24, OP_MOUNT_BIND = 25, OP_MKNOD_IN_ROOT = 26, OP_SYMLINK_IN_ROOT = 27,
  OP_PIVOT_ROOT = 28, OP_CHROOT_ROOT = 29, OP_MASK_PATH = 30, OP_READONLY_PATH = 31, OP_MOUNT_SETATTR = 32,
  OP_MOUNT_ATTACH = 33,
  OP_SETRLIMIT = 40, OP_PERSONALITY = 41, OP_IOPRIO = 42, OP_SCHED = 43, OP_UMASK = 44,
  OP_CAPS_BOUNDING = 50, OP_SETGROUPS = 51, OP_SET_USER = 52, OP_CAPSET = 53, OP_CAPS_AMBIENT = 54,
  OP_NO_NEW_PRIVS = 55, OP_CHDIR = 56, OP_CLOEXEC_FROM = 57, OP_SECCOMP_CONNECT = 58, OP_SECCOMP_LOAD = 59,
  OP_EXEC = 60, OP_SESSION_KEYRING = 62, OP_CLONE_INTO_CGROUP = 63, OP_FILE_OPEN = 64, OP_FILE_WRITE = 65,
  OP_LINK_UP = 66, OP_SETSID = 67, OP_CONSOLE_RELAY = 68,
};


/* sync.c: the control channel */
/*
 * The control channel: one socket when the caller spawned us (in == out), two pipes when
 * brig-runtime's launcher forked us ahead of Node (see native/launch/launch.c).
 */
extern int ctl_in, ctl_out;
/* With the launcher: where stage 0 writes its exit code (the caller is not our parent's waiter). */
extern int status_fd;
void ctl_close(void);
/* Before any execve of a program (the user's, a hook): SIGPIPE back to its default. */
void exec_signals(void);
_Noreturn void helper_exit(int code);
/* The exec FIFO's writer once `start` has opened it; -1 before (see OP_FIFO_WAIT). */
extern int start_fd;
extern uint32_t current_op;
int msg_send(uint32_t type, const void *payload, uint32_t len);
/* Reads one message header; returns its type, or -1 on EOF/error. Payload goes to buf (up to cap). */
int msg_recv(void *buf, uint32_t cap, uint32_t *len_out);
/* Reports a failed syscall for the current op and exits. */
_Noreturn void fail(const char *syscall, int err, const char *path, const char *dest);
_Noreturn void fail_detail(const char *syscall, int err, const char *path, const char *dest, const char *detail);

/* The ops, by family. Each returns only on success. */
void op_ns(const struct op *op);
void op_mount(const struct op *op);
void op_proc(const struct op *op);
void op_cred(const struct op *op);
void op_exec(const struct op *op);
void op_seccomp(const struct op *op);
void op_console(const struct op *op);
/* After the clone: each side closes its end of a console relay pair (OP_CONSOLE_RELAY). */
void console_after_clone(int in_child);
/* Stage 0, waiting for a foreground init: relay the pty to its own stdio until init exits. */
void console_relay(pid_t child);
void op_hook(const struct op *op);

/* What the caller sent with MSG_GO (the seccomp agent's process state), if anything. */
extern char *go_payload;
extern uint32_t go_payload_len;
/* The container state for in-container hooks (sent with MSG_CONTINUE). */
extern char *hook_state;
extern uint32_t hook_state_len;
/* ops_ns.c: clone returns in the child only. */
void op_clone(const struct op *op);

/* ops_mount.c */
extern int root_fd;

/* ops_idmap.c: detached (id-mapped) trees made by stage 0, attached by init. */
#define DETACHED_SLOTS 16
extern int detached_fds[DETACHED_SLOTS];
void op_idmap(const struct op *op);


#endif
