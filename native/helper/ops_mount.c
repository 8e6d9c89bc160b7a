/*
 * Mounts and the root switch. Every destination is resolved inside the container's root
 * with openat2(RESOLVE_IN_ROOT), so a symlink in the rootfs can never send a mount, a
 * mkdir or a mknod out to the host. Mounts are made with the new mount API
 * (fsopen/fsmount, open_tree, mount_setattr, move_mount) onto those resolved fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "helper.h"

int root_fd = -1;

#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int open_in_root(const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_FLAGS};
  /* Paths are absolute in the plan; inside the root they are relative to it. */
  while (*path == '/') path++;
  if (*path == '\0') path = ".";
  return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

static int mkdir_p_depth(const char *path, mode_t mode, int depth);

/* mkdir -p inside the root. Returns an O_PATH fd of the directory. */
static int mkdir_p_in_root(const char *path, mode_t mode) {
  return mkdir_p_depth(path, mode, 0);
}

/*
 * A component that exists but does not resolve is a dangling symlink: create what it
 * points to, read as a path inside the root (as runc's securejoin does), then go on.
 */
static void follow_dangling(int parent, const char *prefix, const char *name, mode_t mode, int depth) {
  char target[4096], full[8192];
  ssize_t n = readlinkat(parent, name, target, sizeof target - 1);
  if (n <= 0) return;
  target[n] = '\0';
  if (target[0] == '/') snprintf(full, sizeof full, "%s", target);
  else snprintf(full, sizeof full, "%.*s/%s", (int)(name - prefix), prefix, target);
  close(mkdir_p_depth(full, mode, depth + 1));
}

static int mkdir_p_depth(const char *path, mode_t mode, int depth) {
  if (depth > 40) fail("mkdir", ELOOP, path, NULL);
  char buf[4096];
  if (strlen(path) >= sizeof buf) fail("mkdir", ENAMETOOLONG, path, NULL);
  strcpy(buf, path);
  int fd = open_in_root(buf, O_PATH | O_DIRECTORY);
  if (fd >= 0) return fd;
  if (errno != ENOENT) fail("openat2", errno, path, NULL);
  /* Walk from the top: each component is resolved in the root, created in its parent. */
  int parent = open_in_root("/", O_PATH | O_DIRECTORY);
  if (parent < 0) fail("openat2", errno, "/", NULL);
  char *p = buf;
  while (*p == '/') p++;
  while (*p) {
    char *slash = strchr(p, '/');
    if (slash) *slash = '\0';
    int next = open_in_root(buf, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      /* A single name made in an already resolved directory cannot leave the root. */
      if (mkdirat(parent, p, mode) < 0) {
        if (errno != EEXIST) fail("mkdirat", errno, buf, NULL);
        follow_dangling(parent, buf, p, mode, depth);
      }
      next = open_in_root(buf, O_PATH | O_DIRECTORY);
    }
    if (next < 0) fail("openat2", errno, buf, NULL);
    close(parent);
    parent = next;
    if (!slash) break;
    *slash = '/';
    p = slash + 1;
    while (*p == '/') p++;
  }
  return parent;
}

/* Splits path into its parent directory (created) and last name; returns the parent fd. */
static int parent_in_root(const char *path, const char **name) {
  static char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash || slash[1] == '\0') fail("mkdir", EINVAL, path, NULL);
  size_t n = (size_t)(slash - path);
  if (n >= sizeof dir) fail("mkdir", ENAMETOOLONG, path, NULL);
  memcpy(dir, path, n);
  dir[n] = '\0';
  *name = slash + 1;
  return mkdir_p_in_root(n ? dir : "/", 0755);
}

