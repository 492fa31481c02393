/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reassign.c - partition reassignment (KIP-455, as Kafka 2.8's controller
 * does it), started by AlterPartitionReassignments or by creating
 * /admin/reassign_partitions.
 *
 * A partition being reassigned has, in its topic znode and in the
 * context, the full replica set RS = target ++ (current - target), with
 * adding_replicas = target - origin and removing_replicas = RS - target.
 *
 *  Phase A (start): write RS/adding/removing to the topic znode, bump the
 *    leader epoch, send LeaderAndIsr to every replica of RS: the new ones
 *    create their logs and fetch from the leader like any follower.
 *  Phase B (every target replica is in the ISR - learned through
 *    /isr_change_notification, or at once): leadership moves into the
 *    target when the leader is leaving (the first live in-sync target
 *    replica), the ISR loses the removed replicas, the topic znode gets
 *    the target alone, the removed replicas get StopReplica with deletion,
 *    every broker UpdateMetadata.
 *
 * Nothing acknowledged is lost: leadership only ever moves to an in-sync
 * replica, and a replica is only removed after the target replicas are
 * in sync.  Cancelling is reassigning back to the origin replicas (the
 * added ones become the removed ones).  A new controller resumes from the
 * topic znodes.  /admin/reassign_partitions loses each partition as it
 * completes and goes when empty, as in Kafka.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_partition.h"
#include "ctl_zk.h"
#include "reassign.h"
#include "kp_arena.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"

#define REASSIGN_ZNODE "/admin/reassign_partitions"

static void zk_reassign_update(struct controller *c);

/* out := a minus b, order kept; returns the count (out holds a->n). */
static int32_t list_minus(const int32_t *a, int32_t na, const struct kp_replicas *b,
			  int32_t *out)
{
	int32_t n = 0;

	for (int32_t i = 0; i < na; i++)
		if (!ctl_ctx_in_list(b, a[i]))
			out[n++] = a[i];
	return n;
}

static void fmt_list(char *buf, size_t len, const int32_t *ids, int32_t n)
{
	size_t off = 0;

	buf[0] = 0;
	for (int32_t i = 0; i < n && off + 12 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "", ids[i]);
}

int reassign_plan(const struct kp_replicas *current,
		  const struct kp_replicas *adding_now, const int32_t *target,
		  int32_t ntarget, struct kp_replicas *rs, struct kp_replicas *adding,
		  struct kp_replicas *removing)
{
	struct kp_replicas tgt = { (int32_t *)target, ntarget }, origin;
	int rc = -1;

	*rs = *adding = *removing = (struct kp_replicas){ NULL, 0 };
	origin.ids = calloc((size_t)current->n + 1, sizeof(int32_t));
	rs->ids = calloc((size_t)(current->n + ntarget) + 1, sizeof(int32_t));
	adding->ids = calloc((size_t)ntarget + 1, sizeof(int32_t));
	removing->ids = calloc((size_t)current->n + 1, sizeof(int32_t));
	if (origin.ids == NULL || rs->ids == NULL || adding->ids == NULL ||
	    removing->ids == NULL)
		goto out;
	/* RS = target ++ (current - target); origin = current - adding */
	if (ntarget > 0)
		memcpy(rs->ids, target, sizeof(int32_t) * (size_t)ntarget);
	rs->n = ntarget + list_minus(current->ids, current->n, &tgt,
				     rs->ids + ntarget);
	origin.n = list_minus(current->ids, current->n, adding_now, origin.ids);
	adding->n = list_minus(target, ntarget, &origin, adding->ids);
	removing->n = list_minus(rs->ids, rs->n, &tgt, removing->ids);
	rc = 0;
out:
	free(origin.ids);
	if (rc < 0) {
		kp_replicas_free(rs);
		kp_replicas_free(adding);
		kp_replicas_free(removing);
	}
	return rc;
}

/* Bump the leader epoch (same leader), the ISR kept to keep's members
 * when given; up to three tries on conflicts.  0, MOVED or -1. */
