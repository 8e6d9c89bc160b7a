/*
 * Id-mapped mounts, prepared by stage 0 before the clone: id-mapping a mount needs
 * CAP_SYS_ADMIN over the source filesystem's user namespace, which init (in its own user
 * namespace) does not have. The detached trees are inherited by init and attached there.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define USERNS_SLOTS 16
static int userns_fds[USERNS_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
int detached_fds[DETACHED_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

static void write_map(pid_t pid, const char *file, const char *data) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open", errno, path, NULL);
  if (write(fd, data, strlen(data)) < 0) fail("write", errno, path, data);
  close(fd);
}

/* A child unshares a user namespace and waits; we map it, keep an fd to it, let it go. */
static void userns_create(uint64_t slot, const char *uid_map, const char *gid_map) {
  if (slot >= USERNS_SLOTS) fail("userns", EINVAL, NULL, NULL);
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) fail("pipe2", errno, NULL, NULL);
  pid_t child = fork();
  if (child < 0) fail("fork", errno, NULL, NULL);
  if (child == 0) {
    close(done[1]); /* or the read below never sees EOF */
    close(ready[0]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    (void)!read(done[0], &c, 1); /* until the parent closes its end */
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char c = 'n';
  if (read(ready[0], &c, 1) != 1 || c != 'y') fail("unshare", EPERM, "(id-map user namespace)", NULL);
  write_map(child, "uid_map", uid_map);
  write_map(child, "gid_map", gid_map);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", child);
  userns_fds[slot] = open(path, O_RDONLY | O_CLOEXEC);
  if (userns_fds[slot] < 0) fail("open", errno, path, NULL);
  close(done[1]);
  close(ready[0]);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
  }
}

static void mount_detached(const struct op *op) {
  uint64_t slot = A_INT(op, 0), us = A_INT(op, 3);
  const char *source = A_STR(op, 1);
  if (slot >= DETACHED_SLOTS || us >= USERNS_SLOTS || userns_fds[us] < 0) fail("open_tree", EINVAL, source, NULL);
  int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (A_INT(op, 2) ? AT_RECURSIVE : 0));
  if (tree < 0) fail("open_tree", errno, source, NULL);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fds[us]};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | (A_INT(op, 4) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    fail("mount_setattr(MOUNT_ATTR_IDMAP)", errno, source, NULL);
  }
  detached_fds[slot] = tree;
}

void op_idmap(const struct op *op) {
  switch (op->code) {
  case OP_USERNS_CREATE:
    userns_create(A_INT(op, 0), A_STR(op, 1), A_STR(op, 2));
    break;
  case OP_MOUNT_DETACHED:
    mount_detached(op);
    break;
  }
}
