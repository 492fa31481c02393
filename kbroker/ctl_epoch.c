/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_epoch.c - controller epochs checked against ZooKeeper before a
 * jump is believed; see ctl_epoch.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "broker.h"
#include "ctl_epoch.h"
#include "kp_arena.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "net.h"
#include "zk_thread.h"

struct admit_job {
	struct net_req *r;
	int32_t epoch;
	int32_t zk_epoch;		/* -1: unread */
	void (*admitted)(struct net_req *r);
	void (*refused)(struct net_req *r);
};

/* Raise the known epoch to epoch (never lower it: another request may
 * have raised it meanwhile). */
static void adopt(struct broker *b, int32_t epoch)
{
	int32_t seen = atomic_load(&b->controller_epoch);

	while (seen < epoch &&
	       !atomic_compare_exchange_weak(&b->controller_epoch, &seen, epoch))
		;
}

/* On the ZooKeeper thread. */
static void read_epoch(void *arg)
{
	struct admit_job *j = arg;
	struct broker *b = j->r->worker->broker;
	struct kp_zk_result res;

	/* a server lagging behind the quorum could still show the old epoch
	 * and refuse a real new controller: catch it up first */
	(void)kp_zk_sync_sync(b->zk, "/controller_epoch");
	if (kp_zk_get_sync(b->zk, "/controller_epoch", &res) == KP_ZK_OK &&
	    res.data != NULL) {
		char *end;
		long v = strtol(res.data, &end, 10);

		if (end != res.data && v >= 0 && v <= INT32_MAX)
			j->zk_epoch = (int32_t)v;
	}
	kp_zk_result_free(&res);
}

static void read_done(void *arg, bool ran)
{
	struct admit_job *j = arg;
	struct broker *b = j->r->worker->broker;

	if (!ran) {
		net_req_fail(j->r, "the broker is stopping");
		return;
	}
	if (j->zk_epoch < j->epoch) {
		KP_WARN("a controller request claims epoch %d, but ZooKeeper's "
			"/controller_epoch is %d: refused, not adopted", j->epoch,
			j->zk_epoch);
		j->refused(j->r);
		return;
	}
	adopt(b, j->epoch);
	j->admitted(j->r);
}

void ctl_epoch_admit(struct net_req *r, int32_t epoch,
		     void (*admitted)(struct net_req *r),
		     void (*refused)(struct net_req *r))
{
	struct broker *b = r->worker->broker;
	int32_t seen = atomic_load(&b->controller_epoch);
	struct admit_job *j;

	if (epoch < seen) {
		refused(r);
		return;
	}
	if (epoch == seen || b->zk == NULL || b->zkt == NULL) {
		adopt(b, epoch);
		admitted(r);
		return;
	}
	j = kp_arena_calloc(&r->arena, 1, sizeof(*j));
	if (j == NULL || net_req_detach(r) < 0) {
		net_req_fail(r, "out of memory");
		return;
	}
	*j = (struct admit_job){ r, epoch, -1, admitted, refused };
	zk_thread_call(b, r->worker->home, read_epoch, read_done, j);
}