static int bump_epoch(struct controller *c, struct c_topic *t, int32_t p,
		      int32_t leader, const struct kp_replicas *keep)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct c_part *cp = &t->parts[p];
		int32_t *isr = calloc((size_t)cp->isr.n + 1, sizeof(*isr)), nisr = 0;
		int rc;

		if (isr == NULL)
			return -1;
		for (int32_t i = 0; i < cp->isr.n; i++)
			if (keep == NULL || ctl_ctx_in_list(keep, cp->isr.ids[i]))
				isr[nisr++] = cp->isr.ids[i];
		if (nisr == 0) {	/* never empty an ISR */
			memcpy(isr, cp->isr.ids, sizeof(*isr) * (size_t)cp->isr.n);
			nisr = cp->isr.n;
		}
		rc = ctl_zk_write_state(c, t, p, leader, isr, nisr);
		free(isr);
		if (rc == -EAGAIN) {
			if (leader == -1 || leader != cp->leader)
				return -1;	/* changed under us: caller decides */
			continue;
		}
		return rc;
	}
	return -1;
}

/* Phase B: every target replica is in sync. */
static void reassign_complete(struct controller *c, struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];
	struct kp_replicas target = { NULL, 0 }, removed = { NULL, 0 }, none = { NULL, 0 };
	int32_t leader = -1;
	bool moved;
	char buf[256];
	int rc;

	target.ids = calloc((size_t)cp->replicas.n + 1, sizeof(int32_t));
	removed.ids = calloc((size_t)cp->replicas.n + 1, sizeof(int32_t));
	if (target.ids == NULL || removed.ids == NULL)
		goto out;
	target.n = list_minus(cp->replicas.ids, cp->replicas.n, &cp->removing, target.ids);
	memcpy(removed.ids, cp->removing.ids, sizeof(int32_t) * (size_t)cp->removing.n);
	removed.n = cp->removing.n;
	/* the leader stays if it is staying; else the first live in-sync
	 * target replica takes over */
	leader = ctl_partition_reassign_leader(c, cp, &target);
	if (leader < 0) {
		KP_WARN("%s-%d: reassignment waits: no live in-sync target replica "
			"to lead", t->name, p);
		goto out;
	}
	moved = leader != cp->leader;
	rc = bump_epoch(c, t, p, leader, &target);
	if (rc < 0)
		goto out;	/* MOVED, or re-decided on the next event */
	/* Kafka's ReassignPartitionLeaderElectionStrategy: Online -> Online */
	if (moved)
		ctl_partition_set_state(c, t, p, CTL_PS_ONLINE);
	rc = ctl_zk_write_assignment(c, t, p, &target, &none, &none);
	if (rc < 0)
		goto out;
	ctl_ctx_list_set(&cp->replicas, target.ids, target.n);
	kp_replicas_free(&cp->adding);
	kp_replicas_free(&cp->removing);
	ctl_batch_lai_replicas(c, t, p, false);
	for (int32_t i = 0; i < removed.n; i++)
		if (ctl_ctx_live(c, removed.ids[i]))
			ctl_batch_stop(c, removed.ids[i], t, p, cp->leader_epoch);
	fmt_list(buf, sizeof(buf), target.ids, target.n);
	KP_INFO("%s-%d: reassignment complete: replicas [%s], leader %d (epoch %d)",
		t->name, p, buf, cp->leader, cp->leader_epoch);
	if (cp->zk_reassign) {
		cp->zk_reassign = false;
		ctl_batch_flush(c);
		zk_reassign_update(c);
	}
out:
	free(target.ids);
	free(removed.ids);
}

void reassign_check(struct controller *c, struct c_topic *t, int32_t p)
{
	struct c_part *cp = &t->parts[p];

	if (!ctl_ctx_active(c) || t->deleting || !ctl_ctx_reassigning(cp) || !cp->has_state)
		return;
	for (int32_t i = 0; i < cp->replicas.n; i++)
		if (!ctl_ctx_in_list(&cp->removing, cp->replicas.ids[i]) &&
		    !ctl_ctx_in_list(&cp->isr, cp->replicas.ids[i]))
			return;		/* a target replica is still catching up */
	reassign_complete(c, t, p);
}

void reassign_isr_change(struct controller *c, const char *topic, int32_t p)
{
	struct c_topic *t = ctl_ctx_topic(c, topic);

	if (t == NULL || p < 0 || p >= t->nparts)
		return;		/* gone meanwhile */
	reassign_check(c, t, p);
	ctl_batch_flush(c);
}

