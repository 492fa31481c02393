/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_broker.c - broker events and controlled shutdown; see ctl_broker.h.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "ctl_batch.h"
#include "ctl_broker.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_logdir.h"
#include "ctl_partition.h"
#include "ctl_zk.h"
#include "kp_arena.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_listener.h"
#include "kp_log.h"
#include "kp_msgs.h"

/* ----------------------------------------------------------- start, death */

/* The channel the controller sends b its requests through. */
static void open_channel(struct controller *c, struct c_broker *b)
{
	const struct kp_endpoint *ep = ctl_ctx_endpoint(c, b);
	struct kp_client_opts sec = {
		.tls = c->inter_tls, .tls_verify_host = c->inter_tls_verify_host,
		.sasl_mechanism = c->inter_sasl_mech,
		.sasl_username = kp_jaas_get(&c->inter_sasl_jaas, "username"),
		.sasl_password = kp_jaas_get(&c->inter_sasl_jaas, "password"),
	};

	if (ep == NULL) {
		KP_ERROR("broker %d registers no endpoint for listener %s as %s", b->id,
			 c->listener, kp_secproto_name(c->inter_proto));
		return;
	}
	b->chan = chan_new(c->loop, b->id, ep->host, ep->port, c->socket_timeout_ms, &sec);
}

void ctl_broker_connect(struct controller *c)
{
	for (int i = 0; i < c->nbrokers; i++)
		if (c->brokers[i].chan == NULL)
			open_channel(c, &c->brokers[i]);
}

/* Brokers that started: metadata, their replicas' roles, elections. */
static void on_broker_startup(struct controller *c, const int32_t *ids, int n)
{
	/* a restarted broker's log dirs are online again (Kafka) */
	for (int j = 0; j < n; j++)
		ctl_logdir_broker_started(c, ids[j]);
	/* everyone learns the broker list; the new ones every partition */
	ctl_batch_brokers(c);
	ctl_batch_flush(c);
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			if (c->topics[i]->parts[p].has_state)
				ctl_batch_um(c, c->topics[i], p);
	ctl_batch_um_only(c, ids, n);
	ctl_batch_brokers(c);
	ctl_batch_flush(c);
	for (int i = 0; i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			if (!t->parts[p].has_state)
				continue;
			for (int j = 0; j < n; j++)
				if (ctl_ctx_in_list(&t->parts[p].replicas, ids[j]))
					ctl_batch_lai(c, ids[j], t, p, false);
		}
	}
	ctl_partition_online(c);
	ctl_batch_flush(c);
	/* deletions waiting for these brokers: an event of their own */
	for (int i = 0; i < c->ntopics; i++)
		if (c->topics[i]->deleting) {
			ctl_event_put(c->events, ctl_event_new(CTL_EV_TOPIC_DELETION_RETRY));
			break;
		}
}

void ctl_broker_change(struct controller *c)
{
	struct c_broker *now, *old = c->brokers;
	int nnow, nold = c->nbrokers, nnew = 0, ndead = 0;
	int32_t *started;

	if (ctl_zk_read_brokers(c, &now, &nnow) < 0)
		return;
	started = calloc((size_t)nnow + 1, sizeof(*started));
	if (started == NULL) {
		for (int i = 0; i < nnow; i++)
			kp_zk_broker_free(&now[i].reg);
		free(now);
		return;
	}
	/* carry channels over for brokers still registered with the same
	 * epoch; a new epoch is a bounce: a new channel */
	for (int i = 0; i < nnow; i++) {
		struct c_broker *o = NULL;

		for (int j = 0; j < nold; j++)
			if (old[j].id == now[i].id)
				o = &old[j];
		if (o != NULL && o->epoch == now[i].epoch) {
			now[i].chan = o->chan;
			o->chan = NULL;
		} else {
			if (o != NULL)
				KP_INFO("broker %d re-registered", now[i].id);
			else
				KP_INFO("broker %d is up", now[i].id);
			started[nnew++] = now[i].id;
		}
	}
	for (int j = 0; j < nold; j++) {
		bool still = false;

		for (int i = 0; i < nnow; i++)
			still |= now[i].id == old[j].id && now[i].epoch == old[j].epoch;
		if (!still) {
			ndead++;
			KP_INFO("broker %d is down", old[j].id);
		}
	}
	ctl_ctx_set_brokers(c, now, nnow);	/* old channels not carried over close */
	/* a broker that went (or came back) is no longer shutting down */
	for (int i = 0; i < c->nshutting_down; ) {
		struct c_broker *b = ctl_ctx_broker(c, c->shutting_down[i]);
		bool restarted = false;

		for (int j = 0; j < nnew; j++)
			restarted |= started[j] == c->shutting_down[i];
		if (b == NULL || restarted)
			c->shutting_down[i] = c->shutting_down[--c->nshutting_down];
		else
			i++;
	}
	for (int i = 0; i < nnow; i++)
		if (now[i].chan == NULL)
			open_channel(c, &now[i]);
	if (ndead > 0) {
		ctl_partition_online(c);
		ctl_batch_brokers(c);	/* everyone learns of the deaths */
		ctl_batch_flush(c);
	}
	if (nnew > 0 && ctl_ctx_active(c))
		on_broker_startup(c, started, nnew);
	free(started);
}

