/*
 * brig-layerops: the layer applier's batch of what Node cannot do itself — device nodes,
 * fifos and overlay whiteouts (mknod), and extended attributes (lsetxattr) — for a whole
 * layer in one process instead of one mknod/setfattr per entry.
 *
 *   brig-layerops ROOT < OPS
 *
 * TypeScript decides (which entries, modes, owners, which xattrs are allowed, which
 * failures only warn); this program executes the list in order and nothing else. Every
 * path is relative to ROOT and is resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): the applier has already resolved symlinks to real directories, so
 * a symlink met here means the tree changed under us, and the op fails instead of
 * following it. The final component is never followed either (mknodat, AT_SYMLINK_NOFOLLOW,
 * lsetxattr through the parent's /proc/self/fd link).
 *
 * An op, little-endian:  u8 kind, u8 flags, u16 0, u32 mode, u32 uid, u32 gid,
 *   u64 rdev, i64 mtime_sec, u32 mtime_nsec, u32 path_len, u32 name_len, u32 value_len,
 *   then path, name, value bytes.
 *   kind 1 MKNOD: mknodat(mode incl. S_IFMT, rdev); flag 2: fchownat(uid, gid); then the
 *     mode again (mknod applies the umask; chown clears set-id bits); flag 4: utimensat.
 *   kind 2 XATTR: lsetxattr(path, name, value).
 *   flag 1 (soft): a failure is reported and the batch goes on; later ops on the same
 *     path are skipped. Otherwise a failure ends the batch.
 * Out (stdout), per failed op: u32 index, i32 errno, u32 syscall (1 open, 2 mknod,
 * 3 chown, 4 chmod, 5 utimes, 6 setxattr, 7 bad op), u32 fatal. Exit 0 when no fatal
 * failure, 1 after one, 2 on bad usage or input.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_FIELD (1u << 20)
#define HEAD 48

enum { K_MKNOD = 1, K_XATTR = 2 };
enum { F_SOFT = 1, F_CHOWN = 2, F_TIMES = 4 };
enum { S_OPEN = 1, S_MKNOD, S_CHOWN, S_CHMOD, S_UTIMES, S_SETXATTR, S_BADOP };

static int root_fd;
static int parent_fd = -1;
static char parent_path[4096] = "\1"; /* the directory parent_fd holds; "\1" = none */

static int read_full(void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(0, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return got == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

static uint32_t u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const unsigned char *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

static void report(uint32_t index, int err, uint32_t syscall_id, uint32_t fatal) {
  uint32_t rec[4] = {index, (uint32_t)err, syscall_id, fatal};
  if (write(1, rec, sizeof rec) != (ssize_t)sizeof rec) _exit(2);
}

/* Opens the directory holding `path` (relative, no symlinks) and returns its fd; *base
   points at the last component ("." for the root itself). */
static int open_parent(char *path, const char **base) {
  char *slash = strrchr(path, '/');
  const char *dir = ".";
  if (path[0] == '\0') {
    *base = ".";
  } else if (slash == NULL) {
    *base = path;
  } else {
    *slash = '\0';
    dir = path;
    *base = slash + 1;
  }
  if (strcmp(dir, parent_path) == 0) return parent_fd;
  if (parent_fd >= 0 && parent_fd != root_fd) close(parent_fd);
  parent_fd = -1;
  parent_path[0] = '\1';
  if (strcmp(dir, ".") == 0) {
    parent_fd = root_fd;
  } else {
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    parent_fd = (int)syscall(SYS_openat2, root_fd, dir, &how, sizeof how);
    if (parent_fd < 0) return -1;
  }
  snprintf(parent_path, sizeof parent_path, "%s", dir);
  return parent_fd;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ROOT < OPS\n", argv[0]);
    return 2;
  }
  root_fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    perror(argv[1]);
    return 2;
  }
  static char path[4096], orig[4096], skip[4096], name[256], procpath[64];
  static unsigned char value[1 << 16];
  int have_skip = 0;
  unsigned char h[HEAD];
  for (uint32_t index = 0;; index++) {
    int r = read_full(h, HEAD);
    if (r == 0) break;
    uint32_t plen = u32(h + 36), nlen = u32(h + 40), vlen = u32(h + 44);
    if (r < 0 || plen >= sizeof path || nlen >= sizeof name || vlen > sizeof value ||
        read_full(path, plen) != 1 || read_full(name, nlen) != 1 ||
        read_full(value, vlen) != 1) {
      fprintf(stderr, "brig-layerops: op %u is malformed\n", index);
      return 2;
    }
    path[plen] = name[nlen] = '\0';
    unsigned kind = h[0], flags = h[1];
    uint32_t fatal = (flags & F_SOFT) == 0;
    if (have_skip && strcmp(path, skip) == 0) continue;
    have_skip = 0;
    if (strlen(path) != plen || strlen(name) != nlen || (kind != K_MKNOD && kind != K_XATTR)) {
      report(index, EINVAL, S_BADOP, 1);
      return 1;
    }
    memcpy(orig, path, plen + 1);
    const char *base;
    uint32_t where = S_OPEN;
    int fd = open_parent(path, &base), ok = fd >= 0;
    if (ok && kind == K_MKNOD) {
      mode_t mode = (mode_t)u32(h + 4);
      where = S_MKNOD;
      ok = mknodat(fd, base, mode, (dev_t)u64(h + 16)) == 0;
      if (ok && (flags & F_CHOWN)) {
        where = S_CHOWN;
        ok = fchownat(fd, base, (uid_t)u32(h + 8), (gid_t)u32(h + 12), AT_SYMLINK_NOFOLLOW) == 0;
      }
      if (ok) {
        /* The node was made just now and is not a symlink: chmod it through an O_PATH fd
           so the final component is still never followed. */
        where = S_CHMOD;
        int nfd = openat(fd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", nfd);
        ok = nfd >= 0 && chmod(procpath, mode & 07777) == 0;
        if (nfd >= 0) close(nfd);
      }
      if (ok && (flags & F_TIMES)) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = (time_t)u64(h + 24);
        ts[0].tv_nsec = ts[1].tv_nsec = (long)u32(h + 32);
        where = S_UTIMES;
        ok = utimensat(fd, base, ts, AT_SYMLINK_NOFOLLOW) == 0;
      }
    } else if (ok) {
      where = S_SETXATTR;
      snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", fd);
      char full[sizeof procpath + sizeof path];
      snprintf(full, sizeof full, "%s/%s", procpath, base);
      ok = lsetxattr(full, name, value, vlen, 0) == 0;
    }
    if (ok) continue;
    report(index, errno, where, fatal);
    if (fatal) return 1;
    memcpy(skip, orig, plen + 1);
    have_skip = 1;
  }
  return 0;
}
