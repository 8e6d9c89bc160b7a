/*
 * The launcher's fast `start` and `delete`: it carries out a plan that `create` wrote in the
 * container's state directory, and Node never starts. src/runtime/fast-plan.ts explains the
 * model and the file format; this file only interprets it. Every decision is in the plan:
 * here are the argv shapes that name a plan, the operations, and one rule — an operation
 * that does not hold before the plan's `commit` sends the command to Node unchanged, one that
 * fails after it is the command's error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fastpath.h"

#define MAX_ARGS 64
#define MAX_OPS 64
#define MAX_PLAN (4 << 20)

struct arg {
  char *p;
  size_t n;
};

struct run {
  const char *id;
  char dir[PATH_MAX];
  int fifo;
  char why[PATH_MAX + 128];
};

enum { OP_OK, OP_NO, OP_HANDOFF };

static int no(struct run *r, const char *what, int err) {
  snprintf(r->why, sizeof r->why, "%s: %s", what, strerror(err));
  return OP_NO;
}

/* Which plan argv names, or NULL (then Node): [--root DIR | --log F | --log-format text|json]... */
static const char *plan_for(int argc, char **argv, const char **root, const char **id) {
  int i = 1;
  *root = NULL;
  while (i < argc && argv[i][0] == '-') {
    if (i + 1 >= argc) return NULL;
    if (strcmp(argv[i], "--root") == 0) {
      *root = argv[i + 1];
    } else if (strcmp(argv[i], "--log-format") == 0) {
      if (strcmp(argv[i + 1], "text") != 0 && strcmp(argv[i + 1], "json") != 0) return NULL;
    } else if (strcmp(argv[i], "--log") != 0) {
      return NULL;
    }
    i += 2;
  }
  if (!*root || **root == '\0' || i >= argc) return NULL;
  const char *verb = argv[i++], *file;
  if (strcmp(verb, "start") == 0 && argc - i == 1) {
    file = "fast-start";
  } else if (strcmp(verb, "delete") == 0 && argc - i == 1) {
    file = "fast-delete";
  } else if (strcmp(verb, "delete") == 0 && argc - i == 2 &&
             (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)) {
    file = "fast-delete-force";
    i++;
  } else {
    return NULL;
  }
  *id = argv[i];
  /* Only a name inside the root; Node words every other id's error. */
  if (**id == '\0' || **id == '-' || strchr(*id, '/') || strcmp(*id, ".") == 0 || strcmp(*id, "..") == 0) return NULL;
  return file;
}

/* The whole file, NUL-terminated; NULL with errno. */
static char *slurp(const char *path, size_t *len, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  char *buf = NULL;
  int err = 0;
  if (fstat(fd, &st) < 0) err = errno;
  else if ((size_t)st.st_size > max) err = EFBIG;
  else if (!(buf = malloc((size_t)st.st_size + 1))) err = ENOMEM;
  size_t got = 0;
  ssize_t n;
  while (buf && got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0) got += (size_t)n;
  close(fd);
  if (!buf) {
    errno = err;
    return NULL;
  }
  buf[got] = '\0';
  *len = got;
  return buf;
}

/* /proc/<pid>/stat shows the process started at `start` and not yet dead. */
static int alive(long pid, const char *start) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  /* Field 3 (state) follows the last ")"; field 22 (start time) is 19 fields later. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return 0;
  char *state = p + 2;
  if (*state == 'Z' || *state == 'X') return 0;
  p = state;
  for (int f = 0; f < 19 && p; f++) p = strchr(p + 1, ' ');
  if (!p) return 0;
  size_t len = strcspn(p + 1, " \n");
  return strlen(start) == len && strncmp(p + 1, start, len) == 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int same_dir(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISDIR(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int op_release(struct run *r, const char *fifo, long pid, const char *start, long timeout) {
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return no(r, fifo, errno);
  long t0 = now_ms();
  for (;;) {
    /* Asked before the read: init may write, exec and exit between a read and a look. */
    int was_alive = alive(pid, start);
    char b;
    ssize_t n = read(fd, &b, 1);
    if (n == 1) {
      r->fifo = fd;
      return OP_OK;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    if (!was_alive || now_ms() - t0 > timeout) break;
    /* No writer yet: poll wakes on the byte. A writer gone without one: poll would not wait. */
    if (n < 0) poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 5);
    else sleep_ms(1);
  }
  close(fd);
  snprintf(r->why, sizeof r->why, "%s: init did not release", fifo);
  return OP_NO;
}

