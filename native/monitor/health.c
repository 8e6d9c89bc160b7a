/*
 * Health probes, run by the monitor itself (docker's daemon/health.go, without a daemon).
 *
 * A probe is the native helper running an exec plan TypeScript compiled at create time:
 * join the container's namespaces and cgroups, become the container's user with its
 * capabilities and seccomp filter, exec the probe command. The plan names the namespaces by
 * paths relative to its working directory ("ns/mnt", ...), and the monitor starts the helper
 * in /proc/<init pid>: one plan serves every run of the container, restarts included, and
 * no Node starts for a probe. The helper speaks its usual protocol on fd 3 (PLAN, then PID,
 * GO, READY, START, as src/native/helper.ts drives it) and, since the plan waits for the
 * probe, exits with its exit code (128+n when signal n ended it).
 *
 * What is recorded is docker's: the status (starting, healthy, unhealthy), the failing
 * streak, the last five results with start and end times, exit code and the first 4096
 * bytes of output; failures inside the start period do not count while starting; a probe
 * that outlives its timeout is killed and recorded as exit code -1 with docker's message.
 * The state goes to a JSON file in docker's State.Health shape, written atomically after
 * every probe, for `inspect` and `ps --filter health=` to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define OUTPUT_MAX 4096 /* docker's maxOutputLen */
#define LOG_MAX 5       /* docker's maxLogEntries */
#define MSG_PLAN 1
#define MSG_PID 2
#define MSG_GO 3
#define MSG_READY 4
#define MSG_START 5

struct result {
  char start[40], end[40];
  int exit_code;
  size_t len;
  char output[OUTPUT_MAX];
};

static struct {
  int on;
  const char *helper, *file;
  const uint8_t *plan;
  size_t plan_len;
  long interval, timeout, start_period, start_interval;
  long retries;
  /* state */
  int status; /* HEALTH_* */
  long streak;
  struct result log[LOG_MAX];
  int nlog;
  long started_at; /* the container's start, ms (monotonic) */
  long next_at;    /* when the next probe is due */
  /* the probe under way */
  pid_t helper_pid, probe_pid;
  int out_fd;
  long deadline;
  int timed_out;
  struct result cur;
  void (*event)(const char *status);
} h = {.out_fd = -1};

static const char *STATUS[] = {"none", "starting", "healthy", "unhealthy"};

static long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void health_config(const char *helper, const uint8_t *plan, size_t plan_len, long interval, long timeout, long start_period, long start_interval, long retries,
                   const char *file) {
  h.on = 1;
  h.helper = helper, h.plan = plan, h.plan_len = plan_len;
  h.interval = interval, h.timeout = timeout, h.start_period = start_period, h.start_interval = start_interval;
  h.retries = retries > 0 ? retries : 3;
  h.file = file;
}

/* The time until the next probe: the start interval while starting inside the start period. */
static long next_interval(long now) {
  if (h.status == HEALTH_STARTING && h.start_interval > 0 && now - h.started_at < h.start_period) return h.start_interval;
  return h.interval;
}

/* Go's time.Duration.String() of whole milliseconds, as docker words the timeout: 300ms, 1.5s, 1m0s, 1h0m0s. */
static void go_duration(char *out, size_t cap, long ms) {
  if (ms < 1000) {
    snprintf(out, cap, "%ldms", ms);
    return;
  }
  char sec[24];
  long s = (ms / 1000) % 60, frac = ms % 1000;
  if (frac) {
    snprintf(sec, sizeof sec, "%ld.%03ld", s, frac);
    size_t n = strlen(sec);
    while (sec[n - 1] == '0') sec[--n] = '\0';
  } else {
    snprintf(sec, sizeof sec, "%ld", s);
  }
  long m = (ms / 60000) % 60, hr = ms / 3600000;
  if (hr) snprintf(out, cap, "%ldh%ldm%ss", hr, m, sec);
  else if (m) snprintf(out, cap, "%ldm%ss", m, sec);
  else snprintf(out, cap, "%ss", sec);
}

