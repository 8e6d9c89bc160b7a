/*
 * brig-monitor's life, in order:
 *  1. Read the plan from fd 0 (a pipe from the engine) and note what each op configures.
 *  2. Become a session leader and a child subreaper: the container's init, orphaned when the
 *     starter exits, becomes our child, so we can wait for it; the engine may exit meanwhile.
 *  3. Listen on the attach socket; with the plan's hold op, say "listening" on fd 3 and wait
 *     for the first client (so it misses no output), or exit if the engine goes first. Make
 *     the container's stdio (pipes, or a pty whose master the runtime sends to the console
 *     socket), start the starter (brig-runtime run -d ... as the plan says) with it.
 *  4. When the starter exits, tell the engine on fd 3: "started PID" (from the pid file) or
 *     "failed CODE"; then fd 3 is closed and the engine is free to go.
 *     With the stage0 op, the first run has no starter: the monitor forks the native helper's
 *     stage 0 on the control socket the engine gave it as fd 4 and says "stage0 PID" on fd 3;
 *     the engine, which has the runtime loaded already, drives stage 0 itself (no second
 *     Node per container) and answers "started" or "failed" on fd 3 (a socket both ways).
 *     Restarts, with no engine about, use the starter.
 *  5. Until init exits: copy output to the log and to attached clients, input from clients
 *     to the container's stdin, resize the pty.
 *  6. When init exits: drain its output (at most 1 s), write the exit record (status,
 *     signal, the OOM counter) atomically, with the plan's event ops append `oom` (the
 *     counter rose) and `die` to the event log (write_exit_record says when), close the
 *     clients, run the plan's on-exit command and wait for it, exit. (`start` is appended
 *     in step 4, before the engine is told, and again at every restart.)
 *  7. With a restart policy (docker's restart manager): unless the user stopped or killed it
 *     (the engine leaves a marker file first), decide from the exit code and the restart
 *     count whether to run it again; wait the back-off (100 ms, doubled each time, at most a
 *     minute, back to 100 ms after a run of 10 s or more), then go back to 3 with new stdio.
 *     run.json says what is going on meanwhile (pid, start, restart count, restarting).
 * Health probes (health.c) run while init does, from the same loop.
 * Every decision (paths, limits, commands, framing, policy) is the plan's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../common/fdpass.h"
#include "monitor.h"

#define MAX_CLIENTS 16
#define MSG_MAX 4096
#define PENDING_MAX (64u << 10)

extern char **environ;

static const char *exit_path, *attach_path, *pid_path, *oom_path, *oom_key, *console_path;
static int attach_framed;
static char **on_exit_argv, **on_exit_env, **start_argv, **start_env, **final_argv, **final_env;
/* MOP_EXIT_GRACE: a resident engine (brig serve) removes the container itself when it sees
 * the exit; the monitor gives it grace_ms, and runs its own clean-up only if the record is
 * still there after that (the server is gone, or slow). */
static const char *grace_path;
static long grace_ms;
static int want_stdin, hold;
/* MOP_STAGE0: the helper to fork as the first run's stage 0, on the engine's socket (fd). */
static const char *stage0_helper;
static int stage0_ctl = -1;
static const char *run_path, *stop_marker;
static long restart_policy, restart_max; /* RESTART_*; on-failure's most retries (0: no limit) */

struct client {
  int fd;
  uint8_t msg[8 + MSG_MAX];
  size_t got;
};
static struct client clients[MAX_CLIENTS];
static int nclients;

