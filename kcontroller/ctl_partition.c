/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_partition.c - the partition state machine and its elections; see
 * ctl_partition.h.
 *
 * A new partition's ISR is its live replicas; afterwards leaders shrink
 * and expand ISRs themselves and tell us through /isr_change_notification.
 * Elections pick the first live in-sync replica in assignment order (an
 * out-of-sync one only with unclean.leader.election.enable); brokers in a
 * controlled shutdown are never picked.
 *
 * What an event changes for many partitions at once (a broker dies, a
 * topic of 10,000 partitions appears, a new controller takes over) is
 * decided for all of them first, written in one pipelined batch
 * (ctl_zk_writes_run), and announced in one LeaderAndIsr and one
 * UpdateMetadata per broker.  A partition whose znode changed under us
 * goes the one-partition way, which re-reads and decides again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_partition.h"
#include "ctl_zk.h"
#include "kp_loop.h"
#include "kp_log.h"
#include "kp_zkdata.h"

/* -------------------------------------------------------- state machine */

static const char *const state_names[CTL_PS_NSTATES] = {
	[CTL_PS_NONEXISTENT] = "NonExistentPartition",
	[CTL_PS_NEW] = "NewPartition",
	[CTL_PS_ONLINE] = "OnlinePartition",
	[CTL_PS_OFFLINE] = "OfflinePartition",
};

/* valid_from[to]: the states a partition may enter to from (a bit each) */
#define FROM(s) (1u << (s))
static const unsigned valid_from[CTL_PS_NSTATES] = {
	[CTL_PS_NONEXISTENT] = FROM(CTL_PS_OFFLINE),
	[CTL_PS_NEW] = FROM(CTL_PS_NONEXISTENT),
	[CTL_PS_ONLINE] = FROM(CTL_PS_NEW) | FROM(CTL_PS_ONLINE) | FROM(CTL_PS_OFFLINE),
	[CTL_PS_OFFLINE] = FROM(CTL_PS_NEW) | FROM(CTL_PS_ONLINE) | FROM(CTL_PS_OFFLINE),
};

const char *ctl_partition_state_name(enum ctl_pstate s)
{
	return s >= 0 && s < CTL_PS_NSTATES ? state_names[s] : "?";
}

bool ctl_partition_valid(enum ctl_pstate from, enum ctl_pstate to)
{
	if (from < 0 || from >= CTL_PS_NSTATES || to < 0 || to >= CTL_PS_NSTATES)
		return false;
	return (valid_from[to] & FROM(from)) != 0;
}

/* Refuse (and log) an invalid transition; true when it is valid. */
static bool check(struct controller *c, const struct c_topic *t, int32_t p,
		  enum ctl_pstate to)
{
	enum ctl_pstate from = t->parts[p].state;

	if (ctl_partition_valid(from, to))
		return true;
	/* as Kafka's logInvalidTransition: a bug, never the cluster's doing */
	KP_ERROR("controller %d epoch %d failed to change state for partition "
		 "%s-%d from %s to %s: invalid transition", c->id, c->epoch,
		 t->name, p, ctl_partition_state_name(from),
		 ctl_partition_state_name(to));
	return false;
}

bool ctl_partition_set_state(struct controller *c, struct c_topic *t, int32_t p,
			     enum ctl_pstate to)
{
	struct c_part *cp = &t->parts[p];

	if (!check(c, t, p, to))
		return false;
	KP_DEBUG("partition %s-%d: %s -> %s (leader %d, epoch %d)", t->name, p,
		 ctl_partition_state_name(cp->state), ctl_partition_state_name(to),
		 cp->leader, cp->leader_epoch);
	cp->state = to;
	return true;
}

/* The state a partition's znode (as read) puts it in. */
static enum ctl_pstate state_of(const struct controller *c, const struct c_part *cp)
{
	if (!cp->has_state)
		return CTL_PS_NEW;
	return cp->leader >= 0 && ctl_ctx_live(c, cp->leader) ? CTL_PS_ONLINE
							     : CTL_PS_OFFLINE;
}

