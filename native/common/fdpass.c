#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fdpass.h"

int recv_fd(int sock) {
  char payload[256], ctrl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = payload, .iov_len = sizeof payload};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}
