/*
 * The wire form of a plan, shared by the helper (LaunchPlan) and the monitor (MonitorPlan):
 * see src/native/encode.ts. A magic and a version name the kind of plan; the decoder is
 * bounds-checked throughout and accepts nothing it does not fully understand.
 */
#ifndef BRIG_PLAN_H
#define BRIG_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define MAX_ARGS 8

enum arg_kind { ARG_INT = 1, ARG_BYTES = 2, ARG_STRS = 3 };

struct arg {
  enum arg_kind kind;
  uint64_t num;
  const char *data; /* ARG_BYTES: NUL-terminated by the encoder for strings */
  uint32_t len;
  char **list; /* ARG_STRS: NULL-terminated */
  uint32_t count;
};

struct op {
  uint32_t code;
  uint32_t nargs;
  struct arg args[MAX_ARGS];
};

struct plan {
  uint32_t nops;
  struct op *ops;
};

/* Accessors for op arguments (the TypeScript side guarantees kinds and counts). */
#define A_INT(op, i) ((op)->args[i].num)
#define A_STR(op, i) ((op)->args[i].data)
#define A_LEN(op, i) ((op)->args[i].len)
#define A_LIST(op, i) ((op)->args[i].list)
#define A_COUNT(op, i) ((op)->args[i].count)

/* Decodes buf into out; magic is 8 bytes. -1 on anything malformed. */
int plan_decode(const uint8_t *buf, size_t len, const char *magic, uint32_t version, struct plan *out);

#endif