void ctl_partition_load(struct controller *c, struct c_topic *t)
{
	for (int32_t p = 0; p < t->nparts; p++)
		t->parts[p].state = t->deleting ? CTL_PS_NONEXISTENT
				    : state_of(c, &t->parts[p]);
}

/* After a re-read (someone else wrote the znode): the state it says. */
static void settle(struct controller *c, struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];
	enum ctl_pstate s = state_of(c, cp);

	if (cp->has_state && s != cp->state)
		ctl_partition_set_state(c, t, p, s);
}

/* ---------------------------------------------------------- leader choice */

/* The replica of broker id is usable: its broker is alive and its log
 * dir is online (ctl_logdir.c). */
static bool replica_up(const struct controller *c, const struct c_part *cp, int32_t id)
{
	return ctl_ctx_live(c, id) && !ctl_ctx_in_list(&cp->dir_offline, id);
}

static bool replica_eligible(const struct controller *c, const struct c_part *cp,
			     int32_t id)
{
	return ctl_ctx_eligible(c, id) && !ctl_ctx_in_list(&cp->dir_offline, id);
}

int32_t ctl_partition_offline_leader(const struct controller *c,
				     const struct c_part *cp, bool unclean,
				     bool *unclean_pick)
{
	if (unclean_pick != NULL)
		*unclean_pick = false;
	for (int32_t i = 0; i < cp->replicas.n; i++)
		if (replica_eligible(c, cp, cp->replicas.ids[i]) &&
		    ctl_ctx_in_list(&cp->isr, cp->replicas.ids[i]))
			return cp->replicas.ids[i];
	if (!unclean)
		return -1;
	for (int32_t i = 0; i < cp->replicas.n; i++)
		if (replica_eligible(c, cp, cp->replicas.ids[i])) {
			if (unclean_pick != NULL)
				*unclean_pick = true;
			return cp->replicas.ids[i];
		}
	return -1;
}

int32_t ctl_partition_reassign_leader(const struct controller *c,
				      const struct c_part *cp,
				      const struct kp_replicas *target)
{
	if (cp->leader >= 0 && ctl_ctx_in_list(target, cp->leader) &&
	    ctl_ctx_eligible(c, cp->leader))
		return cp->leader;
	for (int32_t i = 0; i < target->n; i++)
		if (ctl_ctx_eligible(c, target->ids[i]) &&
		    ctl_ctx_in_list(&cp->isr, target->ids[i]))
			return target->ids[i];
	return -1;
}

/* ---------------------------------------------------------- elections */

int ctl_partition_elect(struct controller *c, struct c_topic *t, int32_t p,
			int32_t leader, const int32_t *isr, int32_t nisr)
{
	int rc;

	int64_t t0 = kp_now_us();

	if (!check(c, t, p, CTL_PS_ONLINE))
		return -EINVAL;
	rc = ctl_zk_write_state(c, t, p, leader, isr, nisr);
	if (rc != 0)
		return rc;
	kp_mhist_observe_us(&c->metrics.elections, (uint64_t)(kp_now_us() - t0));
	ctl_partition_set_state(c, t, p, CTL_PS_ONLINE);
	ctl_batch_lai_replicas(c, t, p, false);
	return 0;
}

/*
 * OfflinePartition -> OnlinePartition with Kafka's offline strategy: the
 * first replica in assignment order that is alive and in the ISR leads;
 * ISR := ISR minus dead brokers (unclean: the leader alone).  1 when
 * elected, 0 when no candidate, or an error.
 */
