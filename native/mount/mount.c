/*
 * brig-mount: one filesystem mount through the new mount API, for the engine's container
 * rootfs (Node cannot call fsopen). Each option is its own fsconfig call, so an overlay
 * takes its layers one `lowerdir+` at a time (kernel 6.8+) instead of the one-page
 * `lowerdir=a:b:c` string of mount(2), and a path option can be handed over as an open
 * directory fd (FSCONFIG_SET_FD, overlay 6.13+), which no path length limits. The engine
 * decides which form each option takes; this program only carries them out, in order.
 *
 *   brig-mount -u TARGET
 *     umount2(TARGET, UMOUNT_NOFOLLOW): what umount(8) does for a rootfs, without its reading
 *     every mount the host has and its utab (~15 ms a removal on a busy host). "not mounted"
 *     when TARGET is no mount point (exit 1, as every other failure).
 *   brig-mount -n FILE
 *     a new network namespace bind-mounted on FILE (an existing file), as `ip netns add`
 *     does: unshare(CLONE_NEWNET), then /proc/self/ns/net bound on FILE; the namespace lives
 *     as long as the mount. One process where unshare(8) --net=FILE takes three.
 *   brig-mount [-C DIR] FSTYPE TARGET OPTION...
 *     -C DIR        chdir first (relative path options resolve from there)
 *     s:KEY=VALUE   FSCONFIG_SET_STRING
 *     f:KEY         FSCONFIG_SET_FLAG
 *     d:KEY=PATH    FSCONFIG_SET_FD with PATH opened O_RDONLY|O_DIRECTORY
 *     a:ATTR        a mount attribute for fsmount: nosuid, nodev, noexec, ro
 *
 * Exit 0 on success; on failure 1 and one line: the step, the option, the error and the
 * kernel's own explanation from the filesystem context when it gave one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int fail(int fs, const char *step, const char *opt, int err) {
  char msg[512] = "";
  ssize_t n = fs >= 0 ? read(fs, msg, sizeof msg - 1) : -1;
  msg[n > 0 ? n : 0] = '\0';
  if (n > 0 && msg[n - 1] == '\n') msg[n - 1] = '\0';
  /* Context messages start with a severity letter and a space: "e overlay: ...". */
  fprintf(stderr, "%s %s: %s%s%s\n", step, opt, strerror(err), n > 2 ? ": " : "", n > 2 ? msg + 2 : "");
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "-u") == 0) {
    if (umount2(argv[2], UMOUNT_NOFOLLOW) == 0) return 0;
    if (errno == EINVAL || errno == ENOENT) {
      fprintf(stderr, "umount %s: not mounted\n", argv[2]);
      return 1;
    }
    return fail(-1, "umount", argv[2], errno);
  }
  if (argc == 3 && strcmp(argv[1], "-n") == 0) {
    if (unshare(CLONE_NEWNET) < 0) return fail(-1, "unshare", "CLONE_NEWNET", errno);
    if (mount("/proc/self/ns/net", argv[2], NULL, MS_BIND, NULL) < 0) return fail(-1, "mount", argv[2], errno);
    return 0;
  }
  int i = 1;
  if (argc > 2 && strcmp(argv[1], "-C") == 0) {
    if (chdir(argv[2]) < 0) return fail(-1, "chdir", argv[2], errno);
    i = 3;
  }
  if (argc - i < 2) {
    fprintf(stderr, "usage: %s [-C DIR] FSTYPE TARGET [s:KEY=VALUE|f:KEY|d:KEY=PATH]...\n", argv[0]);
    return 2;
  }
  const char *fstype = argv[i], *target = argv[i + 1];
  int fs = fsopen(fstype, FSOPEN_CLOEXEC);
  if (fs < 0) return fail(-1, "fsopen", fstype, errno);
  unsigned int attrs = 0;
  for (i += 2; i < argc; i++) {
    char *opt = argv[i], *key = opt + 2, *eq = strchr(key, '=');
    if (opt[0] == 'a' && opt[1] == ':') {
      static const struct { const char *name; unsigned int bit; } known[] = {
        {"nosuid", MOUNT_ATTR_NOSUID}, {"nodev", MOUNT_ATTR_NODEV}, {"noexec", MOUNT_ATTR_NOEXEC}, {"ro", MOUNT_ATTR_RDONLY},
      };
      unsigned int bit = 0;
      for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(key, known[k].name) == 0) bit = known[k].bit;
      if (bit == 0) {
        fprintf(stderr, "bad option %s\n", opt);
        return 2;
      }
      attrs |= bit;
      continue;
    }
    if (opt[0] == '\0' || opt[1] != ':' || (opt[0] != 'f' && eq == NULL)) {
      fprintf(stderr, "bad option %s\n", opt);
      return 2;
    }
    if (eq) *eq = '\0';
    int r;
    if (opt[0] == 's') {
      r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
    } else if (opt[0] == 'f') {
      r = fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0);
    } else if (opt[0] == 'd') {
      int fd = open(eq + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return fail(-1, "open", eq + 1, errno);
      r = fsconfig(fs, FSCONFIG_SET_FD, key, NULL, fd);
      close(fd);
    } else {
      fprintf(stderr, "bad option %s\n", opt);
      return 2;
    }
    if (eq) *eq = '=';
    if (r < 0) return fail(fs, "fsconfig", opt + 2, errno);
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) return fail(fs, "fsconfig", "create", errno);
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
  if (mnt < 0) return fail(fs, "fsmount", fstype, errno);
  if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) return fail(-1, "move_mount", target, errno);
  return 0;
}