static void move_onto(int mnt_fd, const char *dest) {
  int target = open_in_root(dest, O_PATH);
  if (target < 0) fail("openat2", errno, NULL, dest);
  if (move_mount(mnt_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    fail("move_mount", errno, NULL, dest);
  }
  close(target);
  close(mnt_fd);
}

static void set_propagation(const char *dest, uint64_t flags) {
  if (!flags) return;
  int fd = open_in_root(dest, O_PATH);
  if (fd < 0) fail("openat2", errno, NULL, dest);
  struct mount_attr attr = {.propagation = flags & ~(uint64_t)MS_REC};
  if (mount_setattr(fd, "", AT_EMPTY_PATH | ((flags & MS_REC) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    fail("mount_setattr", errno, NULL, dest);
  }
  close(fd);
}

static void mount_fs(const struct op *op) {
  const char *fstype = A_STR(op, 0), *source = A_STR(op, 1), *dest = A_STR(op, 2);
  int fs = fsopen(fstype, FSOPEN_CLOEXEC);
  if (fs < 0) fail("fsopen", errno, fstype, dest);
  char **kv = A_LIST(op, 5);
  int bad = 0;
  const char *what = "fsconfig";
  if (fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0) bad = errno;
  for (uint32_t i = 0; !bad && i + 1 < A_COUNT(op, 5); i += 2) {
    int r = kv[i + 1][0] ? fsconfig(fs, FSCONFIG_SET_STRING, kv[i], kv[i + 1], 0)
                         : fsconfig(fs, FSCONFIG_SET_FLAG, kv[i], NULL, 0);
    if (r < 0) bad = errno;
  }
  if (!bad && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) bad = errno;
  if (bad) {
    /* The kernel explains fsconfig failures on the context fd ("e tmpfs: Bad value for 'size'"). */
    char msg[256] = "";
    ssize_t n = read(fs, msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    if (n > 0 && msg[n - 1] == '\n') msg[n - 1] = '\0';
    fail_detail(what, bad, fstype, dest, n > 2 ? msg + 2 : NULL);
  }
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)A_INT(op, 3));
  if (mnt < 0) fail("fsmount", errno, fstype, dest);
  close(fs);
  move_onto(mnt, dest);
  set_propagation(dest, A_INT(op, 4));
}

static void mount_bind(const struct op *op) {
  const char *source = A_STR(op, 0), *dest = A_STR(op, 1);
  int recursive = (int)A_INT(op, 2);
  int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail("open_tree", errno, source, dest);
  struct mount_attr rec = {.attr_set = A_INT(op, 5), .attr_clr = A_INT(op, 6)};
  if ((rec.attr_set || rec.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &rec, sizeof rec) < 0) {
    fail("mount_setattr", errno, source, dest);
  }
  struct mount_attr top = {.attr_set = A_INT(op, 3), .attr_clr = A_INT(op, 4)};
  if ((top.attr_set || top.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH, &top, sizeof top) < 0) {
    fail("mount_setattr", errno, source, dest);
  }
  move_onto(tree, dest);
  set_propagation(dest, A_INT(op, 7));
}

static void pivot(void) {
  /* pivot_root(".", ".") stacks the old root under the new one; detach it right away,
     after making it a slave so the unmount does not propagate to the host. */
  if (fchdir(root_fd) < 0) fail("fchdir", errno, NULL, NULL);
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", errno, NULL, NULL);
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("mount", errno, "(old root)", NULL);
  if (umount2(".", MNT_DETACH) < 0) fail("umount2", errno, "(old root)", NULL);
  if (chdir("/") < 0) fail("chdir", errno, "/", NULL);
}

static void chroot_root(void) {
  if (fchdir(root_fd) < 0) fail("fchdir", errno, NULL, NULL);
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("mount", errno, ".", "/");
  if (chroot(".") < 0) fail("chroot", errno, NULL, NULL);
  if (chdir("/") < 0) fail("chdir", errno, "/", NULL);
}

static void reopen_root(void) {
  close(root_fd);
  root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) fail("open", errno, "/", NULL);
}

static void mask_path(const char *path) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail("openat2", errno, path, NULL);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) fail("fstat", errno, path, NULL);
  close(fd);
  int mnt;
  if (S_ISDIR(st.st_mode)) {
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) fail("fsopen", errno, "tmpfs", path);
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
      fail("fsconfig", errno, "tmpfs", path);
    }
    mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0) fail("fsmount", errno, "tmpfs", path);
    close(fs);
  } else {
    mnt = open_tree(root_fd, "dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (mnt < 0) fail("open_tree", errno, "/dev/null", path);
  }
  move_onto(mnt, path);
}

static void readonly_path(const char *path) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail("openat2", errno, path, NULL);
  }
  int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) fail("open_tree", errno, path, NULL);
  close(fd);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) fail("mount_setattr", errno, path, NULL);
  move_onto(tree, path);
}

