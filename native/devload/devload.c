/*
 * brig-devload: the cgroup v2 device-program step of the runtime: load a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (a file of struct bpf_insn, as brig compiles it) and
 * attach it to a cgroup v2 directory with BPF_F_ALLOW_MULTI, then detach the device programs
 * that were there before — an update replaces the policy (with ALLOW_MULTI every attached
 * program must allow an access, so leaving the old one would keep its denials). New first,
 * old second, as runc does, so the cgroup is never without a program. The attachment
 * outlives this process; it goes away with the cgroup.
 *
 *   brig-devload PROGRAM_FILE CGROUP_DIR   (PROGRAM_FILE - reads stdin)
 *
 * Exit 0 and "attached" on success; on failure the syscall, errno and the verifier log.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char verifier_log[1 << 16];

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PROGRAM_FILE CGROUP_DIR\n", argv[0]);
    return 2;
  }
  /* "-" is stdin, read to the end: the runtime sends the program through a socket, which
     cannot be opened again by path. */
  int fd = strcmp(argv[1], "-") == 0 ? 0 : open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  static unsigned char insns[1 << 16];
  ssize_t len = 0;
  for (;;) {
    ssize_t n = read(fd, insns + len, sizeof insns - (size_t)len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      perror(argv[1]);
      return 1;
    }
    if (n == 0 || (size_t)(len += n) == sizeof insns) break;
  }
  if (fd != 0) close(fd);
  if (len <= 0 || len % 8 != 0) {
    fprintf(stderr, "%s: size %zd is not a whole number of instructions\n", argv[1], len);
    return 1;
  }

  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)(len / 8);
  attr.license = (uint64_t)(uintptr_t) "Apache";
  attr.log_buf = (uint64_t)(uintptr_t)verifier_log;
  attr.log_size = sizeof verifier_log;
  attr.log_level = 1;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (prog < 0) {
    fprintf(stderr, "bpf(BPF_PROG_LOAD): %s\n%s\n", strerror(errno), verifier_log);
    return 1;
  }

  int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (cg < 0) {
    perror(argv[2]);
    return 1;
  }
  /* The programs attached now, to detach once the new one is in. */
  static uint32_t old_ids[64];
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)cg;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
  attr.query.prog_cnt = 64;
  if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) < 0) {
    fprintf(stderr, "bpf(BPF_PROG_QUERY, %s): %s\n", argv[2], strerror(errno));
    return 1;
  }
  uint32_t old_count = attr.query.prog_cnt;

  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cg;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0) {
    fprintf(stderr, "bpf(BPF_PROG_ATTACH, %s): %s\n", argv[2], strerror(errno));
    return 1;
  }
  for (uint32_t i = 0; i < old_count; i++) {
    memset(&attr, 0, sizeof attr);
    attr.prog_id = old_ids[i];
    int old = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof attr);
    if (old < 0) continue; /* already gone */
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cg;
    attr.attach_bpf_fd = (uint32_t)old;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (syscall(SYS_bpf, BPF_PROG_DETACH, &attr, sizeof attr) < 0) {
      fprintf(stderr, "bpf(BPF_PROG_DETACH, %s, id %u): %s\n", argv[2], old_ids[i], strerror(errno));
      return 1;
    }
    close(old);
  }
  printf("attached, %u replaced\n", old_count);
  return 0;
}