static void write_state(void) {
  static char buf[LOG_MAX * (OUTPUT_MAX * 6 + 256) + 256];
  char tmp[4200];
  size_t n = (size_t)snprintf(buf, sizeof buf, "{\"Status\":\"%s\",\"FailingStreak\":%ld,\"Log\":[", STATUS[h.status], h.streak);
  for (int i = 0; i < h.nlog; i++) {
    const struct result *r = &h.log[i];
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"", i ? "," : "", r->start, r->end, r->exit_code);
    n += json_escape(buf + n, r->output, r->len);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"}");
  }
  n += (size_t)snprintf(buf + n, sizeof buf - n, "]}\n");
  snprintf(tmp, sizeof tmp, "%s.tmp", h.file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  if (write(fd, buf, n) == (ssize_t)n) rename(tmp, h.file);
  else unlink(tmp);
  close(fd);
}

/* A new run of the container: starting again, the first probe one interval away. */
void health_reset(void) {
  if (!h.on) return;
  long now = mono_ms();
  h.status = HEALTH_STARTING;
  h.streak = 0;
  h.started_at = now;
  h.next_at = now + next_interval(now);
  write_state();
}

static void record(void) {
  struct result *r = &h.cur;
  rfc3339nano(r->end, sizeof r->end, NULL);
  if (h.nlog == LOG_MAX) {
    memmove(h.log, h.log + 1, sizeof h.log[0] * (LOG_MAX - 1));
    h.nlog--;
  }
  h.log[h.nlog++] = *r;
  int old = h.status;
  if (r->exit_code == 0) {
    h.streak = 0;
    h.status = HEALTH_HEALTHY;
  } else {
    /* Starting (never healthy yet) and inside the start period: the failure does not count. */
    int counts = !(h.status == HEALTH_STARTING && h.deadline - h.timeout - h.started_at < h.start_period);
    if (counts && ++h.streak >= h.retries) h.status = HEALTH_UNHEALTHY;
  }
  write_state();
  if (old != h.status && h.event) h.event(STATUS[h.status]);
}

static void finish(int exit_code) {
  if (h.out_fd >= 0) {
    health_read();
    close(h.out_fd);
    h.out_fd = -1;
  }
  h.cur.exit_code = exit_code;
  if (h.timed_out) {
    char d[48];
    go_duration(d, sizeof d, h.timeout);
    h.cur.exit_code = -1;
    h.cur.len = (size_t)snprintf(h.cur.output, sizeof h.cur.output, "Health check exceeded timeout (%s)", d);
  }
  h.helper_pid = h.probe_pid = 0;
  record();
  long now = mono_ms();
  h.next_at = now + next_interval(now);
}