/* --------------------------------------------------- controlled shutdown */

/* Leadership of p off the shutting-down broker id, to the first eligible
 * in-sync replica; id leaves the ISR.  0 moved, 1 nobody to take it. */
static int move_leader(struct controller *c, struct c_topic *t, int32_t p, int32_t id)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t leader = -1, *isr, nisr = 0;
		int rc;

		if (cp->leader != id)
			return 0;	/* someone else moved it */
		/* Kafka's ControlledShutdownPartitionLeaderElectionStrategy:
		 * the offline strategy, shutting-down brokers not eligible */
		leader = ctl_partition_offline_leader(c, cp, false, NULL);
		if (leader < 0)
			return 1;
		isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		if (isr == NULL)
			return -1;
		for (int32_t i = 0; i < cp->isr.n; i++)
			if (!ctl_ctx_shutting_down(c, cp->isr.ids[i]))
				isr[nisr++] = cp->isr.ids[i];
		rc = ctl_partition_elect(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		KP_INFO("%s-%d: leadership moved from %d to %d (epoch %d)", t->name, p,
			id, leader, cp->leader_epoch);
		return 0;
	}
	return -1;
}

/* id leaves p's ISR (never emptying it). */
static int leave_isr(struct controller *c, struct c_topic *t, int32_t p, int32_t id)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t *isr, nisr = 0;
		int rc;

		if (cp->leader == id || !ctl_ctx_in_list(&cp->isr, id) || cp->isr.n <= 1)
			return 0;
		isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		if (isr == NULL)
			return -1;
		for (int32_t i = 0; i < cp->isr.n; i++)
			if (cp->isr.ids[i] != id)
				isr[nisr++] = cp->isr.ids[i];
		rc = ctl_zk_write_state(c, t, p, cp->leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		ctl_batch_lai_replicas(c, t, p, false);
		return 0;
	}
	return -1;
}

/*
 * One pass over broker id's partitions: with leaders, those it leads go to
 * their first eligible in-sync replica; without, it leaves the ISRs of
 * the partitions it follows.  Each ISR loses the brokers shutting down,
 * never emptied.  Decided for all, written in one pipelined batch (a
 * conflict goes the one-by-one way), queued as LeaderAndIsr for the
 * replicas.  Returns how many partitions were written; *zk_ms is how
 * long the batch write took.
 */
static int shutdown_pass(struct controller *c, int32_t id, bool leaders,
			 int64_t *zk_ms)
{
	struct ctl_zk_writes d = { 0 };
	int64_t t0;
	int32_t *isr = NULL;
	size_t capisr = 0;
	int done = 0;

	for (int i = 0; ctl_ctx_active(c) && i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			struct c_part *cp = &t->parts[p];
			int32_t leader = -1, nisr = 0;

			if (!cp->has_state || !ctl_ctx_in_list(&cp->replicas, id))
				continue;
			if (leaders && cp->leader == id && cp->replicas.n > 1) {
				leader = ctl_partition_offline_leader(c, cp, false, NULL);
				if (leader < 0)
					continue;	/* nobody to take it */
			} else if (!leaders && cp->leader != id &&
				   ctl_ctx_in_list(&cp->isr, id) && cp->isr.n > 1) {
				leader = cp->leader;
			} else {
				continue;
			}
			if (capisr < (size_t)cp->isr.n + 1) {
				free(isr);
				capisr = (size_t)cp->isr.n + 16;
				isr = calloc(capisr, sizeof(*isr));
				if (isr == NULL)
					goto out;
			}
			for (int32_t j = 0; j < cp->isr.n; j++)
				if (!ctl_ctx_shutting_down(c, cp->isr.ids[j]))
					isr[nisr++] = cp->isr.ids[j];
			if (nisr == 0)
				continue;
			if (ctl_zk_writes_add(&d, t, p, leader, isr, nisr) < 0)
				goto out;
		}
	}
	t0 = kp_now_ms();
	if (ctl_zk_writes_run(c, &d) == MOVED)
		goto out;
	*zk_ms = kp_now_ms() - t0;
	for (int i = 0; i < d.n && ctl_ctx_active(c); i++) {
		struct ctl_zk_write *w = &d.w[i];

		if (w->rc == 0) {
			/* leadership moved: OnlinePartition -> OnlinePartition */
			if (leaders)
				ctl_partition_set_state(c, w->t, w->p, CTL_PS_ONLINE);
			ctl_batch_lai_replicas(c, w->t, w->p, false);
			done++;
		} else if (w->rc == -EAGAIN && leaders) {
			done += move_leader(c, w->t, w->p, id) == 0;
		} else if (w->rc == -EAGAIN) {
			done += leave_isr(c, w->t, w->p, id) == 0;
		}
	}
