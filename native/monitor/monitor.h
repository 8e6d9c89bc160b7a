/*
 * brig-monitor: one per engine container, for the container's whole life (conmon's job).
 * It runs a MonitorPlan that TypeScript compiled (src/engine/monitor/plan.ts) and makes no
 * decision of its own: the plan says where the log goes and how it rotates, where the exit
 * record and the attach socket live, what to run to start the container and what to run
 * once it has exited. Op codes match MONITOR_OPS there.
 */
#ifndef BRIG_MONITOR_H
#define BRIG_MONITOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../common/plan.h"

#define MONITOR_MAGIC "BRIGMONP"
#define MONITOR_VERSION 2
#define MONITOR_PLAN_MAX (1u << 20)

enum monitor_op {
  MOP_LOG_JSON = 1,  /* path, max_size (0: no limit), max_files, compress, attrs ("attrs":{...}, or "") */
  MOP_EXIT_FILE = 2, /* path: the exit record, written once init is gone */
  MOP_ATTACH = 3,    /* path, framed: the attach socket; framed=1 adds docker's stream headers */
  MOP_PID_FILE = 4,  /* path: where the starter leaves init's host pid */
  MOP_OOM_COUNTER = 5, /* path, key: a cgroup file whose "key N" line counts OOM kills */
  MOP_ON_EXIT = 6,   /* argv, env: run after the exit record is written, and waited for */
  MOP_CONSOLE = 7,   /* path: a console socket to listen on; the starter's runtime sends the pty master */
  MOP_START = 8,     /* argv, env, stdin: start the container (last op) */
  MOP_HOLD = 9,      /* start only once a first attach client is connected ("listening" on fd 3 first) */
  MOP_LOG_LOCAL = 10, /* path, max_size, max_files, compress, attrs (LogEntry field 6 records, encoded) */
  MOP_EVENT = 11,    /* path, on, line: append line (its places filled) to the event log when `on` happens */
  MOP_RESTART = 12,  /* policy (RESTART_*), max retries (on-failure; 0: no limit), stop marker path */
  MOP_HEALTH = 13,   /* helper, exec plan, interval, timeout, start period, start interval (ms), retries, state file */
  MOP_RUN_STATE = 14, /* path: run.json, the current run (pid, start, restart count, restarting) */
  MOP_FINAL_EXIT = 15, /* argv, env: run once, after on_exit, when the container ends for good (no restart follows) */
  MOP_EXIT_GRACE = 16, /* path, ms: at the end, wait up to ms for path to go; gone: on_exit and final_exit are not run */
  MOP_STAGE0 = 17,   /* helper, fd: the first run forks the helper's stage 0 on the engine's socket fd; the engine drives it */
};
enum { RESTART_NO = 0, RESTART_ON_FAILURE = 1, RESTART_ALWAYS = 2, RESTART_UNLESS_STOPPED = 3 };
enum { HEALTH_NONE = 0, HEALTH_STARTING = 1, HEALTH_HEALTHY = 2, HEALTH_UNHEALTHY = 3 };

/* Streams, as the attach framing numbers them. */
enum { STREAM_STDIN = 0, STREAM_STDOUT = 1, STREAM_STDERR = 2 };

/* One record: a line (without its newline) or a piece of one, docker's logger.Message. */
struct log_entry {
  int stream;
  const char *line;
  size_t len;
  struct timespec ts;
  int partial, last; /* docker's PartialLogMetaData: a piece of a long line; the one that ends it */
  uint32_t ordinal;
  const char *id; /* 64 hex digits */
};
enum { LOG_JSON = 1, LOG_LOCAL = 2 };

/* log.c: the log file, its lines, rotation and compression (docker's loggerutils). */
void log_open(int format, const char *path, uint64_t max_size, uint32_t max_files, int compress, const char *attrs, size_t attrs_len);
void log_data(int stream, const char *data, size_t len);
void log_flush(int stream);
int log_reaped(pid_t pid); /* 1: it was the compressor */
void log_close(void);

/* json.c: the json-file record, Go's escaping and times. */
size_t json_escape(char *out, const char *in, size_t len);
size_t rfc3339nano(char *out, size_t cap, const struct timespec *at);
size_t json_record(char *out, const struct log_entry *e, size_t attrs_len, size_t *head);

/* local.c: the local driver's record. */
size_t local_record(char *out, const struct log_entry *e, size_t attrs_len, size_t *head);

/* events.c: events the monitor writes to the engine's event log. A place in a line is 0x01
   and a key; 't' (unix seconds) and 'n' (nanoseconds) are filled in always, others from subs. */
struct event_sub {
  char key;
  const char *value;
};
void event_add(const char *path, const char *on, const char *text, size_t len);
int event_wanted(const char *on);
void event_emit(const char *on, const struct event_sub *subs, int nsubs);

/* gzip.c: compresses src into dst in a child; its pid (0 if it could not fork). */
pid_t gzip_start(const char *src, const char *dst, const char *extra, size_t extra_len);

/* health.c: health probes run through the native helper (docker's semantics). */
void health_config(const char *helper, const uint8_t *plan, size_t plan_len, long interval, long timeout, long start_period, long start_interval, long retries,
                   const char *file);
void health_reset(void);
long health_tick(long init_pid);
int health_fd(void);
void health_read(void);
int health_reaped(pid_t pid, int status);
void health_stop(void);
void health_on_change(void (*event)(const char *status));

#endif
