/* Process attributes, files, the working directory and exec. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

struct sched_attr_v1 {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

#define FILE_SLOTS 16
/* OP_FILE_OPEN's descriptors, for an OP_FILE_WRITE later (by init, after the clone). */
static int file_fds[FILE_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

static void write_all_fd(int fd, const char *path, const char *data, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail("write", errno, path, NULL);
    data += w;
    len -= (size_t)w;
  }
}

static void write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fail("open", errno, path, NULL);
  write_all_fd(fd, path, data, len);
  close(fd);
}

void op_proc(const struct op *op) {
  switch (op->code) {
  case OP_WRITE_FILE:
    /* Strings come with their NUL; write the bytes before it. */
    write_file(A_STR(op, 0), A_STR(op, 1), A_LEN(op, 1) - 1);
    break;
  case OP_FILE_OPEN: {
    uint64_t slot = A_INT(op, 1);
    if (slot >= FILE_SLOTS) fail("open", EINVAL, A_STR(op, 0), NULL);
    int fd = open(A_STR(op, 0), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) fail("open", errno, A_STR(op, 0), NULL);
    file_fds[slot] = fd;
    break;
  }
  case OP_FILE_WRITE: {
    /* path: only for the error record; the file was opened (and checked) by OP_FILE_OPEN. */
    uint64_t slot = A_INT(op, 0);
    if (slot >= FILE_SLOTS || file_fds[slot] < 0) fail("write", EBADF, A_STR(op, 2), NULL);
    write_all_fd(file_fds[slot], A_STR(op, 2), A_STR(op, 1), A_LEN(op, 1) - 1);
    close(file_fds[slot]);
    file_fds[slot] = -1;
    break;
  }
  case OP_SETRLIMIT: {
    struct rlimit rl = {.rlim_cur = A_INT(op, 1), .rlim_max = A_INT(op, 2)};
    if (setrlimit((int)A_INT(op, 0), &rl) < 0) fail("setrlimit", errno, NULL, NULL);
    break;
  }
  case OP_PERSONALITY:
    if (personality((unsigned long)A_INT(op, 0)) < 0) fail("personality", errno, NULL, NULL);
    break;
  case OP_IOPRIO:
    /* IOPRIO_WHO_PROCESS, self */
    if (syscall(SYS_ioprio_set, 1, 0, (int)A_INT(op, 0)) < 0) fail("ioprio_set", errno, NULL, NULL);
    break;
  case OP_SCHED: {
    struct sched_attr_v1 a = {
        .size = sizeof a,
        .sched_policy = (uint32_t)A_INT(op, 0),
        .sched_flags = A_INT(op, 1),
        .sched_nice = (int32_t)A_INT(op, 2),
        .sched_priority = (uint32_t)A_INT(op, 3),
        .sched_runtime = A_INT(op, 4),
        .sched_deadline = A_INT(op, 5),
        .sched_period = A_INT(op, 6),
    };
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) fail("sched_setattr", errno, NULL, NULL);
    break;
  }
  case OP_UMASK:
    umask((mode_t)A_INT(op, 0));
    break;
  case OP_CLOEXEC_FROM:
    if (syscall(SYS_close_range, (unsigned)A_INT(op, 0), ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail("close_range", errno, NULL, NULL);
    break;
  case OP_CHDIR: {
    if (chdir(A_STR(op, 0)) < 0) fail("chdir", errno, A_STR(op, 0), NULL);
    /* A cwd outside the root (a leaked directory fd, CVE-2024-21626) has no path from "/":
       getcwd fails with ENOENT. Refuse to start the program there. */
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf) || buf[0] != '/') fail("getcwd", ENOENT, A_STR(op, 0), NULL);
    break;
  }
  }
}

void op_exec(const struct op *op) {
  char **candidates = A_LIST(op, 0), **argv = A_LIST(op, 1), **envp = A_LIST(op, 2);
  int saved = ENOENT;
  exec_signals();
  for (uint32_t i = 0; i < A_COUNT(op, 0); i++) {
    execve(candidates[i], argv, envp);
    /* execvp's rules: keep looking past missing entries, remember a permission error. */
    if (errno == EACCES) saved = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) fail("execve", errno, candidates[i], NULL);
  }
  fail("execve", saved, argv[0], NULL);
}
