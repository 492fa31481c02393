/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zkserver.h - start a real ZooKeeper server (Debian's package) from a C
 * test: standalone, on a free loopback port, data in a fresh temp dir.
 */
#ifndef TESTS_ZKSERVER_H
#define TESTS_ZKSERVER_H

#include <sys/types.h>

struct zkserver {
	pid_t pid;
	int port;
	char dir[256];
	char connect[64];	/* "127.0.0.1:PORT" */
};

/* Start and wait (up to timeout_s) until it serves.  0, or -1 with a
 * message on stderr. */
int zkserver_start(struct zkserver *zs, int timeout_s);
/* SIGKILL (hard) or SIGTERM, wait, and (remove) drop its data dir. */
void zkserver_stop(struct zkserver *zs, int hard, int remove);
/* Start again on the same port and data after a stop without remove. */
int zkserver_restart(struct zkserver *zs, int timeout_s);

#endif
