/*
 * Events the monitor appends to the engine's event log (src/engine/events/log.ts): those no
 * brig process sees, because they happen while the container runs on its own (die, oom;
 * later health_status and a restart's start). TypeScript made each event's line at create
 * time (monitorTemplate in src/engine/events/message.ts): the JSON is final but for places,
 * byte 0x01 and a key, which are filled in here: 't' the unix seconds, 'n' the nanoseconds,
 * and what the caller passes (exitCode, ...). The monitor neither parses nor builds JSON.
 *
 * The line goes out in one write(2) on a file opened O_APPEND, as every writer of the log
 * does, so lines from many processes never mix. The monitor never rotates the file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define EVENTS_MAX 8
#define EVENT_LINE_MAX 4352 /* the engine's LINE_MAX (4096) and room to spare */

static struct {
  const char *on, *path, *text;
  size_t len;
} events[EVENTS_MAX];
static int nevents;

void event_add(const char *path, const char *on, const char *text, size_t len) {
  if (nevents < EVENTS_MAX) events[nevents].path = path, events[nevents].on = on, events[nevents].text = text, events[nevents++].len = len;
}

int event_wanted(const char *on) {
  for (int i = 0; i < nevents; i++)
    if (strcmp(events[i].on, on) == 0) return 1;
  return 0;
}

void event_emit(const char *on, const struct event_sub *subs, int nsubs) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char secs[24], nanos[24];
  snprintf(secs, sizeof secs, "%lld", (long long)now.tv_sec);
  snprintf(nanos, sizeof nanos, "%lld", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  for (int i = 0; i < nevents; i++) {
    if (strcmp(events[i].on, on) != 0) continue;
    char line[EVENT_LINE_MAX];
    size_t n = 0;
    for (size_t j = 0; j < events[i].len && n < sizeof line; j++) {
      char c = events[i].text[j];
      if (c != '\x01' || j + 1 == events[i].len) {
        line[n++] = c;
        continue;
      }
      char key = events[i].text[++j];
      const char *v = key == 't' ? secs : key == 'n' ? nanos : "";
      for (int s = 0; s < nsubs; s++)
        if (subs[s].key == key) v = subs[s].value;
      size_t vl = strlen(v);
      if (n + vl > sizeof line) break;
      memcpy(line + n, v, vl);
      n += vl;
    }
    /* TypeScript keeps lines short: one cut off here would be a broken line, so none is written. */
    if (n == 0 || n >= sizeof line || line[n - 1] != '\n') continue;
    int fd = open(events[i].path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) continue;
    if (write(fd, line, n) < 0) { /* nobody to tell: the event is lost, the container's exit is not */
    }
    close(fd);
  }
}
