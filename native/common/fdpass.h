/* Passing a file descriptor over a unix socket (SCM_RIGHTS): the helper and the monitor. */
#ifndef BRIG_FDPASS_H
#define BRIG_FDPASS_H

/* Receives one fd (close-on-exec) and drops the payload; -1 on EOF or a message without one. */
int recv_fd(int sock);

#endif
