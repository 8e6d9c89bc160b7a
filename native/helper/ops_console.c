/*
 * The terminal (process.terminal with --console-socket), as runc does it: stage 0 connects
 * to the console socket while its host path is reachable; init opens a pty from the
 * container's own /dev/ptmx, makes the peer its controlling terminal and stdio, and sends
 * the master over the socket (SCM_RIGHTS, the pty's name as payload) for the caller
 * (conmon, containerd's shim) to hold.
 *
 * Without a console socket (a foreground `run` in a terminal, as `runc run` does it), a
 * socket pair stands in for it and stage 0, which waits for init anyway, is the holder: it
 * relays its own stdin to the pty and the pty to its stdout until init exits, with its
 * terminal in raw mode and the pty's size following it when the plan says stdin is one, or
 * the sizes the caller writes on a resize pipe (brig serve's exec resize) when it gives one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/fdpass.h"
#include "helper.h"

static int console_fd = -1;
/* OP_CONSOLE_RELAY: stage 0's end of the pair, whether its stdin is a terminal, and a pipe
 * of resizes from the caller (-1: none): records of rows and cols, big-endian u16 each. */
static int relay_fd = -1;
static int relay_tty;
static int relay_resize = -1;

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

static void copy_out(int to, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(to, buf, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return; /* a reader gone (EPIPE): the container goes on, its output is lost */
    buf += w;
    n -= w;
  }
}

static void follow_size(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

void console_after_clone(int in_child) {
  if (relay_fd < 0) return;
  close(in_child ? relay_fd : console_fd);
  if (in_child) relay_fd = -1;
  else console_fd = -1;
  if (in_child && relay_resize >= 0) close(relay_resize);
}

void console_relay(pid_t child) {
  if (relay_fd < 0) return;
  int master = recv_fd(relay_fd);
  close(relay_fd);
  relay_fd = -1;
  if (master < 0) return; /* init failed before its terminal: it reports that itself */
  struct termios saved;
  int raw = relay_tty && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    follow_size(master);
  }
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  sigprocmask(SIG_BLOCK, &winch, NULL);
  int sfd = signalfd(-1, &winch, SFD_CLOEXEC);
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  struct pollfd p[5] = {{.fd = 0, .events = POLLIN}, {.fd = master, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}, {.fd = relay_resize, .events = POLLIN}};
  char buf[8192];
  for (;;) {
    if (poll(p, 5, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0 && errno != EINTR) break; /* EIO: every holder of the peer is gone */
      copy_out(1, buf, n);
    }
    if (p[0].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) p[0].fd = -1; /* our input ended; the container's goes on until it exits */
      else copy_out(master, buf, n);
    }
    if (p[3].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) > 0 && raw) follow_size(master);
    }
    if (p[4].revents) {
      /* Whole records only: each is one write of 4 bytes to a pipe, so never split. */
      unsigned char r[256];
      ssize_t n = read(relay_resize, r, sizeof r);
      if (n <= 0 && errno != EINTR) p[4].fd = -1; /* the caller closed it: no more resizes */
      for (ssize_t i = 0; i + 4 <= n; i += 4) {
        struct winsize ws = {.ws_row = (unsigned short)(r[i] << 8 | r[i + 1]), .ws_col = (unsigned short)(r[i + 2] << 8 | r[i + 3])};
        ioctl(master, TIOCSWINSZ, &ws);
      }
    }
    if (p[2].revents) {
      /* init is gone: what it wrote last is still in the pty; then done. */
      fcntl(master, F_SETFL, O_NONBLOCK);
      ssize_t n;
      while ((n = read(master, buf, sizeof buf)) > 0) copy_out(1, buf, n);
      break;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  close(master);
}

void op_console(const struct op *op) {
  switch (op->code) {
  case OP_CONSOLE_RELAY: {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) fail("socketpair", errno, NULL, NULL);
    console_fd = sv[0];
    relay_fd = sv[1];
    relay_tty = (int)A_INT(op, 0);
    relay_resize = (int)A_INT(op, 1);
    break;
  }
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
