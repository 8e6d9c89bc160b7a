/*
 * A record of docker's "local" log driver: a protobuf LogEntry (moby's
 * daemon/logger/internal/logdriver/entry.proto) between two big-endian uint32 lengths:
 *   be32(n) LogEntry(n bytes) be32(n)
 * LogEntry: 1 source (string), 2 time_nano (int64), 3 line (bytes, without the newline),
 * 4 partial (bool), 5 partial_log_metadata {1 last, 2 id, 3 ordinal}, 6 attrs (repeated
 * {1 key, 2 value}). Fields in number order, zero values left out, as gogo/protobuf
 * marshals them. The attrs come from the plan already encoded (field 6 records, sorted)
 * and are written between the two parts this makes.
 */
#include <string.h>

#include "monitor.h"

static size_t varint(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

static size_t field_bytes(uint8_t *out, uint8_t tag, const void *data, size_t len) {
  out[0] = tag;
  size_t n = 1 + varint(out + 1, len);
  memcpy(out + n, data, len);
  return n + len;
}

static void be32(uint8_t *out, uint32_t v) {
  out[0] = (uint8_t)(v >> 24), out[1] = (uint8_t)(v >> 16), out[2] = (uint8_t)(v >> 8), out[3] = (uint8_t)v;
}

/* The record but its attrs, which go (as the last field) before the trailing length at *head. */
size_t local_record(char *buf, const struct log_entry *e, size_t attrs_len, size_t *head) {
  uint8_t *out = (uint8_t *)buf, *p = out + 4;
  const char *source = e->stream == STREAM_STDERR ? "stderr" : "stdout";
  p += field_bytes(p, 0x0a, source, 6);
  int64_t nano = (int64_t)e->ts.tv_sec * 1000000000 + e->ts.tv_nsec;
  *p++ = 0x10;
  p += varint(p, (uint64_t)nano);
  if (e->len) p += field_bytes(p, 0x1a, e->line, e->len);
  if (e->partial) {
    uint8_t md[96], *m = md;
    if (e->last) *m++ = 0x08, *m++ = 1;
    m += field_bytes(m, 0x12, e->id, 64);
    *m++ = 0x18;
    m += varint(m, e->ordinal);
    *p++ = 0x20, *p++ = 1;
    p += field_bytes(p, 0x2a, md, (size_t)(m - md));
  }
  uint32_t n = (uint32_t)(p - out - 4 + attrs_len);
  *head = (size_t)(p - out);
  be32(out, n);
  be32(p, n);
  return *head + 4;
}