static int elect_offline(struct controller *c, struct c_topic *t, int32_t p)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t leader, *isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
		int32_t nisr = 0;
		bool unclean = false;
		int rc;

		if (isr == NULL)
			return -1;
		leader = ctl_partition_offline_leader(c, cp, false, NULL);
		if (leader < 0 && ctl_zk_unclean_allowed(c, t->name))
			leader = ctl_partition_offline_leader(c, cp, true, &unclean);
		if (leader < 0) {
			free(isr);
			return 0;
		}
		if (!unclean) {
			for (int32_t i = 0; i < cp->isr.n; i++)
				if (replica_eligible(c, cp, cp->isr.ids[i]))
					isr[nisr++] = cp->isr.ids[i];
		} else {
			KP_WARN("%s-%d: unclean election of broker %d (data may be lost)",
				t->name, p, leader);
			isr[nisr++] = leader;
		}
		rc = ctl_partition_elect(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == 0 && unclean)
			kp_mctr_add(&c->metrics.unclean_elections, 1);
		if (rc == -EAGAIN) {
			settle(c, t, p);
			if (t->parts[p].leader >= 0 &&
			    replica_up(c, &t->parts[p], t->parts[p].leader))
				return 1;	/* someone else already did */
			continue;
		}
		if (rc < 0)
			return rc;
		KP_INFO("%s-%d: leader %d, epoch %d", t->name, p, leader,
			t->parts[p].leader_epoch);
		return 1;
	}
	return -1;
}

/*
 * One partition of the offline pass, alone (its znode changed under the
 * batch): a dead leader's partition gets a new leader or none (leader -1,
 * Offline); dead brokers leave the ISR (never emptied).  -EAGAIN when the
 * znode changed again (the context was re-read: decide again).
 */
static int replica_offline_one(struct controller *c, struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];
	int32_t *isr, nisr = 0;
	bool leader_dead, isr_dead = false;
	int rc;

	if (!cp->has_state)
		return 0;
	settle(c, t, p);
	isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr));
	if (isr == NULL)
		return -1;
	leader_dead = cp->leader >= 0 && !replica_up(c, cp, cp->leader);
	for (int32_t j = 0; j < cp->isr.n; j++)
		if (replica_up(c, cp, cp->isr.ids[j]))
			isr[nisr++] = cp->isr.ids[j];
		else
			isr_dead = true;
	if ((!leader_dead && !isr_dead) ||
	    (leader_dead && elect_offline(c, t, p) != 0) ||
	    (nisr == 0 && cp->leader < 0)) {	/* already offline */
		free(isr);
		return 0;
	}
	if (nisr == 0) {
		memcpy(isr, cp->isr.ids, sizeof(*isr) * (size_t)cp->isr.n);
		nisr = cp->isr.n;
	}
	rc = ctl_zk_write_state(c, t, p, leader_dead ? -1 : cp->leader, isr, nisr);
	free(isr);
	if (rc == 0) {
		if (leader_dead) {
			KP_WARN("%s-%d: leader gone and no in-sync replica "
				"alive: offline", t->name, p);
			if (cp->state != CTL_PS_OFFLINE)
				ctl_partition_set_state(c, t, p, CTL_PS_OFFLINE);
		}
		ctl_batch_lai_replicas(c, t, p, false);
		ctl_batch_um(c, t, p);
	}
	return rc;
}

void ctl_partition_replica_offline(struct controller *c, struct c_topic *t, int32_t p)
{
	for (int attempt = 0; attempt < 3; attempt++)
		if (replica_offline_one(c, t, p) != -EAGAIN)
			return;
}

/* ---------------------------------------------------- new partitions */

void ctl_partition_create(struct controller *c, struct c_topic *t, int32_t from,
			  int32_t to)
{
	for (int32_t p = from; p < to; p++)
		ctl_partition_set_state(c, t, p, CTL_PS_NEW);
}

void ctl_partition_collect_new(struct controller *c, struct ctl_zk_writes *d,
			       struct c_topic *t, int32_t from, int32_t to)
{
	int32_t *isr = NULL;