static int send_msg(int fd, uint32_t type, const void *p, uint32_t len) {
  uint32_t hdr[2] = {type, len};
  if (write(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr) return -1;
  return len && write(fd, p, len) != (ssize_t)len ? -1 : 0;
}

/* One message: its type, or -1. The payload (at most cap bytes) goes to buf. */
static int recv_msg(int fd, void *buf, uint32_t cap) {
  uint32_t hdr[2];
  if (recv(fd, hdr, sizeof hdr, MSG_WAITALL) != (ssize_t)sizeof hdr) return -1;
  if (hdr[1] > cap || (hdr[1] && recv(fd, buf, hdr[1], MSG_WAITALL) != (ssize_t)hdr[1])) return -1;
  return (int)hdr[0];
}

static void start_probe(long init_pid) {
  memset(&h.cur, 0, sizeof h.cur);
  rfc3339nano(h.cur.start, sizeof h.cur.start, NULL);
  h.timed_out = 0;
  h.deadline = mono_ms() + h.timeout;
  int sv[2], out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) goto failed;
  if (pipe2(out, O_CLOEXEC) < 0) {
    close(sv[0]), close(sv[1]);
    goto failed;
  }
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%ld", init_pid);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    int null = open("/dev/null", O_RDONLY);
    if (chdir(dir) < 0) _exit(126);
    dup2(null, 0), dup2(out[1], 1), dup2(out[1], 2), dup2(sv[1], 3);
    syscall(SYS_close_range, 4, ~0U, 0);
    char *argv[] = {"brig-helper", "3", NULL};
    char *envp[] = {NULL};
    execve(h.helper, argv, envp);
    _exit(127);
  }
  close(out[1]);
  close(sv[1]);
  if (pid < 0) {
    close(out[0]), close(sv[0]);
    goto failed;
  }
  h.helper_pid = pid;
  h.out_fd = out[0];
  fcntl(h.out_fd, F_SETFL, O_NONBLOCK);
  /* The exchange takes milliseconds; a helper stuck in it is cut off at the probe's timeout. */
  struct timeval tv = {.tv_sec = h.timeout / 1000, .tv_usec = (h.timeout % 1000) * 1000};
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  uint32_t probe = 0;
  int ok = send_msg(sv[0], MSG_PLAN, h.plan, (uint32_t)h.plan_len) == 0 && recv_msg(sv[0], &probe, sizeof probe) == MSG_PID;
  if (ok) h.probe_pid = (pid_t)probe;
  ok = ok && send_msg(sv[0], MSG_GO, NULL, 0) == 0 && recv_msg(sv[0], NULL, 0) == MSG_READY && send_msg(sv[0], MSG_START, NULL, 0) == 0;
  close(sv[0]);
  if (!ok) {
    /* The helper reports why on its control channel and exits non-zero; the probe failed. */
    if (h.probe_pid > 0) kill(h.probe_pid, SIGKILL);
    h.cur.len = (size_t)snprintf(h.cur.output, sizeof h.cur.output, "the health probe could not be started in the container");
  }
  return;
failed:
  h.cur.len = (size_t)snprintf(h.cur.output, sizeof h.cur.output, "the health probe could not be started: %s", strerror(errno));
  finish(-1);
}

int health_fd(void) { return h.out_fd; }

void health_read(void) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(h.out_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {
        close(h.out_fd);
        h.out_fd = -1;
      }
      return;
    }
    size_t room = OUTPUT_MAX - h.cur.len, take = (size_t)n < room ? (size_t)n : room;
    memcpy(h.cur.output + h.cur.len, buf, take); /* docker keeps the first 4096 bytes */
    h.cur.len += take;
  }
}

/* Probes due or overdue; returns the ms until something is next due (-1: nothing). */
long health_tick(long init_pid) {
  if (!h.on || init_pid <= 0) return -1;
  long now = mono_ms();
  if (h.helper_pid) {
    if (now >= h.deadline && !h.timed_out) {
      h.timed_out = 1;
      if (h.probe_pid > 0) kill(h.probe_pid, SIGKILL);
      kill(h.helper_pid, SIGKILL);
    }
    return h.timed_out ? 100 : h.deadline - now;
  }
  if (now >= h.next_at) {
    start_probe(init_pid);
    return h.helper_pid ? h.deadline - mono_ms() : h.next_at - mono_ms();
  }
  return h.next_at - now;
}

/* 1 if pid was the probe's helper (its exit is the probe's). */
int health_reaped(pid_t pid, int status) {
  if (!h.on || !h.helper_pid || pid != h.helper_pid) return 0;
  finish(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 1;
}

/* The container stopped: a probe under way is abandoned (its process died with the container). */
void health_stop(void) {
  if (!h.on) return;
  if (h.helper_pid) {
    kill(h.helper_pid, SIGKILL);
    waitpid(h.helper_pid, NULL, 0);
    h.helper_pid = h.probe_pid = 0;
  }
  if (h.out_fd >= 0) close(h.out_fd);
  h.out_fd = -1;
}

void health_on_change(void (*event)(const char *status)) { h.event = event; }
