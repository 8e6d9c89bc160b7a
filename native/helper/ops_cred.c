/* Credentials: bounding set, groups, user, capability sets, ambient, no_new_privs, session keyring. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <stdio.h>
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

/* A fresh session keyring, so the container cannot reach the keys of whoever started it. */
static void session_keyring(const char *name, uint32_t perm_add) {
  long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
  if (id < 0) {
    if (errno == ENOSYS) return; /* no keys in this kernel: nothing to inherit either */
    fail("keyctl(KEYCTL_JOIN_SESSION_KEYRING)", errno, name, NULL);
  }
  if (perm_add == 0) return; /* joining one that init made: its owner set the permissions */
  /* "type;uid;gid;perm;description": the fourth field is the permission mask in hex. */
  char desc[256];
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc - 1, 0);
  if (n < 0) fail("keyctl(KEYCTL_DESCRIBE)", errno, name, NULL);
  desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = 0;
  unsigned perm;
  if (sscanf(desc, "%*[^;];%*[^;];%*[^;];%x", &perm) != 1) fail_detail("keyctl(KEYCTL_DESCRIBE)", EINVAL, name, NULL, desc);
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm | perm_add, 0, 0) < 0) fail("keyctl(KEYCTL_SETPERM)", errno, name, NULL);
}

void op_cred(const struct op *op) {
  switch (op->code) {
  case OP_SESSION_KEYRING:
    session_keyring(A_STR(op, 0), (uint32_t)A_INT(op, 1));
    break;
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