	for (int32_t p = from; p < to && ctl_ctx_active(c); p++) {
		struct c_part *cp = &t->parts[p];
		int32_t nisr = 0;

		if (cp->has_state || cp->state != CTL_PS_NEW)
			continue;
		free(isr);
		isr = calloc((size_t)cp->replicas.n + 1, sizeof(*isr));
		if (isr == NULL)
			break;
		for (int32_t i = 0; i < cp->replicas.n; i++)
			if (ctl_ctx_eligible(c, cp->replicas.ids[i]))
				isr[nisr++] = cp->replicas.ids[i];
		if (nisr == 0) {
			/* as Kafka: it stays NewPartition */
			KP_WARN("%s-%d: no replica is alive; it stays without a leader",
				t->name, p);
			continue;
		}
		if (ctl_zk_writes_add(d, t, p, isr[0], isr, nisr) < 0)
			break;
	}
	free(isr);
}

void ctl_partition_apply_new(struct controller *c, struct ctl_zk_writes *d)
{
	if (ctl_zk_writes_run(c, d) != MOVED)
		for (int i = 0; i < d->n; i++) {
			struct ctl_zk_write *w = &d->w[i];

			if (w->rc == 0) {
				ctl_partition_set_state(c, w->t, w->p, CTL_PS_ONLINE);
				ctl_batch_lai_replicas(c, w->t, w->p, true);
			} else if (w->rc == -EAGAIN) {
				/* someone made it meanwhile: as its znode says */
				settle(c, w->t, w->p);
			}
		}
	ctl_zk_writes_free(d);
}

/* ------------------------------------------------------------ offline */

/* offline partitions named one by one in a round; the rest are counted */
#define OFFLINE_NAMED 20

/*
 * Every partition with a dead leader, no leader, or dead ISR members:
 * the first live in-sync replica (assignment order) leads, the ISR keeps
 * its live members (never emptied); without an in-sync candidate the
 * partition goes offline (leader -1), and an unclean election is tried
 * one by one where the topic allows it.
 */