/* Where input for the container goes (the stdin pipe, or the pty master), and what waits. */
static int in_fd = -1;
static char pending[PENDING_MAX];
static size_t pending_len;

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_at(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return -1;
  strcpy(a.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  unlink(path);
  mode_t old = umask(0177); /* 0600: only root reaches a container's stdio */
  int r = bind(s, (struct sockaddr *)&a, sizeof a);
  umask(old);
  if (r < 0 || listen(s, 8) < 0) {
    close(s);
    return -1;
  }
  return s;
}

static void report(const char *fmt, long v) {
  char msg[64];
  int n = snprintf(msg, sizeof msg, fmt, v);
  if (write(3, msg, (size_t)n) < 0) { /* the engine is gone: nobody to tell */
  }
  close(3);
}

/* A line to the engine on fd 3 that leaves the channel open (more follows). */
static void tell(const char *fmt, long v) {
  char msg[64];
  int n = snprintf(msg, sizeof msg, fmt, v);
  if (write(3, msg, (size_t)n) < 0) { /* the engine is gone: its end reads as closed below */
  }
}

static long read_pid(void) {
  char buf[32] = {0};
  int fd = pid_path ? open(pid_path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static long read_counter(void) {
  if (!oom_path) return 0;
  char buf[4096];
  int fd = open(oom_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  size_t k = strlen(oom_key);
  for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    if (strncmp(l, oom_key, k) == 0 && l[k] == ' ') return strtol(l + k + 1, NULL, 10);
  }
  return 0;
}

/* Written whole to path.tmp, then renamed: readers see the old record or the new one. */
static void write_atomic(const char *path, const char *rec, int n, int sync) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  if (write(fd, rec, (size_t)n) == n && (!sync || fsync(fd) == 0)) rename(tmp, path);
  close(fd);
}

static long restart_count;

/* One run's end: {"pid","exitStatus","signal","oomKills","finishedAt"} (what the exit record holds). */
static int exit_fields(char *out, size_t cap, long pid, int status, long oom, const char *when) {
  return snprintf(out, cap, "\"pid\":%ld,\"exitStatus\":%d,\"signal\":%d,\"oomKills\":%ld,\"finishedAt\":\"%s\"", pid,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0, oom, when);
}

/* The die event of a run that ended (once): exit code as docker counts it, and how long it ran. */
static int die_sent;
static void emit_die(int status, long ran_ms) {
  if (die_sent) return;
  die_sent = 1;
  char code[16], took[24];
  snprintf(code, sizeof code, "%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  snprintf(took, sizeof took, "%ld", ran_ms / 1000);
  struct event_sub die[] = {{'x', code}, {'d', took}};
  event_emit("die", die, 2);
}

/*
 * The exit record, and the die event with it. The event goes out between the record's
 * fsync and its rename into place: a brig waiting for the exit (stop, rm -f) sees the
 * record only once `die` is in the event log, so its own `stop` or `destroy` comes after
 * it, in docker's order; and anyone reacting to the event finds the record there the
 * moment after (a rename away).
 */
static void write_exit_record(long pid, int status, long oom, long ran_ms) {
  if (!exit_path) {
    emit_die(status, ran_ms);
    return;
  }
  char when[64], fields[400], rec[512], tmp[4200];
  rfc3339nano(when, sizeof when, NULL);
  exit_fields(fields, sizeof fields, pid, status, oom, when);
  int n = snprintf(rec, sizeof rec, "{%s,\"restartCount\":%ld}\n", fields, restart_count);
  snprintf(tmp, sizeof tmp, "%s.tmp", exit_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  int ok = fd >= 0 && write(fd, rec, (size_t)n) == n && fsync(fd) == 0;
  emit_die(status, ran_ms);
  if (ok) rename(tmp, exit_path);
  if (fd >= 0) close(fd);
}

/* run.json: a running init (pid, start) or, between runs, the last exit and "restarting". */
static void write_run_state(long pid, const char *last_exit) {
  if (!run_path) return;
  char when[64], rec[700];
  rfc3339nano(when, sizeof when, NULL);
  int n = pid > 0 ? snprintf(rec, sizeof rec, "{\"pid\":%ld,\"startedAt\":\"%s\",\"restartCount\":%ld,\"restarting\":false}\n", pid, when, restart_count)
                  : snprintf(rec, sizeof rec, "{\"pid\":0,\"restartCount\":%ld,\"restarting\":true,\"lastExit\":{%s}}\n", restart_count, last_exit);
  write_atomic(run_path, rec, n, 0);
}

/* docker's restartmanager.ShouldRestart, and its back-off. */
static long backoff_ms;
static int should_restart(int status, long ran_ms) {
  if (restart_policy == RESTART_NO) return 0;
  if (stop_marker && access(stop_marker, F_OK) == 0) return 0; /* stopped or killed by the user */
  if (ran_ms >= 10000) backoff_ms = 0;
  backoff_ms = backoff_ms == 0 ? 100 : backoff_ms * 2;
  if (backoff_ms > 60000) backoff_ms = 60000;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (restart_policy == RESTART_ON_FAILURE) return code != 0 && (restart_max == 0 || restart_count < restart_max);
  return 1; /* always, unless-stopped: the user's stop was looked at above */
}

/* Forks argv on in/out/err, and `ctl` (when >= 0) as its fd 3; nothing else is inherited. */
static pid_t spawn_with(char **argv, char **envp, int in, int out, int err, int ctl) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  if (ctl >= 0 && dup2(ctl, 3) < 0) _exit(127);
  syscall(SYS_close_range, ctl >= 0 ? 4 : 3, ~0U, 0);
  execve(argv[0], argv, envp ? envp : environ);
  _exit(127);
}

static pid_t spawn(char **argv, char **envp, int in, int out, int err) {
  return spawn_with(argv, envp, in, out, err, -1);
}

/* Stage 0 of the first run: the helper on the engine's control socket (its fd 3), no env. */
static pid_t spawn_stage0(int in, int out, int err) {
  static char three[] = "3";
  char *args[] = {(char *)stage0_helper, three, NULL};
  char *env[] = {NULL};
  return spawn_with(args, env, in, out, err, stage0_ctl);
}

static long status_code(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void add_client(int c) {
  if (nclients == MAX_CLIENTS) {
    close(c);
    return;
  }
  struct timeval tv = {.tv_sec = 2};
  setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  clients[nclients++] = (struct client){.fd = c};
}

static void drop_client(int i) {
  close(clients[i].fd);
  clients[i] = clients[--nclients];
}

/* Output to every attached client; one that cannot keep up for 2 s is dropped. */
static void broadcast(int stream, const char *data, size_t len) {
  uint8_t hdr[8] = {(uint8_t)stream, 0, 0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  for (int i = nclients - 1; i >= 0; i--) {
    struct iovec v[2] = {{hdr, 8}, {(void *)data, len}};
    struct msghdr m = {.msg_iov = attach_framed ? v : v + 1, .msg_iovlen = attach_framed ? 2 : 1};
    size_t want = len + (attach_framed ? 8 : 0);
    ssize_t n = sendmsg(clients[i].fd, &m, MSG_NOSIGNAL);
    if (n != (ssize_t)want) drop_client(i);
  }
}

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Set by a client's "close stdin": done once what is pending has been written. */
static int close_stdin;

static void stdin_done(void) {
  if (in_fd >= 0) close(in_fd);
  in_fd = -1;
  pending_len = 0;
}

/* A whole client message: [type 0 0 0 len(be32)] payload. 0 stdin data, 1 close stdin, 2 resize. */
static void client_message(const struct client *c, int is_tty) {
  uint32_t len = be32(c->msg + 4);
  const uint8_t *p = c->msg + 8;
  switch (c->msg[0]) {
  case 0:
    if (in_fd >= 0 && !close_stdin) {
      memcpy(pending + pending_len, p, len);
      pending_len += len;
    }
    break;
  case 1:
    /* A pty has no end of input to give: the program gets ^D from the user instead. */
    if (!is_tty) close_stdin = 1;
    break;
  case 2:
    if (is_tty && len == 4 && in_fd >= 0) {
      struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]), .ws_col = (unsigned short)(p[2] << 8 | p[3])};
      ioctl(in_fd, TIOCSWINSZ, &ws);
    }
    break;
  }
}

/* Reads towards one message; returns -1 when the client should be dropped. */
static int client_read(struct client *c, int is_tty) {
  for (;;) {
    size_t need = c->got < 8 ? 8 : 8 + (size_t)be32(c->msg + 4);
    if (need > sizeof c->msg) return -1;
    if (c->got == need) {
      client_message(c, is_tty);
      c->got = 0;
      return 0; /* one message a turn: pending has room for one */
    }
    ssize_t n = recv(c->fd, c->msg + c->got, need - c->got, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (n <= 0) return -1;
    c->got += (size_t)n;
  }
}

/* docker's health_status event: "health_status: healthy" (the plan has one line per status). */
static void health_event(const char *status) {
  char on[48];
  snprintf(on, sizeof on, "health_status: %s", status);
  event_emit(on, NULL, 0);
}

/* The container's stdio for one run: pipes (or the console socket for a pty), and the starter. */
static pid_t start_run(int devnull, int *csock, int *out_fd, int *err_fd, int stage0) {
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  pid_t starter;
  *out_fd = *err_fd = -1;
  if (console_path) {
    if (*csock < 0 && (*csock = listen_at(console_path)) < 0) return -1;
    /* The container's stdio is the pty; the starter's own output goes nowhere (its errors
       go to its --log file, as the plan's argv says). */
    starter = stage0 ? spawn_stage0(devnull, devnull, devnull) : spawn(start_argv, start_env, devnull, devnull, devnull);
  } else {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (want_stdin && pipe2(in, O_CLOEXEC) < 0)) return -1;
    int i = want_stdin ? in[0] : devnull;
    starter = stage0 ? spawn_stage0(i, out[1], err[1]) : spawn(start_argv, start_env, i, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    *out_fd = out[0], *err_fd = err[0];
    if (want_stdin) {
      close(in[0]);
      if (in_fd >= 0) close(in_fd);
      in_fd = in[1];
      close_stdin = 0;
      pending_len = 0;
      fcntl(in_fd, F_SETFL, O_NONBLOCK);
    }
  }
  return starter;
}

int main(void) {
  /* 1. The plan. */
  static uint8_t buf[MONITOR_PLAN_MAX];
  size_t len = 0;
  for (ssize_t n; (n = read(0, buf + len, sizeof buf - len)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (len += (size_t)n) == sizeof buf) _exit(2);
  }
  struct plan plan;
  if (plan_decode(buf, len, MONITOR_MAGIC, MONITOR_VERSION, &plan) < 0) _exit(2);
  for (uint32_t i = 0; i < plan.nops; i++) {
    const struct op *op = &plan.ops[i];
    switch (op->code) {
    case MOP_LOG_JSON:
    case MOP_LOG_LOCAL:
      log_open(op->code == MOP_LOG_JSON ? LOG_JSON : LOG_LOCAL, A_STR(op, 0), A_INT(op, 1), (uint32_t)A_INT(op, 2), (int)A_INT(op, 3), A_STR(op, 4), A_LEN(op, 4) - 1);
      break;
    case MOP_EXIT_FILE: exit_path = A_STR(op, 0); break;
    case MOP_ATTACH: attach_path = A_STR(op, 0), attach_framed = (int)A_INT(op, 1); break;
    case MOP_PID_FILE: pid_path = A_STR(op, 0); break;
    case MOP_OOM_COUNTER: oom_path = A_STR(op, 0), oom_key = A_STR(op, 1); break;
    case MOP_ON_EXIT: on_exit_argv = A_LIST(op, 0), on_exit_env = A_LIST(op, 1); break;
    case MOP_CONSOLE: console_path = A_STR(op, 0); break;
    case MOP_HOLD: hold = 1; break;
    case MOP_START: start_argv = A_LIST(op, 0), start_env = A_LIST(op, 1), want_stdin = (int)A_INT(op, 2); break;
    case MOP_RESTART: restart_policy = (long)A_INT(op, 0), restart_max = (long)A_INT(op, 1), stop_marker = A_STR(op, 2); break;
    case MOP_RUN_STATE: run_path = A_STR(op, 0); break;
    case MOP_FINAL_EXIT: final_argv = A_LIST(op, 0), final_env = A_LIST(op, 1); break;
    case MOP_EXIT_GRACE: grace_path = A_STR(op, 0), grace_ms = (long)A_INT(op, 1); break;
    case MOP_STAGE0: stage0_helper = A_STR(op, 0), stage0_ctl = (int)A_INT(op, 1); break;
    case MOP_EVENT: event_add(A_STR(op, 0), A_STR(op, 1), A_STR(op, 2), A_LEN(op, 2) - 1); break;
    case MOP_HEALTH:
      health_config(A_STR(op, 0), (const uint8_t *)A_STR(op, 1), A_LEN(op, 1) - 1, (long)A_INT(op, 2), (long)A_INT(op, 3), (long)A_INT(op, 4), (long)A_INT(op, 5),
                    (long)A_INT(op, 6), A_STR(op, 7));
      break;
    default: _exit(2);
    }
  }
  if (!start_argv || !start_argv[0]) _exit(2);
  /* The engine's end of stage 0's channel: only stage 0 may keep it (not the starter or on-exit). */
  if (stage0_helper && (stage0_ctl < 3 || fcntl(stage0_ctl, F_SETFD, FD_CLOEXEC) < 0)) _exit(2);

  /* 2. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  dup2(devnull, 0);
  setsid();
  if (chdir("/") < 0) _exit(2);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGPIPE || s == SIGHUP || s == SIGINT || s == SIGTERM || s == SIGQUIT || s == SIGTTOU || s == SIGTTIN) signal(s, SIG_IGN);
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  /* 3. */
  int lsock = attach_path ? listen_at(attach_path) : -1;
  int csock = -1;
  if (hold) {
    /* fd 3 is a pipe to the engine: POLLERR once nobody reads it (the engine is gone). */
    if (lsock < 0 || write(3, "listening\n", 10) != 10) _exit(2);
    for (int c = -1; c < 0;) {
      struct pollfd h[2] = {{.fd = lsock, .events = POLLIN}, {.fd = 3, .events = 0}};
      if (poll(h, 2, -1) < 0 && errno != EINTR) _exit(2);
      if (h[1].revents) _exit(1);
      if ((h[0].revents & POLLIN) && (c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC)) >= 0) add_client(c);
    }
  }
  long init_pid = 0, init_status = -1, oom_base = 0, started_ms = 0;
  health_on_change(health_event);
  for (int first = 1;; first = 0) {
    int out_fd, err_fd;
    int engine_wait = first && stage0_helper != NULL;
    pid_t starter = start_run(devnull, &csock, &out_fd, &err_fd, engine_wait);
    if (starter < 0) {
      if (first) _exit(2);
      break; /* a restart that cannot begin ends the container with its last exit */
    }
    pid_t stage0 = 0;
    char said[32];
    size_t nsaid = 0;
    if (engine_wait) {
      /* Stage 0 has the channel now: the monitor keeps no copy, so its close reads as EOF. */
      close(stage0_ctl);
      stage0_ctl = -1;
      stage0 = starter, starter = 0;
      tell("stage0 %ld\n", stage0);
    }
    int is_tty = console_path != NULL, started_ok = 0;
    long deadline = 0, run_started = now_ms();
    init_pid = 0, init_status = -1;
    struct { pid_t pid; int status; } early[64];
    int nearly = 0;
    char data[16384];
    for (;;) {
      /* A client asked for end of input: once what it sent before is written, close it. */
      if (close_stdin && !pending_len && in_fd >= 0 && !is_tty) stdin_done();
      /* 5. Slots: signals, stdout (or the pty), stderr, attach, console, stdin, probe, clients. */
      enum { P_SIG, P_OUT, P_ERR, P_ATTACH, P_CONSOLE, P_IN, P_PROBE, P_ENGINE, P_CLIENTS };
      struct pollfd p[P_CLIENTS + MAX_CLIENTS];
      p[P_SIG] = (struct pollfd){.fd = sfd, .events = POLLIN};
      p[P_OUT] = (struct pollfd){.fd = out_fd, .events = POLLIN};
      p[P_ERR] = (struct pollfd){.fd = err_fd, .events = POLLIN};
      p[P_ATTACH] = (struct pollfd){.fd = init_status < 0 ? lsock : -1, .events = POLLIN};
      p[P_CONSOLE] = (struct pollfd){.fd = csock, .events = POLLIN};
      p[P_IN] = (struct pollfd){.fd = pending_len ? in_fd : -1, .events = POLLOUT};
      p[P_PROBE] = (struct pollfd){.fd = health_fd(), .events = POLLIN};
      p[P_ENGINE] = (struct pollfd){.fd = engine_wait ? 3 : -1, .events = POLLIN};
      int can_take = pending_len + MSG_MAX <= PENDING_MAX, polled = nclients;
      for (int i = 0; i < nclients; i++) p[P_CLIENTS + i] = (struct pollfd){.fd = can_take ? clients[i].fd : -1, .events = POLLIN};
      int timeout = -1;
      if (init_status >= 0) {
        long left = deadline - now_ms();
        if ((out_fd < 0 && err_fd < 0) || left <= 0) break;
        timeout = (int)left;
      } else if (started_ok) {
        long due = health_tick(init_pid);
        if (due >= 0) timeout = (int)(due < 0 ? 0 : due);
      }
      if (poll(p, P_CLIENTS + (nfds_t)nclients, timeout) < 0 && errno != EINTR) break;

      if (p[P_PROBE].fd >= 0 && p[P_PROBE].revents) health_read();
      int begin = 0;
      if (engine_wait && p[P_ENGINE].revents) {
        /* The engine's verdict on the run it drove: "started" (the pid file is written) or "failed". */
        ssize_t n = read(3, said + nsaid, sizeof said - 1 - nsaid);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n > 0) nsaid += (size_t)n;
        said[nsaid] = 0;
        if (n > 0 && !strchr(said, '\n') && nsaid < sizeof said - 1) continue;
        engine_wait = 0;
        if (strcmp(said, "started\n") == 0) {
          if ((init_pid = read_pid()) <= 0) {
            report("failed %ld\n", 125);
            _exit(1);
          }
          begin = 1;
        } else if (n <= 0 && (init_pid = read_pid()) > 0 && kill((pid_t)init_pid, 0) == 0) {
          begin = 1; /* the engine died after letting init go: the container is ours to hold */
        } else {
          report("failed %ld\n", 1); /* the engine undid what it had set up */
          _exit(1);
        }
      }
      if (pending_len && in_fd >= 0 && p[P_IN].revents) {
        ssize_t w = write(in_fd, pending, pending_len);
        if (w > 0) {
          memmove(pending, pending + w, pending_len - (size_t)w);
          pending_len -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          pending_len = 0; /* the container closed its stdin (EPIPE): the rest has no reader */
        }
      }
      for (int s = STREAM_STDOUT; s <= STREAM_STDERR; s++) {
        int *fd = s == STREAM_STDOUT ? &out_fd : &err_fd;
        if (*fd < 0 || !p[s == STREAM_STDOUT ? P_OUT : P_ERR].revents) continue;
        ssize_t n = read(*fd, data, sizeof data);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) { /* EOF, or EIO from a pty whose every holder is gone */
          log_flush(s);
          if (*fd != in_fd) close(*fd);
          *fd = -1;
          continue;
        }
        log_data(s, data, (size_t)n);
        broadcast(s, data, (size_t)n);
      }
      if (p[P_ATTACH].fd >= 0 && (p[P_ATTACH].revents & POLLIN)) {
        int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) add_client(c);
      }
      if (csock >= 0 && (p[P_CONSOLE].revents & POLLIN)) {
        int c = accept4(csock, NULL, NULL, SOCK_CLOEXEC);
        int master = c >= 0 ? recv_fd(c) : -1;
        if (c >= 0) close(c);
        if (master >= 0) {
          fcntl(master, F_SETFL, O_NONBLOCK);
          out_fd = in_fd = master;
          close(csock);
          csock = -1;
          unlink(console_path);
        }
      }
      /* Only the clients polled: one accepted above has no slot yet (brig attaches twice). */
      for (int i = (polled < nclients ? polled : nclients) - 1; i >= 0; i--) {
        if (p[P_CLIENTS + i].fd >= 0 && p[P_CLIENTS + i].revents && client_read(&clients[i], is_tty) < 0) drop_client(i);
      }
      if (p[P_SIG].revents) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) {
        }
        int st;
        pid_t r;
        while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
          if (log_reaped(r) || health_reaped(r, st)) continue;
          if (r == starter) {
            /* 4. */
            starter = 0;
            long failed = !WIFEXITED(st) || WEXITSTATUS(st) != 0 ? status_code(st) : 0;
            if (!failed && (init_pid = read_pid()) <= 0) failed = 125;
            if (failed) {
              if (first) {
                report("failed %ld\n", failed);
                _exit(1);
              }
              init_status = 0x7f00; /* exited 127: the restart failed to start it */
              break;
            }
            begin = 1;
          } else if (stage0 && r == stage0) {
            stage0 = 0; /* the engine words a failure; it waits for this code only then */
            if (engine_wait) tell("stage0-exit %ld\n", status_code(st));
          } else if (init_pid > 0 && r == init_pid) {
            init_status = st;
          } else if ((starter || engine_wait) && nearly < 64) {
            early[nearly].pid = r, early[nearly++].status = st; /* before we know init's pid */
          }
          if (init_status >= 0 && !deadline) deadline = now_ms() + 1000;
        }
      }
      if (begin) {
        /* start before the engine hears of it: its later events (restart, kill) come after. */
        event_emit("start", NULL, 0);
        die_sent = 0;
        if (first) report("started %ld\n", init_pid);
        started_ok = 1;
        started_ms = now_ms();
        if (event_wanted("oom")) oom_base = read_counter();
        write_run_state(init_pid, NULL);
        health_reset();
        for (int e = 0; e < nearly && init_status < 0; e++) {
          if (early[e].pid == init_pid) init_status = early[e].status;
        }
        if (init_status >= 0 && !deadline) deadline = now_ms() + 1000;
      }
      if (p[P_SIG].revents && init_status >= 0 && !started_ok && !first) break;
    }
    health_stop();
    if (out_fd >= 0 && out_fd != in_fd) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    log_flush(STREAM_STDOUT);
    log_flush(STREAM_STDERR);
    /* 7. */
    if (!should_restart((int)init_status, now_ms() - run_started)) break;
    restart_count++;
    char when[64], last[400];
    rfc3339nano(when, sizeof when, NULL);
    long oom = read_counter();
    exit_fields(last, sizeof last, init_pid, (int)init_status, oom, when);
    /* docker reports the OOM kill before the exit it caused, and a die for every run. */
    if (oom > oom_base) event_emit("oom", NULL, 0);
    emit_die((int)init_status, now_ms() - started_ms);
    write_run_state(0, last);
    while (nclients) drop_client(0); /* an attach ends with the run, as docker's does */
    if (is_tty && in_fd >= 0) close(in_fd); /* the old pty; the next run's runtime sends a new one */
    if (is_tty) in_fd = -1;
    if (on_exit_argv && on_exit_argv[0]) {
      pid_t pid = spawn(on_exit_argv, on_exit_env, devnull, devnull, devnull);
      int st;
      while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
    /* The back-off, cut short by a stop: the engine's stop of a restarting container. */
    for (long until = now_ms() + backoff_ms; now_ms() < until;) {
      if (stop_marker && access(stop_marker, F_OK) == 0) goto done;
      struct timespec ts = {0, 20 * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (stop_marker && access(stop_marker, F_OK) == 0) break;
  }
done:
  /* 6. */
  log_close(); /* a compression under way finishes first: the exit record says the log is complete */
  long oom = read_counter();
  /* A run whose die went out before a restart that never came has had its oom too. */
  if (oom > oom_base && !die_sent) event_emit("oom", NULL, 0);
  write_exit_record(init_pid, (int)init_status, oom, now_ms() - started_ms);
  while (nclients) drop_client(0);
  if (attach_path) unlink(attach_path);
  if (grace_path && grace_path[0]) {
    for (long until = now_ms() + grace_ms;;) {
      if (access(grace_path, F_OK) < 0 && errno == ENOENT) return 0; /* removed by the engine: nothing left to do */
      if (now_ms() >= until) break;
      struct timespec ts = {0, 10 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  if (on_exit_argv && on_exit_argv[0]) {
    pid_t pid = spawn(on_exit_argv, on_exit_env, devnull, devnull, devnull);
    int st;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (final_argv && final_argv[0]) {
    pid_t pid = spawn(final_argv, final_env, devnull, devnull, devnull);
    int st;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  return 0;
}
