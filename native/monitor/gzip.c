/*
 * Compression of a rotated log file, as docker's loggerutils.compressFile does it: name.1
 * becomes name.1.gz (gzip, default level, the header's Extra field holding the JSON the
 * plan's rotation gives, {"lastTime":"..."}: docker's reader skips a file whose last entry
 * is older than --since without inflating it), and name.1 is removed only once the .gz is
 * complete, so a reader always finds one whole copy. On failure the .gz goes instead.
 *
 * It runs in a forked child, so the monitor keeps serving the container meanwhile and
 * holds none of zlib's ~300 KiB of state; the child closes every descriptor it inherited
 * (the container's pipes, attach clients) so that nothing waits on it.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "monitor.h"

static int compress_file(const char *src, const char *dst, const char *extra, size_t extra_len) {
  int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return -1;
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) return -1;
  z_stream z = {0};
  /* windowBits 15 + 16: a gzip wrapper. The header as Go's gzip.Writer makes it: no name,
     no mtime, OS 255 (unknown), the Extra field raw. */
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  gz_header h = {.os = 255, .extra = (Bytef *)extra, .extra_len = (uInt)extra_len};
  if (deflateSetHeader(&z, &h) != Z_OK) return -1;
  static uint8_t ibuf[65536], obuf[65536];
  for (int flush = Z_NO_FLUSH; flush != Z_FINISH;) {
    ssize_t n = read(in, ibuf, sizeof ibuf);
    if (n < 0) return -1;
    flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = ibuf, z.avail_in = (uInt)n;
    do {
      z.next_out = obuf, z.avail_out = sizeof obuf;
      if (deflate(&z, flush) == Z_STREAM_ERROR) return -1;
      size_t have = sizeof obuf - z.avail_out;
      if (have && write(out, obuf, have) != (ssize_t)have) return -1;
    } while (z.avail_out == 0);
  }
  return close(out);
}

pid_t gzip_start(const char *src, const char *dst, const char *extra, size_t extra_len) {
  pid_t pid = fork();
  if (pid != 0) return pid < 0 ? 0 : pid;
  syscall(SYS_close_range, 3, ~0U, 0);
  if (compress_file(src, dst, extra, extra_len) < 0) {
    unlink(dst);
    _exit(1);
  }
  unlink(src);
  _exit(0);
}