static bool in_list(const struct kp_replicas *l, int32_t id)
{
	for (int32_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

/*
 * Kafka reads partition states from ZooKeeper before it takes dead
 * replicas out of their ISRs.  Ours come from the context, which can lag a
 * leader's own ISR expansion by up to 7.5 s (leaders announce ISR changes
 * in batches, kbroker's isr_notify.c): a dead replica the context does not
 * list in the ISR may have rejoined it meanwhile, and would stay in it,
 * dead, until its leader shrank the ISR.  Such partitions' states are read
 * again first, in one pipelined batch.  0, or MOVED.
 */
static int refresh_dead_outside_isr(struct controller *c)
{
	struct c_topic **ts = NULL;
	int32_t *ps = NULL;
	int n = 0, cap = 0, rc = 0;

	for (int i = 0; ctl_ctx_active(c) && i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		for (int32_t p = 0; !t->deleting && p < t->nparts; p++) {
			struct c_part *cp = &t->parts[p];
			bool stale = false;

			for (int32_t j = 0; cp->has_state && j < cp->replicas.n && !stale; j++)
				stale = !ctl_ctx_live(c, cp->replicas.ids[j]) &&
					!in_list(&cp->isr, cp->replicas.ids[j]);
			if (!stale)
				continue;
			if (n == cap) {
				int nc = cap ? 2 * cap : 256;
				struct c_topic **nt = realloc(ts, sizeof(*nt) * (size_t)nc);
				int32_t *np;

				if (nt == NULL)
					goto out;
				ts = nt;
				if ((np = realloc(ps, sizeof(*np) * (size_t)nc)) == NULL)
					goto out;
				ps = np;
				cap = nc;
			}
			ts[n] = t;
			ps[n++] = p;
		}
	}
	if (n > 0)
		rc = ctl_zk_read_some_states(c, ts, ps, n) == MOVED ? MOVED : 0;
out:
	free(ts);
	free(ps);
	return rc;
}

/*
 * Write one set of the offline pass's decisions and batch what changed:
 * 0, or MOVED.  *warned counts the partitions named offline.
 */
static int offline_write(struct controller *c, struct ctl_zk_writes *d, int *warned)
{
	if (ctl_zk_writes_run(c, d) == MOVED)
		return MOVED;
	for (int i = 0; i < d->n && ctl_ctx_active(c); i++) {
		struct ctl_zk_write *w = &d->w[i];
		int rc = w->rc;

		for (int attempt = 0; rc == -EAGAIN && attempt < 3; attempt++)
			rc = replica_offline_one(c, w->t, w->p);
		if (rc == MOVED)
			return MOVED;
		if (w->rc == 0) {
			/* named up to a point: a whole cluster stopping would
			 * otherwise write a line per partition */
			if (w->leader < 0 && ++*warned <= OFFLINE_NAMED)
				KP_WARN("%s-%d: leader gone and no in-sync replica alive: "
					"offline", w->t->name, w->p);
			if (w->leader >= 0 && w->t->parts[w->p].state != CTL_PS_ONLINE)
				ctl_partition_set_state(c, w->t, w->p, CTL_PS_ONLINE);
			ctl_batch_lai_replicas(c, w->t, w->p, false);
			ctl_batch_um(c, w->t, w->p);
		}
	}
	return 0;
}

/*
 * The decisions go in two sets: partitions that get a new leader (or
 * none) first, written and sent on their own, then those where dead
 * brokers only leave the ISR.  A broker of 10,000 partitions dying makes
 * 3,333 new leaders and 6,667 ISR shrinks: the new leaders reach the
 * brokers after a third of the writes, not all of them.
 */
static void offline_pass(struct controller *c)
{
	struct ctl_zk_writes dl = { 0 }, d = { 0 };
	struct { struct c_topic *t; int32_t p; } *retry = NULL;
	int nretry = 0, capretry = 0, warned = 0;
	int32_t *isr = NULL;
	size_t capisr = 0;

	if (refresh_dead_outside_isr(c) == MOVED)
		return;
	for (int i = 0; ctl_ctx_active(c) && i < c->ntopics; i++) {
		struct c_topic *t = c->topics[i];

		if (t->deleting)
			continue;
		for (int32_t p = 0; p < t->nparts; p++) {
			struct c_part *cp = &t->parts[p];
			bool leader_ok = cp->leader >= 0 && ctl_ctx_live(c, cp->leader);
			bool isr_dead = false, same;
			int32_t leader = -1, nisr = 0;

			if (!cp->has_state)
				continue;
			for (int32_t j = 0; j < cp->isr.n; j++)
				isr_dead |= !ctl_ctx_live(c, cp->isr.ids[j]);
			if (leader_ok && !isr_dead)
				continue;
			if (capisr < (size_t)cp->isr.n + 1) {
				free(isr);
				capisr = (size_t)cp->isr.n + 16;
				isr = calloc(capisr, sizeof(*isr));
				if (isr == NULL)
					goto out;
			}
			if (leader_ok) {
				leader = cp->leader;
			} else {
				/* Kafka's OnlinePartition -> OfflinePartition for
				 * the partitions of a dead leader, then back
				 * Online if a replica can lead */
				if (cp->state == CTL_PS_ONLINE)
					ctl_partition_set_state(c, t, p, CTL_PS_OFFLINE);
				leader = ctl_partition_offline_leader(c, cp, false, NULL);
			}
			for (int32_t j = 0; j < cp->isr.n; j++)
				if (leader >= 0 && !leader_ok ? ctl_ctx_eligible(c, cp->isr.ids[j])
				    : ctl_ctx_live(c, cp->isr.ids[j]))
					isr[nisr++] = cp->isr.ids[j];
			if (nisr == 0) {	/* never empty an ISR */
				memcpy(isr, cp->isr.ids, sizeof(*isr) * (size_t)cp->isr.n);
				nisr = cp->isr.n;
			}
			if (leader < 0) {
				/* no clean candidate: unclean one by one, later */
				if (nretry == capretry) {
					int nc = capretry ? 2 * capretry : 64;
					void *nr = realloc(retry, sizeof(*retry) * (size_t)nc);

					if (nr == NULL)
						goto out;
					retry = nr;
					capretry = nc;
				}
				retry[nretry].t = t;
				retry[nretry++].p = p;
			}
			same = leader == cp->leader && nisr == cp->isr.n &&
			       memcmp(isr, cp->isr.ids, sizeof(*isr) * (size_t)nisr) == 0;
			if (same)
				continue;	/* already offline, ISR as it was */
			if (ctl_zk_writes_add(leader != cp->leader ? &dl : &d, t, p, leader,
					      isr, nisr) < 0)
				goto out;
		}
	}
	if (offline_write(c, &dl, &warned) == MOVED)
		goto out;
	if (dl.n > 0 && d.n > 0)
		ctl_batch_flush(c);	/* the new leaders go out first */
	if (offline_write(c, &d, &warned) == MOVED)
		goto out;
	for (int i = 0; i < nretry && ctl_ctx_active(c); i++)
		if (retry[i].t->parts[retry[i].p].leader < 0)
			elect_offline(c, retry[i].t, retry[i].p);
	{
		int changed = 0, offline = 0, elected = 0;

		for (int i = 0; i < dl.n; i++) {
			changed += dl.w[i].rc == 0;
			elected += dl.w[i].rc == 0 && dl.w[i].leader >= 0;
		}
		for (int i = 0; i < d.n; i++)
			changed += d.w[i].rc == 0;
		offline = changed - elected;
		for (int i = 0; i < d.n; i++)
			offline -= d.w[i].rc == 0 && d.w[i].leader >= 0;
		if (warned > OFFLINE_NAMED)
			KP_WARN("... and %d more partitions offline", warned - OFFLINE_NAMED);
		if (dl.n + d.n > 0)
			KP_INFO("%d partition state(s) changed (%d offline, %d new leaders "
				"written and sent first)", changed, offline, elected);
	}
out:
	free(isr);
	free(retry);
	ctl_zk_writes_free(&dl);
	ctl_zk_writes_free(&d);
}

void ctl_partition_online(struct controller *c)
{
	struct ctl_zk_writes d = { 0 };

	for (int i = 0; ctl_ctx_active(c) && i < c->ntopics; i++)
		if (!c->topics[i]->deleting)
			ctl_partition_collect_new(c, &d, c->topics[i], 0,
						  c->topics[i]->nparts);
	ctl_partition_apply_new(c, &d);
	offline_pass(c);
}

/* ------------------------------------------------------------- deletion */

void ctl_partition_delete(struct controller *c, struct c_topic *t)
{
	for (int32_t p = 0; p < t->nparts; p++) {
		if (t->parts[p].state != CTL_PS_OFFLINE)
			ctl_partition_set_state(c, t, p, CTL_PS_OFFLINE);
		ctl_partition_set_state(c, t, p, CTL_PS_NONEXISTENT);
	}
}

/* ---------------------------------------------------------- ISR changes */

/* A reassigned partition's ISR changed: its own event (Kafka's
 * PartitionReassignmentIsrChange), which may complete the reassignment. */
static void queue_reassign_check(struct controller *c, const struct c_topic *t,
				 int32_t p)
{
	struct ctl_event *ev = ctl_event_new(CTL_EV_REASSIGN_ISR_CHANGE);

	if (ev == NULL || (ev->u.topic.name = strdup(t->name)) == NULL) {
		free(ev);
		KP_ERROR("%s-%d: reassignment check lost (out of memory)", t->name, p);
		return;
	}
	ev->u.topic.partition = p;
	ctl_event_put(c->events, ev);
}

/* The partitions of one notification: their states re-read in one
 * pipelined batch (Kafka's getTopicPartitionStates), then UpdateMetadata
 * for them; a notification lists every partition a leader changed in a
 * while (kbroker's isr_notify.c), thousands at once.  MOVED or 0. */
static int isr_notice(struct controller *c, const struct kp_zk_tp_list *l)
{
	struct c_topic **ts = calloc(l->n + 1, sizeof(*ts));
	int32_t *ps = calloc(l->n + 1, sizeof(*ps));
	int n = 0, rc = 0;

	if (ts == NULL || ps == NULL) {
		free(ts);
		free(ps);
		KP_ERROR("ISR change notice of %zu partitions lost (out of memory)", l->n);
		return 0;
	}
	for (size_t j = 0; j < l->n; j++) {
		struct c_topic *t = ctl_ctx_topic(c, l->items[j].topic);
		int32_t p = l->items[j].partition;

		if (t == NULL || t->deleting || p < 0 || p >= t->nparts)
			continue;
		ts[n] = t;
		ps[n++] = p;
	}
	if (n > 0 && (rc = ctl_zk_read_some_states(c, ts, ps, n)) != MOVED) {
		rc = 0;
		for (int i = 0; i < n; i++) {
			ctl_batch_um(c, ts[i], ps[i]);
			if (ctl_ctx_reassigning(&ts[i]->parts[ps[i]]))
				queue_reassign_check(c, ts[i], ps[i]);
		}
	}
	free(ts);
	free(ps);
	return rc;
}

/* The partitions the notifications name, as (topic, partition). */
struct isr_tp {
	struct c_topic *t;
	int32_t p;
};

static int isr_tp_cmp(const void *a, const void *b)
{
	const struct isr_tp *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* The partitions named by the notifications read into it[0..n), known
 * and not being deleted, each once, as one list (its topic names are the
 * context's); false when out of memory. */
static bool isr_partitions(struct controller *c, struct kp_zk_batch_item *it,
			   int32_t n, struct kp_zk_tp_list *out)
{
	struct isr_tp *tps = NULL;
	size_t cnt = 0, cap = 0, u = 0;

	out->items = NULL;
	out->n = 0;
	for (int32_t i = 0; i < n; i++) {
		struct kp_zk_tp_list l;
		char err[256];

		if (it[i].res.rc != KP_ZK_OK || it[i].res.data == NULL ||
		    kp_zk_tp_list_decode(it[i].res.data, (size_t)it[i].res.len, false, &l,
					 err, sizeof(err)) < 0)
			continue;	/* gone meanwhile, or not one we can read */
		for (size_t j = 0; j < l.n; j++) {
			struct c_topic *t = ctl_ctx_topic(c, l.items[j].topic);
			int32_t p = l.items[j].partition;

			if (t == NULL || t->deleting || p < 0 || p >= t->nparts)
				continue;
			if (cnt == cap) {
				size_t nc = cap ? 2 * cap : 256;
				struct isr_tp *nt = realloc(tps, nc * sizeof(*nt));

				if (nt == NULL) {
					kp_zk_tp_list_free(&l);
					free(tps);
					return false;
				}
				tps = nt;
				cap = nc;
			}
			tps[cnt++] = (struct isr_tp){ t, p };
		}
		kp_zk_tp_list_free(&l);
	}
	if (cnt == 0)
		return true;
	qsort(tps, cnt, sizeof(*tps), isr_tp_cmp);
	out->items = calloc(cnt, sizeof(*out->items));
	if (out->items == NULL) {
		free(tps);
		return false;
	}
	for (size_t k = 0; k < cnt; k++)
		if (u == 0 || isr_tp_cmp(&tps[k - 1], &tps[k]) != 0)
			out->items[u++] = (struct kp_zk_tp){ .topic = tps[k].t->name,
							     .partition = tps[k].p };
	out->n = u;
	free(tps);
	return true;
}

/* Delete the notification znodes paths[0..n) in one pipelined batch. */
static void isr_delete(struct controller *c, struct kp_zk_batch_item *it, char **paths,
		       int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		it[i] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_DELETE, .path = paths[i] };
	kp_zk_batch_sync(c->zk, it, n);
	for (int32_t i = 0; i < n; i++)
		kp_zk_result_free(&it[i].res);
}

/* paths[0..n) of the children of /isr_change_notification in res, and an
 * item each (calloc'd; free both with isr_paths_free); false when out of
 * memory. */
static bool isr_paths(const struct kp_zk_result *res, struct kp_zk_batch_item **it,
		      char ***paths)
{
	int32_t n = res->nchildren;

	*it = calloc((size_t)n + 1, sizeof(**it));
	*paths = calloc((size_t)n + 1, sizeof(**paths));
	if (*it == NULL || *paths == NULL)
		return false;
	for (int32_t i = 0; i < n; i++) {
		size_t len = strlen(res->children[i]) + sizeof("/isr_change_notification/");

		(*paths)[i] = malloc(len);
		if ((*paths)[i] == NULL)
			return false;
		snprintf((*paths)[i], len, "/isr_change_notification/%s", res->children[i]);
		(*it)[i] = (struct kp_zk_batch_item){ .kind = KP_ZK_BATCH_GET,
						      .path = (*paths)[i] };
	}
	return true;
}

static void isr_paths_free(struct kp_zk_batch_item *it, char **paths, int32_t n)
{
	for (int32_t i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(paths);
	free(it);
}

void ctl_partition_isr_change_drop(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_batch_item *it = NULL;
	char **paths = NULL;
	int32_t n = 0;

	if (kp_zk_children_sync(c->zk, "/isr_change_notification", &res) == KP_ZK_OK &&
	    res.nchildren > 0) {
		n = res.nchildren;
		if (isr_paths(&res, &it, &paths))
			isr_delete(c, it, paths, n);
		else
			KP_ERROR("ISR change notifications: out of memory");
		KP_INFO("deleted %d pending ISR change notification(s): the states are read "
			"next", n);
	}
	isr_paths_free(it, paths, n);
	kp_zk_result_free(&res);
}

/*
 * Kafka's IsrChangeNotification: every /isr_change_notification child
 * read, the partitions they name (each once) re-read from their state
 * znodes, their metadata sent to every broker, the notifications deleted.
 * Each step is one pipelined ZooKeeper batch, never a round trip per
 * notification: a controller taking over finds all that piled up while
 * none was active, thousands when a broker was rejoining the ISRs of
 * 10,000 partitions.
 */
void ctl_partition_isr_change(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_batch_item *it = NULL;
	struct kp_zk_tp_list all = { NULL, 0 };
	char **paths = NULL;
	int32_t n = 0;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/isr_change_notification", true, &res);

	if (rc != KP_ZK_OK || res.nchildren <= 0 || !ctl_ctx_active(c))
		goto out;
	n = res.nchildren;
	if (!isr_paths(&res, &it, &paths))
		goto oom;
	kp_zk_batch_sync(c->zk, it, n);
	rc = isr_partitions(c, it, n, &all) ? 0 : -1;
	for (int32_t i = 0; i < n; i++)
		kp_zk_result_free(&it[i].res);
	if (rc < 0)
		goto oom;
	if (all.n > 0 && isr_notice(c, &all) == MOVED)
		goto out;	/* the next controller reads them */
	KP_DEBUG("ISR change notifications: %d read, %zu partition(s) updated", n, all.n);
	isr_delete(c, it, paths, n);
	ctl_batch_flush(c);
	goto out;
oom:
	/* left in place: the next notification (or controller) reads them */
	KP_ERROR("ISR change notifications: out of memory");
out:
	isr_paths_free(it, paths, n);
	free(all.items);	/* the names are the context's */
	kp_zk_result_free(&res);
}
