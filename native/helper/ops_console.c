/*
 * The terminal (process.terminal with --console-socket), as runc does it: stage 0 connects
 * to the console socket while its host path is reachable; init opens a pty from the
 * container's own /dev/ptmx, makes the peer its controlling terminal and stdio, and sends
 * the master over the socket (SCM_RIGHTS, the pty's name as payload) for the caller
 * (conmon, containerd's shim) to hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

static int console_fd = -1;

static void send_fd(int sock, int fd, const char *name) {
  char ctrl[CMSG_SPACE(sizeof(int))];
  memset(ctrl, 0, sizeof ctrl);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) fail("sendmsg", errno, "(console socket)", NULL);
}

void op_console(const struct op *op) {
  switch (op->code) {
  case OP_CONSOLE_CONNECT: {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (A_LEN(op, 0) > sizeof addr.sun_path) fail("connect", ENAMETOOLONG, A_STR(op, 0), NULL);
    memcpy(addr.sun_path, A_STR(op, 0), A_LEN(op, 0));
    console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (console_fd < 0) fail("socket", errno, A_STR(op, 0), NULL);
    if (connect(console_fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("connect", errno, A_STR(op, 0), NULL);
    break;
  }
  case OP_CONSOLE_SETUP: {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail("open", errno, "/dev/ptmx", NULL);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("ioctl(TIOCSPTLCK)", errno, "/dev/ptmx", NULL);
    /* The peer through the master, not by path: no lookup a rootfs could redirect. */
    int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (peer < 0) fail("ioctl(TIOCGPTPEER)", errno, "/dev/ptmx", NULL);
    int n = 0;
    if (ioctl(master, TIOCGPTN, &n) < 0) fail("ioctl(TIOCGPTN)", errno, "/dev/ptmx", NULL);
    char name[32];
    snprintf(name, sizeof name, "/dev/pts/%d", n);
    if (A_INT(op, 0) || A_INT(op, 1)) {
      struct winsize ws = {.ws_row = (unsigned short)A_INT(op, 0), .ws_col = (unsigned short)A_INT(op, 1)};
      if (ioctl(peer, TIOCSWINSZ, &ws) < 0) fail("ioctl(TIOCSWINSZ)", errno, name, NULL);
    }
    /* The process user owns its terminal, as on a login. */
    if (fchown(peer, (uid_t)A_INT(op, 2), (gid_t)-1) < 0) fail("fchown", errno, name, NULL);
    if (setsid() < 0) fail("setsid", errno, NULL, NULL);
    if (ioctl(peer, TIOCSCTTY, 0) < 0) fail("ioctl(TIOCSCTTY)", errno, name, NULL);
    for (int fd = 0; fd <= 2; fd++) {
      if (dup2(peer, fd) < 0) fail("dup2", errno, name, NULL);
    }
    if (peer > 2) close(peer);
    if (console_fd < 0) fail("sendmsg", EBADF, "(no console socket)", NULL);
    send_fd(console_fd, master, name);
    close(master);
    close(console_fd);
    console_fd = -1;
    break;
  }
  }
}
