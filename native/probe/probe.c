/*
 * brig-probe: a static test program run inside containers to observe what the runtime set
 * up, from the inside. Each subcommand prints plain lines the tests compare.
 *
 *   fds                 list open fds (except the one used for listing)
 *   chroot-escape PATH  try the classic chroot escape, then report whether PATH exists
 *   umask               print the umask in octal
 *   groups              print uid gid and supplementary groups
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return perror("opendir"), 1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
    char link[4096] = "", path[300];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0) link[n] = '\0';
    printf("%s %s\n", e->d_name, link);
  }
  closedir(d);
  return 0;
}

static int chroot_escape(const char *marker) {
  /* The textbook escape: chroot into a subdirectory while keeping cwd outside it, walk up. */
  mkdir("/tmp/.escape", 0700);
  if (chroot("/tmp/.escape") < 0) printf("chroot: %s\n", strerror(errno));
  for (int i = 0; i < 64; i++) chdir("..");
  if (chroot(".") < 0) printf("chroot2: %s\n", strerror(errno));
  struct stat st;
  printf("%s\n", stat(marker, &st) == 0 ? "ESCAPED" : "contained");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "fds")) return fds();
  if (!strcmp(argv[1], "chroot-escape") && argc == 3) return chroot_escape(argv[2]);
  if (!strcmp(argv[1], "umask")) {
    mode_t m = umask(0);
    printf("%04o\n", m);
    return 0;
  }
  if (!strcmp(argv[1], "ids")) {
    /* Real and effective ids: a setuid copy shows whether exec raised them. */
    printf("uid=%u euid=%u gid=%u egid=%u\n", getuid(), geteuid(), getgid(), getegid());
    return 0;
  }
  if (!strcmp(argv[1], "groups")) {
    gid_t g[64];
    int n = getgroups(64, g);
    printf("%u %u", getuid(), getgid());
    for (int i = 0; i < n; i++) printf(" %u", g[i]);
    printf("\n");
    return 0;
  }
  return 2;
}
