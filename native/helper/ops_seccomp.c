/*
 * Seccomp: load a program compiled by TypeScript; with a listener, hand its fd to the agent
 * (SCM_RIGHTS) together with the container process state the caller prepared.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper.h"

static int agent_fd = -1;
static char agent_path[108];

static void send_listener(int listener) {
  char ctrl[CMSG_SPACE(sizeof(int))];
  memset(ctrl, 0, sizeof ctrl);
  struct iovec iov = {.iov_base = go_payload, .iov_len = go_payload_len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &listener, sizeof(int));
  ssize_t n;
  do n = sendmsg(agent_fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) fail("sendmsg", errno, agent_path, NULL);
  close(listener);
  close(agent_fd);
}

void op_seccomp(const struct op *op) {
  switch (op->code) {
  case OP_SECCOMP_CONNECT: {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (A_LEN(op, 0) > sizeof addr.sun_path) fail("connect", ENAMETOOLONG, A_STR(op, 0), NULL);
    memcpy(addr.sun_path, A_STR(op, 0), A_LEN(op, 0));
    memcpy(agent_path, A_STR(op, 0), A_LEN(op, 0) < sizeof agent_path ? A_LEN(op, 0) : sizeof agent_path - 1);
    agent_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (agent_fd < 0) fail("socket", errno, A_STR(op, 0), NULL);
    if (connect(agent_fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("connect", errno, A_STR(op, 0), NULL);
    break;
  }
  case OP_SECCOMP_LOAD: {
    /* Here too, not only at exec: the filter may deny rt_sigaction. */
    exec_signals();
    /* The encoder appends a NUL to byte strings; the program is the bytes before it. */
    struct sock_fprog prog = {.len = (unsigned short)((A_LEN(op, 1) - 1) / sizeof(struct sock_filter)),
                              .filter = (struct sock_filter *)A_STR(op, 1)};
    unsigned flags = (unsigned)A_INT(op, 0);
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0) fail("seccomp", errno, NULL, NULL);
    if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
      if (agent_fd < 0) fail("seccomp", EBADF, "(no agent connection)", NULL);
      send_listener((int)r);
    }
    break;
  }
  }
}
