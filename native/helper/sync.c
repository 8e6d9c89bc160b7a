/* The control channel to the TypeScript caller: framed messages and the error record. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

int ctl_in = -1;
int ctl_out = -1;
int status_fd = -1;
int start_fd = -1;
uint32_t current_op;

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int msg_send(uint32_t type, const void *payload, uint32_t len) {
  uint32_t hdr[2] = {type, len};
  if (write_all(ctl_out, hdr, sizeof hdr) < 0) return -1;
  return len ? write_all(ctl_out, payload, len) : 0;
}

int msg_recv(void *buf, uint32_t cap, uint32_t *len_out) {
  uint32_t hdr[2];
  if (read_all(ctl_in, hdr, sizeof hdr) < 0) return -1;
  if (hdr[1] > cap) return -1;
  if (hdr[1] && read_all(ctl_in, buf, hdr[1]) < 0) return -1;
  if (len_out) *len_out = hdr[1];
  return (int)hdr[0];
}

static void copy(char *dst, size_t cap, const char *src) {
  if (src) snprintf(dst, cap, "%s", src);
}

_Noreturn void fail_detail(const char *syscall, int err, const char *path, const char *dest, const char *detail) {
  struct error_record rec;
  memset(&rec, 0, sizeof rec);
  rec.op_index = current_op;
  rec.err = err;
  copy(rec.syscall, sizeof rec.syscall, syscall);
  copy(rec.path, sizeof rec.path, path);
  copy(rec.dest, sizeof rec.dest, dest);
  copy(rec.detail, sizeof rec.detail, detail);
  /* After `start` released init, create's caller is gone: `start` is the one waiting. */
  if (start_fd >= 0) write_all(start_fd, &rec, sizeof rec);
  else msg_send(MSG_ERROR, &rec, sizeof rec);
  helper_exit(1);
}

void ctl_close(void) {
  if (ctl_in >= 0) close(ctl_in);
  if (ctl_out >= 0 && ctl_out != ctl_in) close(ctl_out);
  ctl_in = ctl_out = -1;
}

_Noreturn void helper_exit(int code) {
  /* A caller that did not spawn us cannot wait for us: it reads our exit code here. */
  if (status_fd >= 0) {
    int32_t c = code;
    write_all(status_fd, &c, sizeof c);
  }
  _exit(code);
}

_Noreturn void fail(const char *syscall, int err, const char *path, const char *dest) {
  fail_detail(syscall, err, path, dest, NULL);
}
