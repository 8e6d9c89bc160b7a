/*
 * The json-file log driver in docker's on-disk form: one JSON object per line,
 * {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}. Output is cut into lines;
 * a line longer than 16 KiB is written in 16 KiB records without the newline (as docker
 * marks partial messages), and so is what is left when a stream ends without one.
 *
 * Rotation as docker's loggerutils does it: before a write, when the file has reached
 * max_size, name.(N-2) → name.(N-1), ..., name → name.1 and a new name is opened; with
 * max_files 1 the file is truncated instead. A file may exceed max_size by one record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor.h"

#define LINE_MAX_BYTES 16384

static int log_fd = -1;
static char log_path[4096];
static uint64_t log_max, log_size;
static uint32_t log_files;
static char line[3][LINE_MAX_BYTES];
static size_t line_len[3];
/* One record: the escaped text (6 bytes per input byte at most) and the frame around it. */
static char record[LINE_MAX_BYTES * 6 + 128];

static void open_current(int truncate) {
  if (log_fd >= 0) close(log_fd);
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0600);
  struct stat st;
  log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void log_open(const char *path, uint64_t max_size, uint32_t max_files) {
  snprintf(log_path, sizeof log_path, "%s", path);
  log_max = max_size;
  log_files = max_files ? max_files : 1;
  open_current(0);
}

static void rotate(void) {
  if (log_files <= 1) {
    open_current(1);
    return;
  }
  char from[4200], to[4200];
  for (uint32_t i = log_files - 1; i > 1; i--) {
    snprintf(from, sizeof from, "%s.%u", log_path, i - 1);
    snprintf(to, sizeof to, "%s.%u", log_path, i);
    rename(from, to); /* ENOENT while fewer files exist yet */
  }
  snprintf(to, sizeof to, "%s.1", log_path);
  rename(log_path, to);
  open_current(1);
}

static void write_record(int stream, const char *data, size_t len) {
  if (log_fd < 0) return;
  size_t n = 0;
  memcpy(record, "{\"log\":\"", 8);
  n = 8 + json_escape(record + 8, data, len);
  n += (size_t)snprintf(record + n, sizeof record - n, "\",\"stream\":\"%s\",\"time\":\"", stream == STREAM_STDERR ? "stderr" : "stdout");
  n += rfc3339nano(record + n, sizeof record - n);
  memcpy(record + n, "\"}\n", 3);
  n += 3;
  if (log_max && log_size >= log_max) rotate();
  for (size_t off = 0; off < n;) {
    ssize_t w = write(log_fd, record + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return; /* a full disk loses log lines, never the container */
    off += (size_t)w;
  }
  log_size += n;
}

void log_data(int stream, const char *data, size_t len) {
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    size_t room = LINE_MAX_BYTES - line_len[stream];
    if (take > room) take = room;
    memcpy(line[stream] + line_len[stream], data, take);
    line_len[stream] += take;
    data += take;
    len -= take;
    if (line[stream][line_len[stream] - 1] == '\n' || line_len[stream] == LINE_MAX_BYTES) {
      write_record(stream, line[stream], line_len[stream]);
      line_len[stream] = 0;
    }
  }
}

void log_flush(int stream) {
  if (line_len[stream]) write_record(stream, line[stream], line_len[stream]);
  line_len[stream] = 0;
}
