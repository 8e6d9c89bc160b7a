/* Credentials: bounding set, groups, user, capability sets, ambient, no_new_privs. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

static void capset_masks(uint64_t eff, uint64_t perm, uint64_t inh) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) fail("capset", errno, NULL, NULL);
}

void op_cred(const struct op *op) {
  switch (op->code) {
  case OP_CAPS_BOUNDING: {
    uint64_t keep = A_INT(op, 0);
    for (uint64_t c = 0; c <= A_INT(op, 1); c++) {
      if (keep & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) fail("prctl(PR_CAPBSET_DROP)", errno, NULL, NULL);
    }
    break;
  }
  case OP_SETGROUPS: {
    uint32_t n = A_COUNT(op, 0);
    gid_t *gids = calloc(n ? n : 1, sizeof(gid_t));
    if (!gids) fail("calloc", ENOMEM, NULL, NULL);
    for (uint32_t i = 0; i < n; i++) gids[i] = (gid_t)strtoul(A_LIST(op, 0)[i], NULL, 10);
    if (setgroups(n, gids) < 0) fail("setgroups", errno, NULL, NULL);
    free(gids);
    break;
  }
  case OP_SET_USER:
    /* Keep the permitted set across the uid change; capset then sets the final sets. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("prctl(PR_SET_KEEPCAPS)", errno, NULL, NULL);
    if (setresgid((gid_t)A_INT(op, 1), (gid_t)A_INT(op, 1), (gid_t)A_INT(op, 1)) < 0) fail("setresgid", errno, NULL, NULL);
    if (setresuid((uid_t)A_INT(op, 0), (uid_t)A_INT(op, 0), (uid_t)A_INT(op, 0)) < 0) fail("setresuid", errno, NULL, NULL);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("prctl(PR_SET_KEEPCAPS)", errno, NULL, NULL);
    break;
  case OP_CAPSET:
    capset_masks(A_INT(op, 0), A_INT(op, 1), A_INT(op, 2));
    break;
  case OP_CAPS_AMBIENT: {
    uint64_t mask = A_INT(op, 0);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) fail("prctl(PR_CAP_AMBIENT)", errno, NULL, NULL);
    for (unsigned c = 0; c < 64; c++) {
      if (!(mask & (1ULL << c))) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) fail("prctl(PR_CAP_AMBIENT_RAISE)", errno, NULL, NULL);
    }
    break;
  }
  case OP_NO_NEW_PRIVS:
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl(PR_SET_NO_NEW_PRIVS)", errno, NULL, NULL);
    break;
  }
}
