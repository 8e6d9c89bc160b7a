/*
 * brig-runtime's executable, and (built with -DBRIG_CLI) brig's: runs the pinned Node on the
 * bundle (dist/brig-runtime.cjs, dist/brig.cjs), as the shell wrappers did, and for the verbs
 * that start a container process in this process forks the native helper's stage 0 first, so that its start-up (exec, sealing itself, dynamic linking) overlaps
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
 *
 * `start` and `delete` may not need Node at all: create leaves plans for them that this
 * program carries out while they still hold (fastpath.c, src/runtime/fast-plan.ts).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "fastpath.h"

#ifdef BRIG_CLI
#define PROGRAM "brig"
#define BUNDLE "brig.cjs"
#else
#define PROGRAM "brig-runtime"
#define BUNDLE "brig-runtime.cjs"
#endif

static int has_arg(int argc, char **argv, const char *arg) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], arg) == 0) return 1;
  return 0;
}

#ifdef BRIG_CLI
/*
 * Whether the container will read this process's stdin: -i or -t (alone or among other
 * short flags, -it, -dit) or their long forms anywhere in argv. A guess: a wrong one only
 * leaves the stage 0 unused (Node checks the stdin it was given against the container's).
 */
static int wants_stdin(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--interactive") || !strcmp(a, "--interactive=true") || !strcmp(a, "--tty") || !strcmp(a, "--tty=true")) return 1;
    if (a[0] != '-' || a[1] == '-' || !a[1]) continue;
    int letters = 1, it = 0;
    for (const char *c = a + 1; *c; c++) {
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) letters = 0;
      if (*c == 'i' || *c == 't') it = 1;
    }
    if (letters && it) return 1;
  }
  return 0;
}
#endif

static int wants_stage0(int argc, char **argv) {
#ifdef BRIG_CLI
  /* brig runs a container in its own process only for a foreground `run --rm` (a kept one is
     started by its monitor); a remote engine (-H) runs none. */
  return has_arg(argc, argv, "run") && (has_arg(argc, argv, "--rm") || has_arg(argc, argv, "--rm=true")) && !has_arg(argc, argv, "-H") &&
         !has_arg(argc, argv, "--host") && !getenv("DOCKER_HOST");
#else
  return has_arg(argc, argv, "run") || has_arg(argc, argv, "create") || has_arg(argc, argv, "exec");
#endif
}

/* A copy of fd at the lowest free number >= 3, inheritable across exec. */
static int inheritable(int fd) {
  int n = fcntl(fd, F_DUPFD, 3);
  if (n >= 0) close(fd);
  return n;
}

/*
 * The env entry "NAME=pid,fd,fd,...[,extra]" that hands a child forked ahead and both ends
 * of its pipes to Node, the fds made inheritable (they must survive exec). NULL when that
 * fails: then nothing of the child stays behind (its fds closed, it killed and reaped), and
 * Node does without it. extra < 0: none.
 */
