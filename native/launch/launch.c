/*
 * brig-runtime's executable: runs the pinned Node on the bundled runtime, as the shell
 * wrapper did, and for the verbs that start a container process forks the native helper's
 * stage 0 first, so that its start-up (exec, sealing itself, dynamic linking) overlaps
 * Node's instead of following a child_process spawn late in it. Measured here, loading
 * child_process and spawning cost Node ~5 ms of a ~55 ms `run`.
 *
 * It decides nothing about the container: stage 0 waits for a plan that only Node sends,
 * and Node may ignore it (it then reads EOF and exits). The verb test below is a guess
 * whose only cost when wrong is one idle helper for the life of the command.
 *
 * What Node receives, in _BRIG_STAGE0="pid,to_r,to_w,from_r,from_w,status_r,status_w":
 * three pipes with both ends open in Node (none close-on-exec: they must survive exec).
 * Node reopens the ends it keeps through /proc/self/fd — which gives close-on-exec
 * descriptors, so hooks and other children never inherit them — and closes these. Holding
 * both ends until then is what keeps those reopens from blocking on a missing peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const STAGE0_VERBS[] = {"run", "create", "exec"};

static int wants_stage0(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    for (size_t v = 0; v < sizeof STAGE0_VERBS / sizeof *STAGE0_VERBS; v++) {
      if (strcmp(argv[i], STAGE0_VERBS[v]) == 0) return 1;
    }
  }
  return 0;
}

/* A copy of fd at the lowest free number >= 3, inheritable across exec. */
static int inheritable(int fd) {
  int n = fcntl(fd, F_DUPFD, 3);
  if (n >= 0) close(fd);
  return n;
}

/* Forks stage 0 on three pipes; returns the env entry for Node, or NULL (Node spawns its own). */
static char *prespawn(const char *helper) {
  int to[2], from[2], status[2];
  if (pipe2(to, O_CLOEXEC) < 0) return NULL;
  if (pipe2(from, O_CLOEXEC) < 0) {
    close(to[0]), close(to[1]);
    return NULL;
  }
  if (pipe2(status, O_CLOEXEC) < 0) {
    close(to[0]), close(to[1]), close(from[0]), close(from[1]);
    return NULL;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(to[0]), close(to[1]), close(from[0]), close(from[1]), close(status[0]), close(status[1]);
    return NULL;
  }
  if (pid == 0) {
    /* The helper reads `to`, writes `from` and `status`; it makes them close-on-exec itself. */
    int in = inheritable(to[0]), out = inheritable(from[1]), st = inheritable(status[1]);
    if (in < 0 || out < 0 || st < 0) _exit(2);
    char a[16], b[16], c[16];
    snprintf(a, sizeof a, "%d", in);
    snprintf(b, sizeof b, "%d", out);
    snprintf(c, sizeof c, "%d", st);
    char *args[] = {(char *)helper, a, b, c, NULL};
    char *env[] = {NULL};
    execve(helper, args, env);
    _exit(127);
  }
  int fds[6] = {to[0], to[1], from[0], from[1], status[0], status[1]};
  char *out = malloc(128);
  int at = out ? snprintf(out, 128, "_BRIG_STAGE0=%d", (int)pid) : 0;
  for (int i = 0; out && i < 6; i++) {
    int fd = inheritable(fds[i]);
    if (fd < 0) {
      /* Give up cleanly: Node spawns its own stage 0; nothing of this one stays behind. */
      free(out);
      out = NULL;
      break;
    }
    fds[i] = fd;
    at += snprintf(out + at, 128 - (size_t)at, ",%d", fd);
  }
  if (!out) {
    for (int i = 0; i < 6; i++) close(fds[i]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  return out;
}

/*
 * fds 0-2 closed by the caller become /dev/null, as Node makes them for itself: else the
 * pipes below would take those numbers, and stage 0 (forked before Node reopens them) and
 * the container would start without stdio, their first open() landing on "stdout".
 */
static void ensure_stdio(void) {
  for (;;) {
    /* Inheritable on purpose, like the fds a caller leaves open. */
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) return;
    if (fd > 2) {
      close(fd);
      return;
    }
  }
}

int main(int argc, char **argv) {
  ensure_stdio();
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "brig-runtime: cannot find itself: /proc/self/exe: %s\n", strerror(errno));
    return 127;
  }
  self[n] = '\0';
  /* self is <repo>/native/build/brig-runtime */
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(self, '/');
    if (!slash) return 127;
    *slash = '\0';
  }
  char node[PATH_MAX], bundle[PATH_MAX], helper[PATH_MAX], cache[PATH_MAX];
  if (snprintf(node, sizeof node, "%s/node_modules/node/bin/node", self) >= (int)sizeof node ||
      snprintf(bundle, sizeof bundle, "%s/dist/brig-runtime.cjs", self) >= (int)sizeof bundle ||
      snprintf(helper, sizeof helper, "%s/native/build/brig-helper", self) >= (int)sizeof helper ||
      snprintf(cache, sizeof cache, "%s/dist/.compile-cache", self) >= (int)sizeof cache) {
    fprintf(stderr, "brig-runtime: path too long: %s\n", self);
    return 127;
  }
  setenv("NODE_COMPILE_CACHE", cache, 0);
  /* Never pass on a value from our own caller: Node would trust its fd numbers. */
  unsetenv("_BRIG_STAGE0");
  if (wants_stage0(argc, argv) && access(helper, X_OK) == 0) {
    char *entry = prespawn(helper);
    if (entry) putenv(entry);
  }
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) return 127;
  args[0] = node;
  args[1] = bundle;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(node, args);
  fprintf(stderr, "brig-runtime: cannot run %s: %s (run `npm ci`)\n", node, strerror(errno));
  return 127;
}
