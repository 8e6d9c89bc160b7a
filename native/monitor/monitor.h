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

#include "../common/plan.h"

#define MONITOR_MAGIC "BRIGMONP"
#define MONITOR_VERSION 1
#define MONITOR_PLAN_MAX (1u << 20)

enum monitor_op {
  MOP_LOG_JSON = 1,  /* path, max_size (0: no limit), max_files */
  MOP_EXIT_FILE = 2, /* path: the exit record, written once init is gone */
  MOP_ATTACH = 3,    /* path, framed: the attach socket; framed=1 adds docker's stream headers */
  MOP_PID_FILE = 4,  /* path: where the starter leaves init's host pid */
  MOP_OOM_COUNTER = 5, /* path, key: a cgroup file whose "key N" line counts OOM kills */
  MOP_ON_EXIT = 6,   /* argv, env: run after the exit record is written, and waited for */
  MOP_CONSOLE = 7,   /* path: a console socket to listen on; the starter's runtime sends the pty master */
  MOP_START = 8,     /* argv, env, stdin: start the container (last op) */
  MOP_HOLD = 9,      /* start only once a first attach client is connected ("listening" on fd 3 first) */
};

/* Streams, as the attach framing numbers them. */
enum { STREAM_STDIN = 0, STREAM_STDOUT = 1, STREAM_STDERR = 2 };

/* log.c: the json-file driver (docker's on-disk format and rotation). */
void log_open(const char *path, uint64_t max_size, uint32_t max_files);
void log_data(int stream, const char *data, size_t len);
void log_flush(int stream);

/* json.c */
size_t json_escape(char *out, const char *in, size_t len);
size_t rfc3339nano(char *out, size_t cap);

#endif