static char *handover(const char *name, pid_t pid, int *fds, int n, int extra) {
  char *out = malloc(160);
  int at = out ? snprintf(out, 160, "%s=%d", name, (int)pid) : 0;
  for (int i = 0; out && i < n; i++) {
    int fd = inheritable(fds[i]);
    if (fd < 0) {
      free(out);
      out = NULL;
      break;
    }
    fds[i] = fd;
    at += snprintf(out + at, 160 - (size_t)at, ",%d", fd);
  }
  if (out && extra >= 0) snprintf(out + at, 160 - (size_t)at, ",%d", extra);
  if (!out) {
    for (int i = 0; i < n; i++) close(fds[i]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  return out;
}

/*
 * Forks stage 0 on three pipes; returns the env entry for Node, or NULL (Node spawns its own).
 * stdin_null: its stdin is /dev/null (what Node gives a container run without -i), said in
 * the entry's last field, so that Node uses this stage 0 only for a container with that stdin.
 */
static char *prespawn(const char *helper, int stdin_null) {
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
    if (stdin_null) {
      /* O_RDWR, as libuv opens it for an ignored stdio slot. */
      int null = open("/dev/null", O_RDWR);
      if (null < 0 || dup2(null, 0) < 0) _exit(2);
      if (null != 0) close(null);
    }
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
  return handover("_BRIG_STAGE0", pid, fds, 6, stdin_null);
}

#ifdef BRIG_CLI
/*
 * Forks brig-spawner (native/spawn/spawner.c), which runs brig's tools for Node, on two
 * pipes: its stdin (requests) and stdout (replies). Returns the env entry for Node,
 * "_BRIG_SPAWNER=pid,to_r,to_w,from_r,from_w", both ends of each kept here as for stage 0;
 * NULL when it cannot (Node spawns its tools itself).
 */
static char *prespawn_spawner(const char *spawner, const char *dir) {
  int to[2], from[2];
  if (pipe2(to, O_CLOEXEC) < 0) return NULL;
  if (pipe2(from, O_CLOEXEC) < 0) {
    close(to[0]), close(to[1]);
    return NULL;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(to[0]), close(to[1]), close(from[0]), close(from[1]);
    return NULL;
  }
  if (pid == 0) {
    if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0) _exit(2);
    /* Nothing else: stage 0's pipes (inheritable, for Node) must not be held open by this
       process or the tools it runs. */
    if (close_range(3, ~0U, 0) < 0) _exit(2);
    char *args[] = {(char *)spawner, (char *)dir, NULL};
    execv(spawner, args);
    _exit(127);
  }
  int fds[4] = {to[0], to[1], from[0], from[1]};
  return handover("_BRIG_SPAWNER", pid, fds, 4, -1);
}
#endif

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

/*
 * Where brig is installed: the directory holding dist/brig-runtime.cjs (the bundle),
 * node_modules/node/bin/node (the pinned Node) and native/build/ (the helper). Tried in
 * this order, first match wins:
 *   1. $BRIG_HOME, when set: the only candidate (a wrong setting is an error, never a
 *      silent fall-back to another installation);
 *   2. beside this program: its real path (/proc/self/exe, every symlink resolved by the
 *      kernel) is <home>/native/build/brig-runtime (or brig) — the repository, and the npm
 *      package;
 *   3. the directory it was built in (BRIG_HOME_BUILTIN, from the Makefile; `make
 *      BRIG_HOME=DIR` bakes another), so a copy such as `install -m755 bin/brig-runtime
 *      /usr/local/bin/` finds the tree it came from.
 * The candidates and why each failed are kept for the error message.
 */
#ifndef BRIG_HOME_BUILTIN
#define BRIG_HOME_BUILTIN ""
#endif

struct home {
  char node[PATH_MAX], bundle[PATH_MAX], helper[PATH_MAX], cache[PATH_MAX], spawner[PATH_MAX], native[PATH_MAX];
  char tried[4096];
  size_t at;
};

/* One line of the error message: a candidate and why it is not an installation. */
__attribute__((format(printf, 2, 3))) static void tried(struct home *h, const char *fmt, ...) {
  if (h->at >= sizeof h->tried) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(h->tried + h->at, sizeof h->tried - h->at, fmt, ap);
  va_end(ap);
  if (n > 0) h->at += (size_t)n;
}

/* Fills h's paths if dir is an installation; else records why not, under `source`. */
static int try_home(struct home *h, const char *dir, const char *source) {
  if (snprintf(h->node, sizeof h->node, "%s/node_modules/node/bin/node", dir) >= (int)sizeof h->node ||
      snprintf(h->bundle, sizeof h->bundle, "%s/dist/" BUNDLE, dir) >= (int)sizeof h->bundle ||
      snprintf(h->helper, sizeof h->helper, "%s/native/build/brig-helper", dir) >= (int)sizeof h->helper ||
      snprintf(h->spawner, sizeof h->spawner, "%s/native/build/brig-spawner", dir) >= (int)sizeof h->spawner ||
      snprintf(h->native, sizeof h->native, "%s/native/build", dir) >= (int)sizeof h->native ||
      snprintf(h->cache, sizeof h->cache, "%s/dist/.compile-cache", dir) >= (int)sizeof h->cache) {
    tried(h, "  %s: %s: path too long\n", source, dir);
    return 0;
  }
  const char *missing = access(h->bundle, R_OK) != 0 ? h->bundle : access(h->node, X_OK) != 0 ? h->node : NULL;
  if (!missing) return 1;
  tried(h, "  %s: %s: %s\n", source, missing, strerror(errno));
  return 0;
}

static int find_home(struct home *h) {
  const char *env = getenv("BRIG_HOME");
  if (env && *env) {
    char source[PATH_MAX + 16];
    snprintf(source, sizeof source, "BRIG_HOME=%s", env);
    return try_home(h, env, source);
  }
  tried(h, "  BRIG_HOME: not set\n");
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    /* <home>/native/build/PROGRAM: the last three components go. */
    char *end = strrchr(self, '/');
    const char *suffix = "/native/build";
    size_t len = strlen(suffix);
    if (end && (size_t)(end - self) >= len && strncmp(end - len, suffix, len) == 0) {
      char source[PATH_MAX + 32];
      snprintf(source, sizeof source, "beside this program (%s)", self);
      end[-(ptrdiff_t)len] = '\0';
      if (try_home(h, *self ? self : "/", source)) return 1;
    } else {
      tried(h, "  beside this program: %s is not in <home>/native/build/\n", self);
    }
  } else {
    tried(h, "  beside this program: /proc/self/exe: %s\n", strerror(errno));
  }
  if (*BRIG_HOME_BUILTIN) {
    char source[PATH_MAX + 32];
    snprintf(source, sizeof source, "built in (%s)", BRIG_HOME_BUILTIN);
    return try_home(h, BRIG_HOME_BUILTIN, source);
  }
  tried(h, "  built in: none (built without BRIG_HOME_BUILTIN)\n");
  return 0;
}

