/*
 * filter-len PID [OUT]
 *
 * Prints the instruction count of each seccomp filter attached to PID, newest first
 * ("filter 0: 392 instructions"), and with OUT writes the newest one there as raw
 * struct sock_filter[] bytes (the format brig compiles to). Read back from the kernel with
 * PTRACE_SECCOMP_GET_FILTER. Needs CAP_SYS_ADMIN and CONFIG_CHECKPOINT_RESTORE; PID is
 * stopped for the moment it takes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s PID [OUT]\n", argv[0]);
    return 2;
  }
  pid_t pid = (pid_t)strtol(argv[1], NULL, 10);
  if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) {
    fprintf(stderr, "ptrace(PTRACE_ATTACH, %d): %s\n", pid, strerror(errno));
    return 1;
  }
  int status;
  if (waitpid(pid, &status, __WALL) < 0) {
    perror("waitpid");
    return 1;
  }
  int rc = 0;
  for (unsigned long i = 0;; i++) {
    long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)i, NULL);
    if (n < 0) {
      if (errno != ENOENT || i == 0) {
        fprintf(stderr, "PTRACE_SECCOMP_GET_FILTER %lu: %s\n", i, strerror(errno));
        rc = 1;
      }
      break;
    }
    printf("filter %lu: %ld instructions\n", i, n);
    if (i == 0 && argc == 3) {
      struct sock_filter *prog = calloc((size_t)n, sizeof *prog);
      FILE *out = fopen(argv[2], "wb");
      if (!prog || !out || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)0, prog) != n ||
          fwrite(prog, sizeof *prog, (size_t)n, out) != (size_t)n) {
        fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
        rc = 1;
      }
      if (out) fclose(out);
      free(prog);
    }
  }
  ptrace(PTRACE_DETACH, pid, 0, 0);
  return rc;
}
