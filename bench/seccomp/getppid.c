/*
 * getppid N [personality]
 *
 * Calls getppid(2) N times through syscall(2) (no libc caching) and prints the mean cost
 * of one call: "getppid ns/call 52.1". With "personality" it calls personality(0xffffffff)
 * instead, a query that changes nothing but that seccomp profiles check arguments for, so
 * the kernel cannot answer it from its per-syscall action cache and must run the filter.
 * Built static so it runs unchanged in a busybox container.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
  int personality = argc > 2 && strcmp(argv[2], "personality") == 0;
  long nr = personality ? SYS_personality : SYS_getppid;
  unsigned long arg = personality ? 0xffffffffUL : 0;
  struct timespec t0, t1;
  /* warm up */
  for (long i = 0; i < n / 10; i++) syscall(nr, arg);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) syscall(nr, arg);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
  printf("%s ns/call %.1f\n", personality ? "personality" : "getppid", ns / (double)n);
  return 0;
}
