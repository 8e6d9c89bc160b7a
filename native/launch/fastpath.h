/* The launcher's fast start and delete (fastpath.c; the model: src/runtime/fast-plan.ts). */
#ifndef BRIG_FASTPATH_H
#define BRIG_FASTPATH_H

enum {
  FAST_NOT_TAKEN, /* no plan for this argv, or it does not hold: run Node, as without one */
  FAST_DONE,      /* the command is done: exit 0 */
  FAST_FAILED,    /* failed after the plan's commit (message printed): exit 1 */
  FAST_HANDOFF,   /* done, but Node words the outcome: *handoff is an env entry for it */
};

int fastpath(int argc, char **argv, char **handoff);

#endif
