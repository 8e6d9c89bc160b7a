/*
 * seccomp-call [--int80] NR [ARG...]
 *
 * Test probe: makes one raw system call and prints "ret=R errno=E". ARGs are unsigned
 * 64-bit numbers (0x... accepted), so tests can set the high half of an argument.
 * --int80 enters through the i386 gate (`int $0x80`, i386 numbers, 32-bit args) from this
 * 64-bit process: the path a filter that only knows x86_64 numbers would miss.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;
}
#endif

int main(int argc, char **argv) {
  int i = 1;
  int gate80 = argc > 1 && strcmp(argv[1], "--int80") == 0;
  if (gate80) i++;
  if (i >= argc) {
    fprintf(stderr, "usage: %s [--int80] NR [ARG...]\n", argv[0]);
    return 2;
  }
  long nr = strtol(argv[i++], NULL, 0);
  unsigned long a[6] = {0};
  for (int j = 0; j < 6 && i < argc; j++, i++) a[j] = strtoul(argv[i], NULL, 0);
  long ret;
  int err = 0;
  if (gate80) {
#if defined(__x86_64__)
    ret = int80(nr, (long)a[0], (long)a[1], (long)a[2]);
    if (ret < 0 && ret > -4096) {
      err = (int)-ret;
      ret = -1;
    }
#else
    fprintf(stderr, "--int80 needs x86_64\n");
    return 2;
#endif
  } else {
    errno = 0;
    ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    err = ret == -1 ? errno : 0;
  }
  printf("ret=%ld errno=%d\n", ret, err);
  return 0;
}
