/*
 * Entry point: make sure we run from a sealed in-memory copy of ourselves, read the plan
 * from the control socket, run its ops in order.
 *
 * Why the sealed copy: a process in the container could otherwise open /proc/<pid>/exe of
 * this helper while it is joining the container and overwrite the host binary
 * (CVE-2019-5736). A sealed memfd cannot be written, and it is not the file on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static void ensure_sealed(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return; /* reported when the plan runs: /proc is required anyway */
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS) {
    close(self);
    return;
  }
  struct stat st;
  int mfd = memfd_create("brig-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0 || fstat(self, &st) < 0) _exit(120);
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n <= 0) _exit(120);
  }
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) _exit(120);
  close(self);
  fexecve(mfd, argv, environ);
  _exit(120);
}

/* A control fd number from argv, made close-on-exec: it must never reach the container. */
static int ctl_arg(const char *s) {
  char *end;
  long fd = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || fd < 0 || fd > 65535) _exit(2);
  if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) _exit(2);
  return (int)fd;
}

/*
 * Signals as a fresh process has them, whoever started us (the launcher forks us before
 * Node, so a caller's ignored SIGCHLD or blocked SIGTERM would otherwise reach init and the
 * program): all unblocked, all default — except SIGPIPE, ignored until exec
 * (exec_signals), so a write to a caller that is gone fails with EPIPE instead of killing
 * us before the error record is written where `start` waits for it.
 */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  signal(SIGPIPE, SIG_IGN);
}

/* Once: called again at exec, after a seccomp filter that may not allow rt_sigaction. */
void exec_signals(void) {
  static int done;
  if (done) return;
  done = 1;
  signal(SIGPIPE, SIG_DFL);
}

/* argv: CTL (a socket, from a spawning caller) or CTL_IN CTL_OUT STATUS (pipes, from the launcher). */
int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) _exit(2);
  reset_signals();
  ensure_sealed(argv);
  /* Not dumpable until exec: no ptrace or /proc/<pid>/ access from the container meanwhile. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* If the caller dies, so does stage 0 (a detached run's stage 0 exits on its own first). */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() == 1) _exit(1);
  ctl_in = ctl_out = ctl_arg(argv[1]);
  if (argc == 4) {
    ctl_out = ctl_arg(argv[2]);
    status_fd = ctl_arg(argv[3]);
  }

  uint32_t len;
  uint8_t *buf = malloc(PLAN_MAX_BYTES);
  if (!buf) _exit(3);
  if (msg_recv(buf, PLAN_MAX_BYTES, &len) != MSG_PLAN) _exit(3);
  struct plan plan;
  if (plan_decode(buf, len, PLAN_MAGIC, PLAN_VERSION, &plan) < 0) fail("decode", EINVAL, NULL, NULL);

  for (uint32_t i = 0; i < plan.nops; i++) {
    const struct op *op = &plan.ops[i];
    current_op = i;
    switch (op->code) {
    case OP_NS_OPEN: case OP_NS_JOIN: case OP_UNSHARE: case OP_SETHOSTNAME: case OP_SETDOMAINNAME:
    case OP_SET_IDS: case OP_SYNC_GO: case OP_SYNC_READY: case OP_FIFO_CREATE: case OP_FIFO_WAIT: case OP_SYNC_HOOKS:
    case OP_CLONE_INTO_CGROUP: case OP_LINK_UP: case OP_SETSID:
      op_ns(op);
      break;
    case OP_CLONE:
      op_clone(op);
      break;
    case OP_USERNS_CREATE: case OP_MOUNT_DETACHED:
      op_idmap(op);
      break;
    case OP_MOUNT_PROPAGATION: case OP_ROOTFS_OPEN: case OP_MKDIR_IN_ROOT: case OP_MKFILE_IN_ROOT:
    case OP_MOUNT_FS: case OP_MOUNT_BIND: case OP_MKNOD_IN_ROOT: case OP_SYMLINK_IN_ROOT:
    case OP_PIVOT_ROOT: case OP_CHROOT_ROOT: case OP_MASK_PATH: case OP_READONLY_PATH: case OP_MOUNT_SETATTR:
    case OP_MOUNT_ATTACH:
      op_mount(op);
      break;
    case OP_WRITE_FILE: case OP_SETRLIMIT: case OP_PERSONALITY: case OP_IOPRIO: case OP_SCHED:
    case OP_UMASK: case OP_CLOEXEC_FROM: case OP_CHDIR: case OP_FILE_OPEN: case OP_FILE_WRITE:
      op_proc(op);
      break;
    case OP_CAPS_BOUNDING: case OP_SETGROUPS: case OP_SET_USER: case OP_CAPSET: case OP_CAPS_AMBIENT:
    case OP_NO_NEW_PRIVS: case OP_SESSION_KEYRING:
      op_cred(op);
      break;
    case OP_HOOK:
      op_hook(op);
      break;
    case OP_CONSOLE_CONNECT: case OP_CONSOLE_SETUP: case OP_CONSOLE_RELAY:
      op_console(op);
      break;
    case OP_SECCOMP_CONNECT: case OP_SECCOMP_LOAD:
      op_seccomp(op);
      break;
    case OP_EXEC:
      op_exec(op);
      break;
    default:
      fail("decode", ENOSYS, NULL, NULL);
    }
  }
  fail("exec", ENOEXEC, "(plan ended without exec)", NULL);
}
