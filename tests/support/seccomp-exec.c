/*
 * seccomp-exec FILTER FLAGS PROGRAM [ARG...]
 *
 * Test probe: loads a classic-BPF seccomp filter compiled by brig (struct sock_filter[]
 * as raw bytes in FILTER) the way the native helper does, then execs PROGRAM. FLAGS is the
 * SECCOMP_FILTER_FLAG_* bitmask in decimal. Exit 125: the filter could not be loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s FILTER FLAGS PROGRAM [ARG...]\n", argv[0]);
    return 125;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 125;
  }
  static struct sock_filter insns[4096];
  size_t n = fread(insns, 1, sizeof insns, f);
  fclose(f);
  if (n == 0 || n % sizeof insns[0] != 0) {
    fprintf(stderr, "%s: %zu bytes is not a whole number of instructions\n", argv[1], n);
    return 125;
  }
  struct sock_fprog prog = {.len = (unsigned short)(n / sizeof insns[0]), .filter = insns};
  unsigned long flags = strtoul(argv[2], NULL, 10);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    perror("prctl(PR_SET_NO_NEW_PRIVS)");
    return 125;
  }
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (fd < 0) {
    fprintf(stderr, "seccomp(SECCOMP_SET_MODE_FILTER, %lu): %s\n", flags, strerror(errno));
    return 125;
  }
  /* A notify listener fd is close-on-exec: with nobody listening, notified syscalls fail ENOSYS. */
  execvp(argv[3], argv + 3);
  fprintf(stderr, "execvp %s: %s\n", argv[3], strerror(errno));
  return 127;
}