out:
	free(isr);
	ctl_zk_writes_free(&d);
	return done;
}

/*
 * Every partition of broker id, in Kafka's order: the leaderships it holds
 * move first and their LeaderAndIsr and UpdateMetadata go out at once
 * (what clients wait for), then it leaves the ISRs of the partitions it
 * follows (what acks=all producers wait for), in a batch of their own.
 */
static void shutdown_moves(struct controller *c, int32_t id)
{
	int64_t t0 = kp_now_ms(), t1, zk0 = 0, zk1 = 0;
	int moved, left;

	moved = shutdown_pass(c, id, true, &zk0);
	ctl_batch_flush(c);
	t1 = kp_now_ms();
	if (!ctl_ctx_active(c))
		return;
	left = shutdown_pass(c, id, false, &zk1);
	ctl_batch_flush(c);
	KP_INFO("controlled shutdown of broker %d: %d leadership(s) moved in %" PRId64
		" ms (%" PRId64 " writing ZooKeeper), then out of %d ISR(s) in %" PRId64
		" ms (%" PRId64 ")", id, moved, t1 - t0, zk0, left, kp_now_ms() - t1, zk1);
}

static bool movable(struct controller *c, const struct c_part *cp, int32_t id)
{
	if (cp->leader != id)
		return false;
	for (int32_t i = 0; i < cp->replicas.n; i++)
		if (cp->replicas.ids[i] != id && ctl_ctx_eligible(c, cp->replicas.ids[i]))
			return true;
	return false;
}

void ctl_broker_controlled_shutdown(struct controller *c, int32_t id,
				    int64_t broker_epoch, bool has_epoch,
				    struct kp_controlled_shutdown_resp *resp,
				    struct kp_arena *a)
{
	struct c_broker *cb = ctl_ctx_active(c) ? ctl_ctx_broker(c, id) : NULL;
	struct kp_controlled_shutdown_resp_remaining_partition *rem;
	int32_t nrem = 0, cap = 0;

	if (!ctl_ctx_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	if (cb == NULL) {
		resp->error_code = KP_ERR_BROKER_NOT_AVAILABLE;
		return;
	}
	/*
	 * KIP-380: v2+ carries the broker's epoch (its registration's czxid).
	 * Kafka 2.8 skips the check for -1 at any version; here -1 (or any
	 * negative) at v2+ is refused like an old epoch, so that anyone who
	 * can reach the listener cannot drain a broker by naming its id.  A
	 * v0-1 request has no epoch: not checked, as Kafka.
	 */
	if (has_epoch && (broker_epoch < 0 || broker_epoch < cb->epoch)) {
		KP_INFO("controlled shutdown of broker %d with epoch %" PRId64
			" (current %" PRId64 ") refused: stale", id, broker_epoch,
			cb->epoch);
		resp->error_code = KP_ERR_STALE_BROKER_EPOCH;
		return;
	}
	if (!has_epoch && broker_epoch >= 0 && broker_epoch != cb->epoch) {
		resp->error_code = KP_ERR_STALE_BROKER_EPOCH;
		return;
	}
	if (ctl_ctx_add_shutting_down(c, id) < 0) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	KP_INFO("broker %d asks for a controlled shutdown", id);
	shutdown_moves(c, id);
	if (!ctl_ctx_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	/* still led, and movable later (another replica alive): a partition
	 * whose other replicas are all down goes offline whatever the broker
	 * waits for, so it is not listed (Kafka lists it, and the broker
	 * retries in vain) */
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			cap += movable(c, &c->topics[i]->parts[p], id);
	rem = kp_arena_calloc(a, (size_t)cap + 1, sizeof(*rem));
	if (rem == NULL) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++) {
			struct c_part *cp = &c->topics[i]->parts[p];

			if (!movable(c, cp, id))
				continue;
			rem[nrem].topic_name = kp_str_c(c->topics[i]->name);
			rem[nrem].partition_index = p;
			nrem++;
		}
	resp->remaining_partitions = rem;
	resp->remaining_partitions_count = nrem;
	KP_INFO("controlled shutdown of broker %d: %d partition(s) still led by it",
		id, nrem);
}