int main(int argc, char **argv) {
  ensure_stdio();
  /* Never pass on values from our own caller: Node would trust them. */
  unsetenv("_BRIG_STAGE0");
  unsetenv("_BRIG_SPAWNER");
  unsetenv("_BRIG_START_FAILED");
#ifdef BRIG_CLI
  /* brig serve runs for days: glibc's malloc must give freed memory back. By default it
     raises its trim and mmap thresholds after the first big free (up to 32/64 MiB), and then
     keeps what it freed at the top of the heap: over 10,000 API create/start/remove cycles
     the server's RSS rose ~18 MiB before it levelled off, with the JS heap flat. Fixed at
     glibc's own defaults (128 KiB), RSS stays flat after the first ~1,500
     (bench/api-soak.ts). The caller's values win. */
  if (argc > 1 && strcmp(argv[1], "serve") == 0) {
    setenv("MALLOC_TRIM_THRESHOLD_", "131072", 0);
    setenv("MALLOC_MMAP_THRESHOLD_", "131072", 0);
  }
#else
  /* start and delete from a plan create wrote, when it still holds (fastpath.c). */
  char *handoff = NULL;
  switch (fastpath(argc, argv, &handoff)) {
  case FAST_DONE:
    return 0;
  case FAST_FAILED:
    return 1;
  case FAST_HANDOFF:
    putenv(handoff);
    break;
  }
#endif
  static struct home h;
  if (!find_home(&h)) {
    fprintf(stderr,
            PROGRAM ": cannot find brig's installation (dist/" BUNDLE " and node_modules/node/bin/node); "
            "looked at:\n%s"
            "hint: set BRIG_HOME to the directory brig was built or installed in (the one holding dist/ and "
            "node_modules/)\n",
            h.tried);
    return 127;
  }
  setenv("NODE_COMPILE_CACHE", h.cache, 0);
  if (wants_stage0(argc, argv) && access(h.helper, X_OK) == 0) {
#ifdef BRIG_CLI
    /* brig run gives a container without -i /dev/null for stdin; brig-runtime passes its own. */
    char *entry = prespawn(h.helper, !wants_stdin(argc, argv));
    /* And the tools a run --rm starts (brig-net, brig-mount), run by a process forked now. */
    if (access(h.spawner, X_OK) == 0) {
      char *spawner = prespawn_spawner(h.spawner, h.native);
      if (spawner) putenv(spawner);
    }
#else
    char *entry = prespawn(h.helper, 0);
#endif
    if (entry) putenv(entry);
  }
  /* "--" before the bundle: Node reads --env-file anywhere in its argv otherwise (and loads
     the file into our environment), even past the script, so a container's own argument
     could steer brig-runtime. */
  char **args = calloc((size_t)argc + 3, sizeof *args);
  if (!args) return 127;
  args[0] = h.node;
  args[1] = "--";
  args[2] = h.bundle;
  for (int i = 1; i < argc; i++) args[i + 2] = argv[i];
  execv(h.node, args);
  fprintf(stderr, PROGRAM ": cannot run %s: %s (run `npm ci`)\n", h.node, strerror(errno));
  return 127;
}
