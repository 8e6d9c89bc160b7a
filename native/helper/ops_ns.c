/* Namespaces: join by path, unshare, clone init, hostname, becoming root of a new user ns. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define NS_SLOTS 16
#define GO_PAYLOAD_MAX (64u << 10)

static int fifo_fd = -1;
char *go_payload;
char *hook_state;
uint32_t hook_state_len;
uint32_t go_payload_len;
static int ns_fds[NS_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
/* Set by OP_CLONE_INTO_CGROUP: the cgroup v2 directory the next clone puts its child in. */
static int clone_cgroup_fd = -1;

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
/* struct clone_args up to .cgroup (CLONE_ARGS_SIZE_VER2), without <linux/sched.h>'s clashes. */
struct brig_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static pid_t clone_child(uint64_t flags) {
  if (clone_cgroup_fd < 0) {
    /* A plain clone with no new stack behaves like fork, into the new namespaces. */
    return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
  }
  struct brig_clone_args args = {.flags = flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)clone_cgroup_fd};
  pid_t child = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (child >= 0) { /* parent and child alike; on failure the caller names the op */
    close(clone_cgroup_fd);
    clone_cgroup_fd = -1;
  }
  return child;
}

/* The waiting parent: reports init's status as its own exit code, 128+signal if killed. */
static _Noreturn void wait_child(pid_t child) {
  /* Signals to the terminal's foreground group must not kill us before init: the caller
     forwards them to init, and our exit code is how it learns init's status. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  /* With a terminal and no console socket, hold the pty and relay it until init exits. */
  console_relay(child);
  int status;
  for (;;) {
    pid_t r = waitpid(child, &status, 0);
    if (r == child) break;
    if (r < 0 && errno != EINTR) helper_exit(255);
  }
  if (WIFEXITED(status)) helper_exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) helper_exit(128 + WTERMSIG(status));
  helper_exit(255);
}

void op_clone(const struct op *op) {
  uint64_t flags = A_INT(op, 0);
  int wait = (int)A_INT(op, 1);
  pid_t child = clone_child(flags);
  if (child < 0) fail(clone_cgroup_fd >= 0 ? "clone3(CLONE_INTO_CGROUP)" : "clone", errno, NULL, NULL);
  console_after_clone(child == 0);
  if (child == 0) {
    /* init: only stage 0 reports its exit; init keeps the control channel until exec. */
    if (status_fd >= 0) close(status_fd);
    status_fd = -1;
    return;
  }
  uint32_t pid = (uint32_t)child;
  if (msg_send(MSG_PID, &pid, sizeof pid) < 0) {
    kill(child, SIGKILL);
    _exit(1);
  }
  /* From here only init talks to the caller. */
  ctl_close();
  if (!wait) helper_exit(0);
  wait_child(child);
}

