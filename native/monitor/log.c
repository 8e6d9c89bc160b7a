/*
 * The log file the plan names, in docker's on-disk form: json-file (json.c) or local
 * (local.c), one record per line of output, rotated and compressed as docker's
 * loggerutils.LogFile does it.
 *
 * Lines, as docker's copier cuts them: output up to and including a newline is one record;
 * 16 KiB without one is written as a partial record, and so is what is left when a stream
 * ends. The records of one long line share the first one's time, an id and ordinals from 1;
 * the record that ends it (with the newline) is the "last" one.
 *
 * Rotation: before a write, when the file has reached max_size, name.(N-2) → name.(N-1),
 * ..., name → name.1 and a new file is opened (with .gz on every rotated name when the
 * plan compresses); with one file the current one is unlinked instead, so a reader that
 * holds it can finish it. A file may exceed max_size by one record. With compression a
 * child (gzip.c) turns name.1 into name.1.gz; the next rotation waits for it, as docker's
 * waits for its compressing goroutine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define LINE_MAX_BYTES 16384

static int log_fd = -1, log_format, log_compress;
static char log_path[4096];
static uint64_t log_max, log_size;
static uint32_t log_files;
static const char *log_attrs;
static size_t log_attrs_len;
/* The last record's time: the gzip header of the file it ends says it (docker's lastTime). */
static struct timespec log_last;
static pid_t compressor;

static char line[3][LINE_MAX_BYTES];
static size_t line_len[3];
/* One long line's records, per stream. */
static struct {
  uint32_t ordinal; /* 0: none going on */
  char id[65];
  struct timespec ts;
} chain[3];
/* One record without its attrs: json-file escapes a byte into 6 at most. The attrs are
   written from the plan itself, between the record's two parts (writev). */
static char record[LINE_MAX_BYTES * 6 + 256];

static void open_current(void) {
  if (log_fd >= 0) close(log_fd);
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st;
  log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void log_open(int format, const char *path, uint64_t max_size, uint32_t max_files, int compress, const char *attrs, size_t attrs_len) {
  snprintf(log_path, sizeof log_path, "%s", path);
  log_format = format;
  log_max = max_size;
  log_files = max_files ? max_files : 1;
  log_compress = compress && log_files > 1;
  log_attrs = attrs;
  log_attrs_len = attrs_len;
  open_current();
}

/* The compressor is a child: the main loop may reap it first. */
int log_reaped(pid_t pid) {
  if (pid <= 0 || pid != compressor) return 0;
  compressor = 0;
  return 1;
}

static void wait_compressor(void) {
  int st;
  while (compressor > 0 && waitpid(compressor, &st, 0) < 0 && errno == EINTR) {
  }
  compressor = 0;
}

void log_close(void) {
  wait_compressor();
}

static void rotated_name(char *out, size_t cap, uint32_t i) {
  snprintf(out, cap, "%s.%u%s", log_path, i, log_compress ? ".gz" : "");
}

static void rotate(void) {
  close(log_fd);
  log_fd = -1;
  if (log_files <= 1) {
    unlink(log_path);
    open_current();
    return;
  }
  wait_compressor();
  char from[4200], to[4200];
  rotated_name(to, sizeof to, log_files - 1);
  unlink(to);
  for (uint32_t i = log_files - 1; i > 1; i--) {
    rotated_name(from, sizeof from, i - 1);
    rotated_name(to, sizeof to, i);
    rename(from, to); /* ENOENT while fewer files exist yet */
  }
  snprintf(to, sizeof to, "%s.1", log_path);
  rename(log_path, to);
  open_current();
  if (log_compress) {
    char gz[4200], extra[96];
    snprintf(gz, sizeof gz, "%s.1.gz", log_path);
    /* Go's zero time when this monitor wrote nothing yet, as docker's header has it then. */
    size_t n = (size_t)snprintf(extra, sizeof extra, "{\"lastTime\":\"");
    if (log_last.tv_sec) n += rfc3339nano(extra + n, sizeof extra - n, &log_last);
    else n += (size_t)snprintf(extra + n, sizeof extra - n, "0001-01-01T00:00:00Z");
    n += (size_t)snprintf(extra + n, sizeof extra - n, "\"}");
    compressor = gzip_start(to, gz, extra, n);
  }
}

static void write_record(int stream, const char *data, size_t len, int complete) {
  if (log_fd < 0) return;
  struct log_entry e = {.stream = stream, .line = data, .len = complete ? len - 1 : len};
  if (!complete || chain[stream].ordinal) {
    if (!chain[stream].ordinal) {
      uint8_t rnd[32];
      if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) memset(rnd, 0, sizeof rnd);
      for (int i = 0; i < 32; i++) snprintf(chain[stream].id + 2 * i, 3, "%02x", rnd[i]);
      clock_gettime(CLOCK_REALTIME, &chain[stream].ts);
    }
    e.partial = 1;
    e.last = complete;
    e.ordinal = ++chain[stream].ordinal;
    e.id = chain[stream].id;
    e.ts = chain[stream].ts;
    if (complete) chain[stream].ordinal = 0;
  } else {
    clock_gettime(CLOCK_REALTIME, &e.ts);
  }
  size_t head, n = log_format == LOG_LOCAL ? local_record(record, &e, log_attrs_len, &head) : json_record(record, &e, log_attrs_len, &head);
  if (log_max && log_size >= log_max) rotate();
  if (log_fd < 0) return;
  struct iovec v[3] = {{record, head}, {(void *)log_attrs, log_attrs_len}, {record + head, n - head}};
  size_t total = n + log_attrs_len;
  for (size_t off = 0; off < total;) {
    ssize_t w = writev(log_fd, v, 3);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* a full disk loses log lines, never the container */
    off += (size_t)w;
    for (int i = 0; i < 3; i++) { /* a short write: step past what went */
      size_t k = (size_t)w < v[i].iov_len ? (size_t)w : v[i].iov_len;
      v[i].iov_base = (char *)v[i].iov_base + k, v[i].iov_len -= k, w -= (ssize_t)k;
    }
  }
  log_size += total;
  log_last = e.ts;
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
    int complete = line[stream][line_len[stream] - 1] == '\n';
    if (complete || line_len[stream] == LINE_MAX_BYTES) {
      write_record(stream, line[stream], line_len[stream], complete);
      line_len[stream] = 0;
    }
  }
}

void log_flush(int stream) {
  if (line_len[stream]) write_record(stream, line[stream], line_len[stream], 0);
  line_len[stream] = 0;
}