static int op_await_exec(struct run *r, size_t size, char **handoff) {
  int fl = fcntl(r->fifo, F_GETFL);
  if (fl < 0 || fcntl(r->fifo, F_SETFL, fl & ~O_NONBLOCK) < 0) return no(r, "exec FIFO", errno);
  char buf[4096];
  if (size > sizeof buf) size = sizeof buf;
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(r->fifo, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return no(r, "exec FIFO", errno);
    if (n == 0) break;
    got += (size_t)n;
  }
  close(r->fifo);
  r->fifo = -1;
  if (got == 0) return OP_OK;
  static const char prefix[] = "_BRIG_START_FAILED=";
  char *env = malloc(sizeof prefix + 2 * got);
  if (!env) return no(r, "exec FIFO", ENOMEM);
  memcpy(env, prefix, sizeof prefix - 1);
  for (size_t i = 0; i < got; i++) snprintf(env + sizeof prefix - 1 + 2 * i, 3, "%02x", (unsigned char)buf[i]);
  *handoff = env;
  return OP_HANDOFF;
}

static int op_write_file(struct run *r, const char *path, const struct arg *content) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.fast.tmp", path) >= (int)sizeof tmp) return no(r, path, ENAMETOOLONG);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return no(r, tmp, errno);
  size_t done = 0;
  while (done < content->n) {
    ssize_t n = write(fd, content->p + done, content->n - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      unlink(tmp);
      return no(r, tmp, err);
    }
    done += (size_t)n;
  }
  if (close(fd) < 0 || rename(tmp, path) < 0) {
    int err = errno;
    unlink(tmp);
    return no(r, path, err);
  }
  return OP_OK;
}

/* Each entry of dir: 1 if every one is a plain (non-directory) entry; unlink them with `remove`. */
static int each_file(struct run *r, const char *dir, int remove) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return no(r, dir, errno);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return no(r, dir, errno);
  }
  int rc = OP_OK;
  struct dirent *e;
  while (rc == OP_OK && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    int isdir = e->d_type == DT_DIR ||
                (e->d_type == DT_UNKNOWN && fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
    if (isdir) rc = no(r, e->d_name, EISDIR);
    else if (remove && unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) rc = no(r, e->d_name, errno);
  }
  closedir(d);
  if (rc == OP_OK && remove && rmdir(dir) < 0) return no(r, dir, errno);
  return rc;
}

static int run_op(struct run *r, const char *name, struct arg *a, int n, char **handoff) {
#define NEED(k)                                                         \
  do {                                                                  \
    if (n < (k)) return no(r, name, EINVAL);                            \
  } while (0)
  if (strcmp(name, "container") == 0) {
    NEED(2);
    if (strlen(r->id) != a[0].n || memcmp(r->id, a[0].p, a[0].n) != 0 || !same_dir(a[1].p, r->dir))
      return no(r, r->dir, ENOENT);
    return OP_OK;
  }
  if (strcmp(name, "state-is") == 0) {
    NEED(2);
    size_t len;
    char *text = slurp(a[0].p, &len, MAX_PLAN);
    if (!text) return no(r, a[0].p, errno);
    int match = 0;
    for (int i = 1; i < n && !match; i++) match = a[i].n == len && memcmp(a[i].p, text, len) == 0;
    free(text);
    return match ? OP_OK : no(r, a[0].p, ESTALE);
  }
  if (strcmp(name, "init-alive") == 0 || strcmp(name, "init-gone") == 0) {
    NEED(2);
    int want = name[5] == 'a';
    return alive(atol(a[0].p), a[1].p) == want ? OP_OK : no(r, "init", want ? ESRCH : EBUSY);
  }
  if (strcmp(name, "kill-init") == 0) {
    NEED(3);
    long pid = atol(a[0].p), timeout = atol(a[2].p), t0 = now_ms();
    if (pid <= 0) return no(r, "init", EINVAL);
    if (alive(pid, a[1].p)) kill((pid_t)pid, SIGKILL);
    for (long step = 1; alive(pid, a[1].p); step = step < 10 ? step * 2 : 10) {
      if (now_ms() - t0 > timeout) return no(r, "init", ETIMEDOUT);
      sleep_ms(step);
    }
    return OP_OK;
  }
  if (strcmp(name, "release") == 0) {
    NEED(4);
    return op_release(r, a[0].p, atol(a[1].p), a[2].p, atol(a[3].p));
  }
  if (strcmp(name, "unlink") == 0) {
    NEED(1);
    return unlink(a[0].p) == 0 || errno == ENOENT ? OP_OK : no(r, a[0].p, errno);
  }
  if (strcmp(name, "write-file") == 0) {
    NEED(2);
    return op_write_file(r, a[0].p, &a[1]);
  }
  if (strcmp(name, "await-exec") == 0) {
    NEED(1);
    if (r->fifo < 0) return no(r, "exec FIFO", EBADF);
    return op_await_exec(r, (size_t)atol(a[0].p), handoff);
  }
  if (strcmp(name, "rmdir") == 0) {
    NEED(1);
    return rmdir(a[0].p) == 0 || errno == ENOENT ? OP_OK : no(r, a[0].p, errno);
  }
  if (strcmp(name, "rmdir-chain") == 0) {
    for (int i = 0; i < n; i++) {
      if (rmdir(a[i].p) == 0 || errno == ENOENT) continue;
      if (errno == EBUSY || errno == ENOTEMPTY) break;
      return no(r, a[i].p, errno);
    }
    return OP_OK;
  }
  if (strcmp(name, "only-files") == 0) {
    NEED(1);
    return each_file(r, a[0].p, 0);
  }
  if (strcmp(name, "remove-dir") == 0) {
    NEED(1);
    return each_file(r, a[0].p, 1);
  }
  return no(r, name, ENOSYS);
#undef NEED
}