void op_mount(const struct op *op) {
  switch (op->code) {
  case OP_MOUNT_PROPAGATION:
    if (mount(NULL, A_STR(op, 0), NULL, (unsigned long)A_INT(op, 1), NULL) < 0) fail("mount", errno, A_STR(op, 0), NULL);
    break;
  case OP_ROOTFS_OPEN:
    if (mount(A_STR(op, 0), A_STR(op, 0), NULL, MS_BIND | MS_REC, NULL) < 0) fail("mount", errno, A_STR(op, 0), A_STR(op, 0));
    root_fd = open(A_STR(op, 0), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) fail("open", errno, A_STR(op, 0), NULL);
    break;
  case OP_MKDIR_IN_ROOT:
    close(mkdir_p_in_root(A_STR(op, 0), (mode_t)A_INT(op, 1)));
    break;
  case OP_MKFILE_IN_ROOT: {
    int fd = open_in_root(A_STR(op, 0), O_PATH);
    if (fd >= 0) {
      close(fd);
      break;
    }
    if (errno != ENOENT) fail("openat2", errno, A_STR(op, 0), NULL);
    const char *name;
    int dir = parent_in_root(A_STR(op, 0), &name);
    fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, (mode_t)A_INT(op, 1));
    if (fd < 0 && errno != EEXIST) fail("openat", errno, A_STR(op, 0), NULL);
    if (fd >= 0) close(fd);
    close(dir);
    break;
  }
  case OP_MOUNT_FS:
    mount_fs(op);
    break;
  case OP_MOUNT_BIND:
    mount_bind(op);
    break;
  case OP_MKNOD_IN_ROOT: {
    const char *name;
    int dir = parent_in_root(A_STR(op, 0), &name);
    if (mknodat(dir, name, (mode_t)A_INT(op, 1), (dev_t)A_INT(op, 2)) < 0) fail("mknodat", errno, A_STR(op, 0), NULL);
    /* The mode is applied exactly, not through the umask. */
    if (fchmodat(dir, name, (mode_t)A_INT(op, 1) & 07777, 0) < 0) fail("fchmodat", errno, A_STR(op, 0), NULL);
    if (fchownat(dir, name, (uid_t)A_INT(op, 3), (gid_t)A_INT(op, 4), AT_SYMLINK_NOFOLLOW) < 0) {
      fail("fchownat", errno, A_STR(op, 0), NULL);
    }
    close(dir);
    break;
  }
  case OP_SYMLINK_IN_ROOT: {
    const char *name;
    int dir = parent_in_root(A_STR(op, 1), &name);
    if (symlinkat(A_STR(op, 0), dir, name) < 0) fail("symlinkat", errno, A_STR(op, 1), A_STR(op, 0));
    close(dir);
    break;
  }
  case OP_PIVOT_ROOT:
    pivot();
    reopen_root();
    break;
  case OP_CHROOT_ROOT:
    chroot_root();
    reopen_root();
    break;
  case OP_MASK_PATH:
    mask_path(A_STR(op, 0));
    break;
  case OP_READONLY_PATH:
    readonly_path(A_STR(op, 0));
    break;
  case OP_MOUNT_ATTACH: {
    uint64_t slot = A_INT(op, 0);
    if (slot >= DETACHED_SLOTS || detached_fds[slot] < 0) fail("move_mount", EBADF, NULL, A_STR(op, 1));
    int tree = detached_fds[slot];
    detached_fds[slot] = -1;
    struct mount_attr rec = {.attr_set = A_INT(op, 4), .attr_clr = A_INT(op, 5)};
    if ((rec.attr_set || rec.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &rec, sizeof rec) < 0) {
      fail("mount_setattr", errno, NULL, A_STR(op, 1));
    }
    struct mount_attr top = {.attr_set = A_INT(op, 2), .attr_clr = A_INT(op, 3)};
    if ((top.attr_set || top.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH, &top, sizeof top) < 0) {
      fail("mount_setattr", errno, NULL, A_STR(op, 1));
    }
    move_onto(tree, A_STR(op, 1));
    set_propagation(A_STR(op, 1), A_INT(op, 6));
    break;
  }
  case OP_MOUNT_SETATTR: {
    int fd = open_in_root(A_STR(op, 0), O_PATH);
    if (fd < 0) fail("openat2", errno, A_STR(op, 0), NULL);
    struct mount_attr attr = {.attr_set = A_INT(op, 1)};
    if (mount_setattr(fd, "", AT_EMPTY_PATH | (A_INT(op, 2) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
      fail("mount_setattr", errno, A_STR(op, 0), NULL);
    }
    close(fd);
    break;
  }
  }
}
