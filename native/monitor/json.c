/*
 * JSON string escaping as Go's encoding/json writes it (docker's json-file records are
 * read by tools that expect exactly that): ", \ and control characters escaped, <, > and &
 * as \u003c \u003e \u0026, U+2028/U+2029 escaped, invalid UTF-8 as \ufffd. And the time
 * as Go's RFC3339Nano: UTC, trailing zeros of the fraction dropped.
 *
 * A json-file record, as docker's jsonlog.JSONLogs writes it:
 *   {"log":"...","stream":"stdout","attrs":{...},"time":"..."}\n
 * attrs (the plan's, already encoded) only when there are any; the newline the line ended
 * with is kept in "log", so a partial record has none.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left) {
  unsigned c = p[0];
  size_t n;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
  else return 0;
  if (left < n) return 0;
  unsigned cp = c & (0xff >> (n + 1));
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/* out must hold 6 * len bytes. Returns the bytes written (no NUL). */
size_t json_escape(char *out, const char *in, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)in;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    unsigned c = p[i];
    if (c >= 0x80) {
      size_t n = utf8_len(p + i, len - i);
      if (n == 0) {
        memcpy(out + o, "\\ufffd", 6);
        o += 6;
        i++;
        continue;
      }
      /* U+2028 and U+2029 (e2 80 a8/a9) break JavaScript parsers: escaped, as Go does. */
      if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
        memcpy(out + o, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
        o += 6;
      } else {
        memcpy(out + o, p + i, n);
        o += n;
      }
      i += n;
      continue;
    }
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
    } else if (c == '\r') {
      out[o++] = '\\';
      out[o++] = 'r';
    } else if (c == '\t') {
      out[o++] = '\\';
      out[o++] = 't';
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      memcpy(out + o, "\\u00", 4);
      out[o + 4] = hex[c >> 4];
      out[o + 5] = hex[c & 15];
      o += 6;
    } else {
      out[o++] = (char)c;
    }
    i++;
  }
  return o;
}

size_t rfc3339nano(char *out, size_t cap, const struct timespec *at) {
  struct timespec ts;
  if (at) ts = *at;
  else clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    size_t f = strlen(frac);
    while (frac[f - 1] == '0') f--;
    if (n + f < cap) {
      memcpy(out + n, frac, f);
      n += f;
    }
  }
  if (n + 1 < cap) out[n++] = 'Z';
  out[n] = '\0';
  return n;
}

/* The record but its attrs: what goes before them ends at *head (the plan's attrs are the
   whole `"attrs":{...},` member, or nothing). */
size_t json_record(char *out, const struct log_entry *e, size_t attrs_len, size_t *head) {
  size_t n = 0;
  memcpy(out, "{\"log\":\"", 8);
  n = 8 + json_escape(out + 8, e->line, e->len + (e->partial && !e->last ? 0 : 1));
  n += (size_t)sprintf(out + n, "\",\"stream\":\"%s\",", e->stream == STREAM_STDERR ? "stderr" : "stdout");
  *head = n;
  memcpy(out + n, "\"time\":\"", 8);
  n += 8;
  n += rfc3339nano(out + n, 64, &e->ts);
  memcpy(out + n, "\"}\n", 3);
  return n + 3;
}