/* One line: its name and arguments (" <len>:<bytes>" each), NUL-terminated in place. */
static int parse_line(char **cur, char *end, char **name, struct arg *a, int *n) {
  char *p = *cur;
  *name = p;
  while (p < end && *p != ' ' && *p != '\n') p++;
  *n = 0;
  while (p < end && *p == ' ') {
    *p++ = '\0';
    char *colon;
    unsigned long len = strtoul(p, &colon, 10);
    if (colon == p || colon >= end || *colon != ':' || len > (unsigned long)(end - colon - 1) || *n == MAX_ARGS) return -1;
    a[*n].p = colon + 1;
    a[*n].n = len;
    (*n)++;
    p = colon + 1 + len;
    if (p >= end || (*p != ' ' && *p != '\n')) return -1;
  }
  if (p >= end || *p != '\n') return -1;
  *p = '\0';
  *cur = p + 1;
  return 0;
}

int fastpath(int argc, char **argv, char **handoff) {
  const char *root, *id, *file = plan_for(argc, argv, &root, &id);
  if (!file) return FAST_NOT_TAKEN;
  static struct run r;
  r.id = id;
  r.fifo = -1;
  char path[PATH_MAX];
  if (snprintf(r.dir, sizeof r.dir, "%s/%s", root, id) >= (int)sizeof r.dir ||
      snprintf(path, sizeof path, "%s/%s", r.dir, file) >= (int)sizeof path)
    return FAST_NOT_TAKEN;
  size_t len;
  char *plan = slurp(path, &len, MAX_PLAN);
  if (!plan) return FAST_NOT_TAKEN;
  static const char header[] = "brig-fast 1\n";
  if (len < sizeof header - 1 || memcmp(plan, header, sizeof header - 1) != 0) return FAST_NOT_TAKEN;
  /* The whole plan is read before anything runs: a torn or foreign file is never half-done. */
  static struct line {
    char *name;
    struct arg a[MAX_ARGS];
    int n;
  } lines[MAX_OPS];
  int count = 0;
  char *cur = plan + sizeof header - 1, *end = plan + len;
  for (;;) {
    if (count == MAX_OPS || cur >= end || parse_line(&cur, end, &lines[count].name, lines[count].a, &lines[count].n) < 0)
      return FAST_NOT_TAKEN;
    if (strcmp(lines[count].name, "end") == 0) break;
    count++;
  }
  if (cur != end) return FAST_NOT_TAKEN;
  int committed = 0;
  for (int i = 0; i < count; i++) {
    const char *name = lines[i].name;
    if (strcmp(name, "commit") == 0) {
      committed = 1;
      continue;
    }
    int rc = run_op(&r, name, lines[i].a, lines[i].n, handoff);
    if (rc == OP_HANDOFF) return FAST_HANDOFF;
    if (rc == OP_OK) continue;
    if (!committed) {
      if (r.fifo >= 0) close(r.fifo);
      if (getenv("BRIG_FAST_DEBUG")) fprintf(stderr, "brig-runtime: %s: to Node: %s: %s\n", path, name, r.why);
      return FAST_NOT_TAKEN;
    }
    fprintf(stderr, "brig-runtime: %s\n", r.why);
    return FAST_FAILED;
  }
  return FAST_DONE;
}
