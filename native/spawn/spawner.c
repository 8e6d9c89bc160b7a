/*
 * brig-spawner: runs brig's own tools for the Node process it was forked for, so that Node
 * does not spawn them itself. brig's launcher forks it ahead of Node for a foreground
 * `run --rm` (native/launch/launch.c); Node writes requests on fd 0 and reads replies on
 * fd 1 (src/native/spawner.ts). A child_process spawn costs Node's main thread 8-17 ms here
 * (the first one also loads child_process, net and stream), a fork of this small process
 * well under one; a run --rm on a bridge starts brig-net twice.
 *
 * Request:  an id (decimal), the program's absolute path, then its arguments, each
 *           NUL-terminated, and an empty string (one more NUL) to end it. Only programs in
 *           DIR (argv[1], brig's native/build) are run: a request is a choice among brig's
 *           tools, nothing more. Requests may follow each other before any reply: each runs
 *           at once, in a process of its own (a network teardown and a rootfs unmount at the
 *           end of a run --rm go side by side).
 * Replies, each frame at most PIPE_BUF bytes (written whole, so frames of different requests
 *           interleave but never mix):
 *           'O' u32 id, u32 n, n bytes  a chunk of the program's stdout, as it comes
 *           'E' u32 id, u32 n, n bytes  a chunk of its stderr
 *           'X' u32 id, i32 status      its exit (code, or 128+signal; -errno when it could
 *                                       not be started), after all its output
 * u32 and i32 are little-endian. EOF on fd 0 ends this process; so does its parent's end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST (1 << 20)
#define MAX_ARGS 256

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Chunks small enough that a frame (9 bytes of head) stays within PIPE_BUF. */
#define CHUNK (PIPE_BUF - 16)

static uint32_t request_id;

/* One frame in one write (<= PIPE_BUF: atomic on a pipe, whatever other handlers write). */
static void frame(char kind, const void *data, uint32_t n) {
  char buf[PIPE_BUF];
  buf[0] = kind;
  memcpy(buf + 1, &request_id, 4);
  memcpy(buf + 5, &n, 4);
  memcpy(buf + 9, data, n);
  if (write_all(1, buf, 9 + (size_t)n) < 0) _exit(0);
}

static void reply_exit(int32_t status, const char *err) {
  if (err) frame('E', err, (uint32_t)strlen(err));
  char buf[9];
  buf[0] = 'X';
  memcpy(buf + 1, &request_id, 4);
  memcpy(buf + 5, &status, 4);
  if (write_all(1, buf, 9) < 0) _exit(0);
}

/* In a handler process of its own: runs argv, relays its output, reports its exit. */
static void run(char **argv, const char *dir) {
  size_t dlen = strlen(dir);
  if (strncmp(argv[0], dir, dlen) != 0 || argv[0][dlen] != '/' || strchr(argv[0] + dlen + 1, '/') || strstr(argv[0], "..")) {
    reply_exit(-EPERM, "not one of brig's tools");
    return;
  }
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    reply_exit(-errno, NULL);
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    reply_exit(-errno, NULL);
    return;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  struct pollfd p[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[CHUNK];
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
        continue;
      }
      frame(i == 0 ? 'O' : 'E', buf, (uint32_t)n);
    }
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) {
      reply_exit(-errno, NULL);
      return;
    }
  reply_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), NULL);
}

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] != '/') return 2;
  /* Gone with the Node process it serves, whatever becomes of the pipes. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  /* Handlers are reaped by the kernel; each resets this for the tool it waits for. */
  signal(SIGCHLD, SIG_IGN);
  static char buf[MAX_REQUEST];
  size_t have = 0;
  for (;;) {
    /* A request ends at an empty string: two NULs in a row (no field is empty). */
    char *end = NULL;
    for (size_t i = 1; i < have; i++)
      if (buf[i] == '\0' && buf[i - 1] == '\0') {
        end = buf + i;
        break;
      }
    if (!end) {
      if (have == sizeof buf) return 2;
      ssize_t r = read(0, buf + have, sizeof buf - have);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return have == 0 ? 0 : 2;
      have += (size_t)r;
      continue;
    }
    char *args[MAX_ARGS + 2];
    int count = 0;
    for (char *p = buf; p < end && *p && count < MAX_ARGS + 1; p += strlen(p) + 1) args[count++] = p;
    args[count] = NULL;
    if (count < 2) return 2;
    request_id = (uint32_t)strtoul(args[0], NULL, 10);
    pid_t pid = fork();
    if (pid == 0) {
      signal(SIGCHLD, SIG_DFL);
      run(args + 1, argv[1]);
      _exit(0);
    }
    if (pid < 0) reply_exit(-errno, NULL);
    size_t used = (size_t)(end - buf) + 1;
    memmove(buf, buf + used, have - used);
    have -= used;
  }
}