void op_ns(const struct op *op) {
  switch (op->code) {
  case OP_NS_OPEN: {
    uint64_t slot = A_INT(op, 1);
    if (slot >= NS_SLOTS) fail("open", EINVAL, A_STR(op, 0), NULL);
    int fd = open(A_STR(op, 0), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open", errno, A_STR(op, 0), NULL);
    ns_fds[slot] = fd;
    break;
  }
  case OP_NS_JOIN: {
    uint64_t slot = A_INT(op, 0);
    if (slot >= NS_SLOTS || ns_fds[slot] < 0) fail("setns", EBADF, NULL, NULL);
    if (setns(ns_fds[slot], (int)A_INT(op, 1)) < 0) fail("setns", errno, NULL, NULL);
    close(ns_fds[slot]);
    ns_fds[slot] = -1;
    break;
  }
  case OP_CLONE_INTO_CGROUP: {
    int fd = open(A_STR(op, 0), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open", errno, A_STR(op, 0), NULL);
    if (clone_cgroup_fd >= 0) close(clone_cgroup_fd);
    clone_cgroup_fd = fd;
    break;
  }
  case OP_UNSHARE:
    if (unshare((int)A_INT(op, 0)) < 0) fail("unshare", errno, NULL, NULL);
    break;
  case OP_SETHOSTNAME:
    if (sethostname(A_STR(op, 0), A_LEN(op, 0) - 1) < 0) fail("sethostname", errno, A_STR(op, 0), NULL);
    break;
  case OP_SETSID:
    if (setsid() < 0) fail("setsid", errno, NULL, NULL);
    break;
  case OP_LINK_UP: {
    struct ifreq ifr = {0};
    if (A_LEN(op, 0) > sizeof ifr.ifr_name) fail("ioctl(SIOCSIFFLAGS)", ENAMETOOLONG, A_STR(op, 0), NULL);
    memcpy(ifr.ifr_name, A_STR(op, 0), A_LEN(op, 0));
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail("socket", errno, A_STR(op, 0), NULL);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("ioctl(SIOCGIFFLAGS)", errno, A_STR(op, 0), NULL);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("ioctl(SIOCSIFFLAGS)", errno, A_STR(op, 0), NULL);
    close(s);
    break;
  }
  case OP_SETDOMAINNAME:
    if (setdomainname(A_STR(op, 0), A_LEN(op, 0) - 1) < 0) fail("setdomainname", errno, A_STR(op, 0), NULL);
    break;
  case OP_SET_IDS:
    if (setresgid((gid_t)A_INT(op, 1), (gid_t)A_INT(op, 1), (gid_t)A_INT(op, 1)) < 0) fail("setresgid", errno, NULL, NULL);
    if (setresuid((uid_t)A_INT(op, 0), (uid_t)A_INT(op, 0), (uid_t)A_INT(op, 0)) < 0) fail("setresuid", errno, NULL, NULL);
    break;
  case OP_SYNC_GO: {
    go_payload = malloc(GO_PAYLOAD_MAX);
    if (!go_payload) fail("malloc", ENOMEM, NULL, NULL);
    int t = msg_recv(go_payload, GO_PAYLOAD_MAX, &go_payload_len);
    if (t < 0) _exit(1); /* the caller is gone: nothing to report to */
    if (t != MSG_GO) fail("sync", EPROTO, NULL, NULL);
    break;
  }
  case OP_FIFO_CREATE:
    if (mknod(A_STR(op, 0), S_IFIFO | 0622, 0) < 0) fail("mknod", errno, A_STR(op, 0), NULL);
    if (chmod(A_STR(op, 0), 0622) < 0 || chown(A_STR(op, 0), (uid_t)A_INT(op, 1), (gid_t)A_INT(op, 2)) < 0) {
      fail("chown", errno, A_STR(op, 0), NULL);
    }
    fifo_fd = open(A_STR(op, 0), O_PATH | O_CLOEXEC);
    if (fifo_fd < 0) fail("open", errno, A_STR(op, 0), NULL);
    break;
  case OP_FIFO_WAIT: {
    /* Blocks until `start` opens the FIFO for reading; the byte tells it init got there. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fifo_fd);
    int w = open(path, O_WRONLY | O_CLOEXEC);
    if (w < 0) fail("open", errno, "exec.fifo", NULL);
    if (write(w, "0", 1) != 1) fail("write", errno, "exec.fifo", NULL);
    close(fifo_fd);
    /*
     * Keep the writer open (close-on-exec): `start` reads until EOF, which comes when the
     * user program is executed, so poststart runs after it (and after startContainer hooks).
     * If an op fails before that, fail() writes the error record here for `start` to report.
     */
    start_fd = w;
    break;
  }
  case OP_SYNC_HOOKS: {
    /* The caller runs prestart/createRuntime hooks, then sends the state for ours. */
    if (msg_send(MSG_HOOKS, NULL, 0) < 0) _exit(1);
    hook_state = malloc(GO_PAYLOAD_MAX);
    if (!hook_state) fail("malloc", ENOMEM, NULL, NULL);
    int t = msg_recv(hook_state, GO_PAYLOAD_MAX, &hook_state_len);
    if (t < 0) _exit(1);
    if (t != MSG_CONTINUE) fail("sync", EPROTO, NULL, NULL);
    break;
  }
  case OP_SYNC_READY: {
    char buf[16];
    if (msg_send(MSG_READY, NULL, 0) < 0) _exit(1);
    int t = msg_recv(buf, sizeof buf, NULL);
    if (t < 0) _exit(1);
    if (t != MSG_START) fail("sync", EPROTO, NULL, NULL);
    break;
  }
  }
}
