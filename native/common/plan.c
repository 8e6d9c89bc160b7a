/* Decodes the wire form of a plan (see plan.h and src/native/encode.ts). Bounds-checked throughout. */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

struct reader {
  const uint8_t *p;
  size_t left;
};

static int take(struct reader *r, void *out, size_t n) {
  if (r->left < n) return -1;
  if (out) memcpy(out, r->p, n);
  r->p += n;
  r->left -= n;
  return 0;
}

static int take_bytes(struct reader *r, const char **data, uint32_t *len) {
  if (take(r, len, 4) < 0 || r->left < *len) return -1;
  *data = (const char *)r->p;
  r->p += *len;
  r->left -= *len;
  /* Strings are sent with their NUL; refuse any that lack it so C never reads past. */
  if (*len == 0 || (*data)[*len - 1] != '\0') return -1;
  return 0;
}

int plan_decode(const uint8_t *buf, size_t len, const char *want_magic, uint32_t want_version, struct plan *out) {
  struct reader r = {buf, len};
  char magic[8];
  uint32_t version, nops;
  if (take(&r, magic, 8) < 0 || memcmp(magic, want_magic, 8) != 0) return -1;
  if (take(&r, &version, 4) < 0 || version != want_version) return -1;
  if (take(&r, &nops, 4) < 0 || nops > 65536) return -1;
  out->nops = nops;
  out->ops = calloc(nops ? nops : 1, sizeof(struct op));
  if (!out->ops) return -1;
  for (uint32_t i = 0; i < nops; i++) {
    struct op *op = &out->ops[i];
    if (take(&r, &op->code, 4) < 0 || take(&r, &op->nargs, 4) < 0 || op->nargs > MAX_ARGS) return -1;
    for (uint32_t a = 0; a < op->nargs; a++) {
      struct arg *arg = &op->args[a];
      uint8_t kind;
      if (take(&r, &kind, 1) < 0) return -1;
      arg->kind = kind;
      switch (kind) {
      case ARG_INT:
        if (take(&r, &arg->num, 8) < 0) return -1;
        break;
      case ARG_BYTES:
        if (take_bytes(&r, &arg->data, &arg->len) < 0) return -1;
        break;
      case ARG_STRS:
        if (take(&r, &arg->count, 4) < 0 || arg->count > 65536) return -1;
        arg->list = calloc(arg->count + 1, sizeof(char *));
        if (!arg->list) return -1;
        for (uint32_t s = 0; s < arg->count; s++) {
          const char *d;
          uint32_t l;
          if (take_bytes(&r, &d, &l) < 0) return -1;
          arg->list[s] = (char *)d;
        }
        break;
      default:
        return -1;
      }
    }
  }
  return r.left == 0 ? 0 : -1;
}
