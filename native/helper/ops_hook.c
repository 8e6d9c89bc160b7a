/*
 * OCI hooks that run inside the container (createContainer before the root switch,
 * startContainer after it): fork, give the hook the container state on stdin, exec it with
 * exactly the args and env of the config, wait up to its timeout. The caller runs the
 * hooks that belong to the runtime namespace itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void op_hook(const struct op *op) {
  const char *path = A_STR(op, 0);
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail("pipe2", errno, path, NULL);
  pid_t pid = fork();
  if (pid < 0) fail("fork", errno, path, NULL);
  if (pid == 0) {
    if (dup2(in[0], 0) < 0) _exit(126);
    syscall(SYS_close_range, 3, ~0U, 0);
    exec_signals();
    execve(path, A_LIST(op, 1), A_LIST(op, 2));
    _exit(127);
  }
  close(in[0]);
  /* The state may exceed the pipe buffer only if the hook never reads: then it times out. */
  if (hook_state_len && write(in[1], hook_state, hook_state_len) < 0 && errno != EPIPE) fail("write", errno, path, NULL);
  close(in[1]);
  long deadline = A_INT(op, 3) ? now_ms() + (long)A_INT(op, 3) : 0;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, deadline ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) fail("waitpid", errno, path, NULL);
    if (deadline && now_ms() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail_detail("hook", ETIMEDOUT, path, NULL, "timed out");
    }
    if (deadline) usleep(2000);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  char detail[64];
  if (WIFEXITED(status)) snprintf(detail, sizeof detail, "exit status %d", WEXITSTATUS(status));
  else snprintf(detail, sizeof detail, "killed by signal %d", WTERMSIG(status));
  fail_detail("hook", ECHILD, path, NULL, detail);
}