void reassign_resume(struct controller *c)
{
	int n = 0;

	for (int i = 0; i < c->ntopics && ctl_ctx_active(c); i++)
		for (int32_t p = 0; ctl_ctx_active(c) && p < c->topics[i]->nparts; p++)
			if (ctl_ctx_reassigning(&c->topics[i]->parts[p])) {
				n++;
				reassign_check(c, c->topics[i], p);
			}
	ctl_batch_flush(c);
	if (n > 0)
		KP_INFO("%d partition reassignment(s) resumed", n);
}

/*
 * Phase A: reassign p to target (already validated).  0, or an error
 * code with *why.
 */
static kp_err_t reassign_start(struct controller *c, struct c_topic *t, int32_t p,
			       const int32_t *target, int32_t ntarget, const char **why)
{
	struct c_part *cp = &t->parts[p];
	struct kp_replicas tgt = { (int32_t *)target, ntarget };
	struct kp_replicas rs = { NULL, 0 }, adding = { NULL, 0 }, removing = { NULL, 0 };
	int16_t err = KP_ERR_UNKNOWN_SERVER_ERROR;
	char b1[256], b2[256];
	int rc;

	*why = NULL;
	{
		/* the same target as the reassignment in progress: nothing new */
		int32_t *cur = calloc((size_t)cp->replicas.n + 1, sizeof(*cur)), ncur;
		bool same;

		if (cur == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		ncur = list_minus(cp->replicas.ids, cp->replicas.n, &cp->removing, cur);
		same = ncur == ntarget &&
		       memcmp(cur, target, sizeof(*cur) * (size_t)ntarget) == 0;
		free(cur);
		if (same && ctl_ctx_reassigning(cp))
			return 0;
		if (same) {
			*why = NULL;	/* already where it should be */
			return 0;
		}
	}
	if (reassign_plan(&cp->replicas, &cp->adding, target, ntarget, &rs, &adding,
			  &removing) < 0)
		goto out;
	if (adding.n == 0 && removing.n == 0) {
		/* the same replicas in another order: only the preferred
		 * leader changes */
		rc = ctl_zk_write_assignment(c, t, p, &tgt, &adding, &removing);
		if (rc < 0) {
			err = rc == MOVED ? KP_ERR_NOT_CONTROLLER : KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		ctl_ctx_list_set(&cp->replicas, target, ntarget);
		kp_replicas_free(&cp->adding);
		kp_replicas_free(&cp->removing);
		ctl_batch_um(c, t, p);
		err = 0;
		goto out;
	}
	rc = ctl_zk_write_assignment(c, t, p, &rs, &adding, &removing);
	if (rc < 0) {
		err = rc == MOVED ? KP_ERR_NOT_CONTROLLER : KP_ERR_UNKNOWN_SERVER_ERROR;
		*why = rc == MOVED ? NULL : "writing the topic znode failed";
		goto out;
	}
	ctl_ctx_list_set(&cp->replicas, rs.ids, rs.n);
	ctl_ctx_list_set(&cp->adding, adding.ids, adding.n);
	ctl_ctx_list_set(&cp->removing, removing.ids, removing.n);
	if (adding.n == 0)
		kp_replicas_free(&cp->adding);
	if (removing.n == 0)
		kp_replicas_free(&cp->removing);
	fmt_list(b1, sizeof(b1), rs.ids, rs.n);
	fmt_list(b2, sizeof(b2), target, ntarget);
	KP_INFO("%s-%d: reassigning to [%s] (replicas now [%s])", t->name, p, b2, b1);
	/* every replica of RS learns the set at a new epoch; the new ones
	 * start following */
	if (cp->has_state) {
		rc = bump_epoch(c, t, p, cp->leader, NULL);
		if (rc == MOVED) {
			err = KP_ERR_NOT_CONTROLLER;
			goto out;
		}
		ctl_batch_lai_replicas(c, t, p, false);
	}
	reassign_check(c, t, p);
	err = 0;
out:
	kp_replicas_free(&rs);
	kp_replicas_free(&adding);
	kp_replicas_free(&removing);
	return err;
}

/* A requested target: non-empty, no duplicates, every broker registered. */
static kp_err_t validate_target(struct controller *c, const int32_t *ids, int32_t n,
			        const char **why)
{
	if (n <= 0) {
		*why = "the replica list is empty";
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t i = 0; i < n; i++) {
		for (int32_t j = 0; j < i; j++)
			if (ids[i] == ids[j]) {
				*why = "the replica list has duplicates";
				return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
		if (ids[i] < 0 || !ctl_ctx_live(c, ids[i])) {
			*why = "the replica assignment has brokers that are not alive";
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	return 0;
}

/* Start (target) or cancel (target NULL) one partition's reassignment. */
static kp_err_t alter_one(struct controller *c, const char *topic, int32_t p,
			  const int32_t *target, int32_t ntarget, const char **why)
{
	struct c_topic *t = ctl_ctx_topic(c, topic);
	struct c_part *cp;
	int16_t err;

	*why = NULL;
	if (!ctl_ctx_active(c))
		return KP_ERR_NOT_CONTROLLER;	/* resigned during this request */
	if (t == NULL || t->deleting || p < 0 || p >= t->nparts) {
		*why = t != NULL && t->deleting ? "the topic is being deleted" : NULL;
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	cp = &t->parts[p];
	if (target == NULL) {
		int32_t *origin;
		int32_t n;

		if (!ctl_ctx_reassigning(cp))
			return KP_ERR_NO_REASSIGNMENT_IN_PROGRESS;
		origin = calloc((size_t)cp->replicas.n + 1, sizeof(*origin));
		if (origin == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		n = list_minus(cp->replicas.ids, cp->replicas.n, &cp->adding, origin);
		KP_INFO("%s-%d: cancelling its reassignment", t->name, p);
		cp->zk_reassign = false;
		err = reassign_start(c, t, p, origin, n, why);
		free(origin);
		return err;
	}
	err = validate_target(c, target, ntarget, why);
	if (err != 0)
		return err;
	/* an API request takes the partition over from the znode's plan */
	cp->zk_reassign = false;
	return reassign_start(c, t, p, target, ntarget, why);
}

static kp_str arena_msg(struct kp_arena *a, const char *s)
{
	char *d;

	if (s == NULL || (d = kp_arena_strndup(a, s, strlen(s))) == NULL)
		return KP_STR_NULL;
	return (kp_str){ d, (int32_t)strlen(d) };
}

void reassign_alter(struct controller *c,
		    const struct kp_alter_partition_reassignments_req *req,
		    struct kp_alter_partition_reassignments_resp *resp,
		    struct kp_arena *a)
{
	struct kp_alter_partition_reassignments_resp_reassignable_topic_response *tr;
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	bool touched = false;

	if (!ctl_ctx_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	tr = kp_arena_calloc(a, (size_t)nt + 1, sizeof(*tr));
	if (tr == NULL) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_alter_partition_reassignments_req_reassignable_topic *rt =
			&req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;
		struct kp_alter_partition_reassignments_resp_reassignable_partition_response *pr =
			kp_arena_calloc(a, (size_t)np + 1, sizeof(*pr));
		char name[256];

		if (pr == NULL) {
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		snprintf(name, sizeof(name), "%.*s", rt->name.len > 0 ? (int)rt->name.len : 0,
			 rt->name.ptr);
		kp_struct_init(&kp_alter_partition_reassignments_resp_reassignable_topic_response_desc,
			       &tr[i]);
		tr[i].name = rt->name;
		for (int32_t j = 0; j < np && ctl_ctx_active(c); j++) {
			const struct kp_alter_partition_reassignments_req_reassignable_partition *rp =
				&rt->partitions[j];
			const char *why;

			kp_struct_init(&kp_alter_partition_reassignments_resp_reassignable_partition_response_desc,
				       &pr[j]);
			pr[j].partition_index = rp->partition_index;
			pr[j].error_code = alter_one(c, name, rp->partition_index,
						     rp->replicas_count < 0 ? NULL : rp->replicas,
						     rp->replicas_count, &why);
			pr[j].error_message = arena_msg(a, why);
			touched = true;
			if (ctl_batch_full(c))
				ctl_batch_flush(c);
		}
		tr[i].partitions = pr;
		tr[i].partitions_count = np;
	}
	resp->responses = tr;
	resp->responses_count = nt;
	ctl_batch_flush(c);
	if (!ctl_ctx_active(c))
		resp->error_code = KP_ERR_NOT_CONTROLLER;
	else if (touched)
		zk_reassign_update(c);	/* partitions the API took over */
}

/* ------------------------------------------- ListPartitionReassignments */

static int fill_ongoing(struct kp_arena *a, const struct c_topic *t, const int32_t *parts,
			int32_t nparts,
			struct kp_list_partition_reassignments_resp_ongoing_topic_reassignment *out)
{
	int32_t n = 0, cnt = parts != NULL ? nparts : t->nparts;
	struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment *op =
		kp_arena_calloc(a, (size_t)cnt + 1, sizeof(*op));

	if (op == NULL)
		return -1;
	for (int32_t i = 0; i < cnt; i++) {
		int32_t p = parts != NULL ? parts[i] : i;
		const struct c_part *cp;
		int32_t *r, *ad, *rm;

		if (p < 0 || p >= t->nparts || !ctl_ctx_reassigning(&t->parts[p]))
			continue;
		cp = &t->parts[p];
		r = kp_arena_calloc(a, (size_t)cp->replicas.n + 1, sizeof(*r));
		ad = kp_arena_calloc(a, (size_t)cp->adding.n + 1, sizeof(*ad));
		rm = kp_arena_calloc(a, (size_t)cp->removing.n + 1, sizeof(*rm));
		if (r == NULL || ad == NULL || rm == NULL)
			return -1;
		memcpy(r, cp->replicas.ids, sizeof(*r) * (size_t)cp->replicas.n);
		if (cp->adding.n > 0)
			memcpy(ad, cp->adding.ids, sizeof(*ad) * (size_t)cp->adding.n);
		if (cp->removing.n > 0)
			memcpy(rm, cp->removing.ids, sizeof(*rm) * (size_t)cp->removing.n);
		kp_struct_init(&kp_list_partition_reassignments_resp_ongoing_partition_reassignment_desc,
			       &op[n]);
		op[n].partition_index = p;
		op[n].replicas = r;
		op[n].replicas_count = cp->replicas.n;
		op[n].adding_replicas = ad;
		op[n].adding_replicas_count = cp->adding.n;
		op[n].removing_replicas = rm;
		op[n].removing_replicas_count = cp->removing.n;
		n++;
	}
	if (n == 0)
		return 0;
	kp_struct_init(&kp_list_partition_reassignments_resp_ongoing_topic_reassignment_desc, out);
	out->name = arena_msg(a, t->name);
	out->partitions = op;
	out->partitions_count = n;
	return 1;
}

void reassign_list(struct controller *c,
		   const struct kp_list_partition_reassignments_req *req,
		   struct kp_list_partition_reassignments_resp *resp,
		   struct kp_arena *a)
{
	struct kp_list_partition_reassignments_resp_ongoing_topic_reassignment *ot;
	bool all = req->topics_count < 0;
	int32_t cnt = all ? c->ntopics : req->topics_count, n = 0;

	if (!ctl_ctx_active(c)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	ot = kp_arena_calloc(a, (size_t)cnt + 1, sizeof(*ot));
	if (ot == NULL) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	for (int32_t i = 0; i < cnt; i++) {
		const struct c_topic *t;
		int rc;

		if (all) {
			t = c->topics[i];
		} else {
			char name[256];

			snprintf(name, sizeof(name), "%.*s", req->topics[i].name.len > 0
				 ? (int)req->topics[i].name.len : 0, req->topics[i].name.ptr);
			t = ctl_ctx_topic(c, name);
		}
		if (t == NULL || t->deleting)
			continue;
		rc = all ? fill_ongoing(a, t, NULL, 0, &ot[n])
			 : fill_ongoing(a, t, req->topics[i].partition_indexes,
					req->topics[i].partition_indexes_count > 0
					? req->topics[i].partition_indexes_count : 0, &ot[n]);
		if (rc < 0) {
			resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		n += rc;
	}
	resp->topics = ot;
	resp->topics_count = n;
}

/* ---------------------------------------------- /admin/reassign_partitions */

/* Rewrite the znode with the partitions of it still in progress, or
 * delete it when none is left. */
static void zk_reassign_update(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_tp_list l = { NULL, 0 };
	struct kp_zk_op op;
	size_t cap = 0;
	char *json = NULL;
	int rc;

	if (!ctl_ctx_active(c) || kp_zk_exists_sync(c->zk, REASSIGN_ZNODE, NULL) != KP_ZK_OK)
		return;
	for (int i = 0; i < c->ntopics; i++)
		for (int32_t p = 0; p < c->topics[i]->nparts; p++)
			cap += c->topics[i]->parts[p].zk_reassign;
	if (cap > 0) {
		l.items = calloc(cap, sizeof(*l.items));
		if (l.items == NULL)
			return;
		for (int i = 0; i < c->ntopics; i++)
			for (int32_t p = 0; p < c->topics[i]->nparts; p++) {
				struct c_part *cp = &c->topics[i]->parts[p];
				struct kp_zk_tp *it = &l.items[l.n];

				if (!cp->zk_reassign)
					continue;
				/* its target: replicas - removing */
				it->topic = c->topics[i]->name;
				it->partition = p;
				it->replicas.ids = calloc((size_t)cp->replicas.n + 1,
							  sizeof(int32_t));
				if (it->replicas.ids == NULL)
					goto out;
				it->replicas.n = list_minus(cp->replicas.ids, cp->replicas.n,
							    &cp->removing, it->replicas.ids);
				l.n++;
			}
		json = kp_zk_tp_list_encode(&l, true);
		if (json == NULL)
			goto out;
		op = (struct kp_zk_op){ .type = KP_ZK_OP_SET, .path = REASSIGN_ZNODE,
					.data = json, .len = (int32_t)strlen(json),
					.version = -1 };
	} else {
		op = (struct kp_zk_op){ .type = KP_ZK_OP_DELETE, .path = REASSIGN_ZNODE,
					.version = -1 };
	}
	rc = ctl_zk_fenced(c, &op, 1, &res);
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK && rc != MOVED && rc != KP_ZK_NONODE)
		KP_WARN("updating %s: %s", REASSIGN_ZNODE, kp_zk_strerror(rc));
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.items[i].replicas.ids);
	free(l.items);
	free(json);
}

void reassign_znode(struct controller *c)
{
	struct kp_zk_result res;
	struct kp_zk_tp_list l;
	char err[256];
	bool dropped = false;
	int rc;

	rc = ctl_zk_read(c, KP_ZK_READ_EXISTS, REASSIGN_ZNODE, true, &res);
	kp_zk_result_free(&res);
	if (rc != KP_ZK_OK || !ctl_ctx_active(c))
		return;
	rc = kp_zk_get_sync(c->zk, REASSIGN_ZNODE, &res);
	if (rc != KP_ZK_OK || res.data == NULL ||
	    kp_zk_tp_list_decode(res.data, (size_t)res.len, true, &l, err,
				 sizeof(err)) < 0) {
		if (rc == KP_ZK_OK) {
			struct kp_zk_op op = { .type = KP_ZK_OP_DELETE, .path = REASSIGN_ZNODE,
					       .version = -1 };
			struct kp_zk_result r2;

			KP_WARN("%s: cannot parse it (%s); removing it", REASSIGN_ZNODE,
				res.data == NULL ? "no data" : err);
			ctl_zk_fenced(c, &op, 1, &r2);
			kp_zk_result_free(&r2);
		}
		kp_zk_result_free(&res);
		return;
	}
	kp_zk_result_free(&res);
	for (size_t i = 0; i < l.n && ctl_ctx_active(c); i++) {
		const struct kp_zk_tp *it = &l.items[i];
		struct c_topic *t = ctl_ctx_topic(c, it->topic);
		const char *why = NULL;
		int16_t e;

		e = validate_target(c, it->replicas.ids, it->replicas.n, &why);
		if (e == 0) {
			if (t == NULL || t->deleting || it->partition < 0 ||
			    it->partition >= t->nparts)
				e = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			else
				e = reassign_start(c, t, it->partition, it->replicas.ids,
						   it->replicas.n, &why);
		}
		if (e != 0) {
			KP_WARN("%s: %s-%d: %s%s%s", REASSIGN_ZNODE, it->topic, it->partition,
				kp_err_name(e), why ? ": " : "", why ? why : "");
			dropped = true;
			continue;
		}
		if (ctl_ctx_reassigning(&t->parts[it->partition]))
			t->parts[it->partition].zk_reassign = true;
		else
			dropped = true;	/* done at once */
		if (ctl_batch_full(c))
			ctl_batch_flush(c);
	}
	kp_zk_tp_list_free(&l);
	ctl_batch_flush(c);
	if (dropped)
		zk_reassign_update(c);
}
