/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_offsets.c - committed offsets and group deletion (see
 * group_offsets.h).
 */
#include "group_offsets.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "group_rebalance.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "metadata_cache.h"

/* -------------------------------------------------------- OffsetCommit */

static bool partition_known(struct broker *b, kp_str topic, int32_t partition)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	const struct md_topic *t = topic.len > 0
		? md_view_topic(v, topic.ptr, (size_t)topic.len) : NULL;
	bool known = t != NULL && md_topic_partition(t, partition) != NULL;

	md_view_unref(v);
	return known;
}

/* Kafka's translation of an append's error for a commit. */
static kp_err_t commit_error(int16_t err)
{
	switch (err) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return KP_ERR_NOT_COORDINATOR;
	case KP_ERR_MESSAGE_TOO_LARGE:
	case KP_ERR_RECORD_LIST_TOO_LARGE:
	case KP_ERR_INVALID_FETCH_SIZE:
		return KP_ERR_INVALID_COMMIT_OFFSET_SIZE;
	default:
		return err;
	}
}

/* A commit's append, waiting: where its results go. */
struct commit_wait {
	void (*done)(void *req);
	void *req;
	int32_t n;
	int16_t *errs[];
};

/* The append is acknowledged or failed (a group_store_done_fn): the
 * offsets are installed already when it succeeded. */
static void commit_done(void *arg, struct group *g, int32_t generation, int16_t err)
{
	struct commit_wait *cw = arg;

	(void)g;
	(void)generation;
	err = commit_error(err);
	for (int32_t i = 0; i < cw->n; i++)
		*cw->errs[i] = err;
	cw->done(cw->req);
	free(cw);
}

/* The group-level checks of a commit (Kafka's doCommitOffsets). */
static kp_err_t commit_check(struct group_coord *c, struct group **gp,
			     const struct group_commit *gc, int32_t opart)
{
	struct group *g = group_table_find(&c->groups, gc->group_id);
	struct group_member *m;

	if (g == NULL) {
		if (gc->generation >= 0)
			return KP_ERR_ILLEGAL_GENERATION;
		/* a group used only to store offsets */
		g = group_create(c, gc->group_id, opart);
		if (g == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	*gp = g;
	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	m = group_member_by_instance(g, gc->instance_id);
	if (m != NULL && !kp_str_eqc(gc->member_id, m->id))
		return KP_ERR_FENCED_INSTANCE_ID;
	if (gc->generation < 0 && g->fsm.state == GROUP_EMPTY)
		return 0;
	if (g->fsm.state == GROUP_COMPLETING_REBALANCE)
		return KP_ERR_REBALANCE_IN_PROGRESS;
	m = group_member_find(g, gc->member_id);
	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (gc->generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	/* a member's commit counts as a heartbeat, as in Kafka */
	group_member_touch(c, g, m, kp_now_ms());
	return 0;
}

/* The offset a part commits (retention_ms -1: the broker's); NULL when
 * out of memory. */
static struct group_offset *offset_of(int64_t retention_ms,
				      const struct group_commit_part *cp, int64_t now)
{
	struct group_offset *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->topic = kp_str_dup(cp->topic)) == NULL ||
	    (o->metadata = kp_str_dup(cp->metadata.len >= 0 ? cp->metadata
				      : (kp_str){ "", 0 })) == NULL) {
		group_offset_free(o);
		return NULL;
	}
	o->partition = cp->partition;
	o->offset = cp->offset;
	o->leader_epoch = cp->leader_epoch;
	o->commit_ts = cp->commit_ts >= 0 ? cp->commit_ts : now;
	o->expire_ts = retention_ms >= 0 ? now + retention_ms : -1;
	return o;
}

/*
 * The parts of a commit to g whose group-level result is top: each part's
 * checks, then the offsets appended (pid >= 0: a transaction's).  As
 * group_commit_offsets returns.
 */
static bool store_parts(struct group_coord *c, struct group *g, int16_t top,
			const struct group_commit_part *parts, int32_t nparts,
			int64_t retention_ms, int64_t pid, int16_t epoch,
			void (*done)(void *req), void *req)
{
	struct commit_wait *cw = malloc(sizeof(*cw) +
					sizeof(cw->errs[0]) * (size_t)(nparts + 1));
	struct group_offset *list = NULL, **tail = &list;
	int64_t now = kp_wall_ms();

	if (top == 0 && cw == NULL)
		top = KP_ERR_UNKNOWN_SERVER_ERROR;
	if (cw != NULL)
		cw->n = 0;
	for (int32_t i = 0; i < nparts; i++) {
		const struct group_commit_part *cp = &parts[i];
		struct group_offset *o;

		if (top != 0) {
			*cp->err = top;
			continue;
		}
		if (cp->metadata.len > c->metadata_max) {
			*cp->err = KP_ERR_OFFSET_METADATA_TOO_LARGE;
			continue;
		}
		if (!partition_known(c->b, cp->topic, cp->partition)) {
			*cp->err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		o = offset_of(retention_ms, cp, now);
		if (o == NULL) {
			*cp->err = KP_ERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		*tail = o;
		tail = &o->next;
		cw->errs[cw->n++] = cp->err;
	}
	if (list == NULL) {
		free(cw);
		return false;
	}
	cw->done = done;
	cw->req = req;
	/* commit_done sets the results and calls done */
	if (pid >= 0)
		group_store_commit_txn(&c->store, g, list, pid, epoch, commit_done, cw);
	else
		group_store_commit(&c->store, g, list, commit_done, cw);
	return true;
}

bool group_commit_offsets(struct group_coord *c, const struct group_commit *gc)
{
	struct group *g = NULL;
	int32_t opart = 0;
	int16_t top;

	top = gc->group_id.len < 0 ? KP_ERR_INVALID_GROUP_ID
		: group_store_owner(&c->store, gc->group_id, &opart);
	if (top == 0)
		top = commit_check(c, &g, gc, opart);
	return store_parts(c, g, top, gc->parts, gc->nparts, gc->retention_ms, -1, 0,
			   gc->done, gc->req);
}

/* ----------------------------------------------------- TxnOffsetCommit */

/* The group-level checks of a transactional commit (Kafka 2.8's
 * handleTxnCommitOffsets and doTxnCommitOffsets): a group unknown here is
 * made (Empty); the member and generation are checked only when given
 * (v3+). */
static kp_err_t txn_commit_check(struct group_coord *c, struct group **gp,
				 const struct group_txn_commit *tc, int32_t opart)
{
	struct group *g = group_table_find(&c->groups, tc->group_id);
	struct group_member *m;

	if (g == NULL && (g = group_create(c, tc->group_id, opart)) == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	*gp = g;
	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	m = group_member_by_instance(g, tc->instance_id);
	if (m != NULL && !kp_str_eqc(tc->member_id, m->id))
		return KP_ERR_FENCED_INSTANCE_ID;
	if (tc->member_id.len > 0 && group_member_find(g, tc->member_id) == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (tc->generation >= 0 && tc->generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	return 0;
}

bool group_txn_commit_offsets(struct group_coord *c, const struct group_txn_commit *tc)
{
	struct group *g = NULL;
	int32_t opart = 0;
	int16_t top;

	top = tc->group_id.len <= 0 ? KP_ERR_INVALID_GROUP_ID
		: group_store_owner(&c->store, tc->group_id, &opart);
	if (top == 0 && tc->pid < 0)
		top = KP_ERR_INVALID_PRODUCER_ID_MAPPING;
	if (top == 0)
		top = txn_commit_check(c, &g, tc, opart);
	/* no retention of its own: a transaction's offsets never expire
	 * by a deadline of the commit (Kafka writes none) */
	return store_parts(c, g, top, tc->parts, tc->nparts, -1, tc->pid, tc->epoch,
			   tc->done, tc->req);
}

/* -------------------------------------------------------- OffsetDelete */

kp_err_t group_delete_offsets(struct group_coord *c, kp_str group_id,
			      const struct group_offset_ref *parts, int32_t n)
{
	struct group_offset **doomed;
	struct group *g;
	int32_t opart, nd = 0;
	int16_t err;
	bool consumer_active;

	err = group_id.len <= 0 ? KP_ERR_INVALID_GROUP_ID
		: group_store_owner(&c->store, group_id, &opart);
	if (err != 0)
		return err;
	g = group_table_find(&c->groups, group_id);
	if (g == NULL || g->fsm.state == GROUP_DEAD)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	if (g->fsm.state != GROUP_EMPTY &&
	    (g->protocol_type == NULL || strcmp(g->protocol_type, "consumer") != 0))
		return KP_ERR_NON_EMPTY_GROUP;
	doomed = calloc((size_t)n + 1, sizeof(*doomed));
	if (doomed == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	consumer_active = g->fsm.state != GROUP_EMPTY;
	for (int32_t i = 0; i < n; i++) {
		const struct group_offset_ref *r = &parts[i];
		struct group_offset *o;
		bool dup = false;

		if (consumer_active && group_subscribes(g, r->topic)) {
			*r->err = KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
			continue;
		}
		*r->err = 0;
		o = r->topic.len >= 0
			? group_offset_find(g, r->topic.ptr, (size_t)r->topic.len, r->partition)
			: NULL;
		if (o == NULL)
			continue;
		for (int32_t k = 0; k < nd; k++)
			dup |= doomed[k] == o;
		if (!dup)
			doomed[nd++] = o;
	}
	if (nd > 0) {
		int rc = group_store_tombstones(&c->store, g, doomed, nd, false);

		if (rc == 0)
			for (int32_t k = 0; k < nd; k++)
				group_offset_del(g, doomed[k]);
		else
			err = rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : KP_ERR_NOT_COORDINATOR;
	}
	free(doomed);
	return err;
}

/* -------------------------------------------------------- DeleteGroups */

kp_err_t group_delete(struct group_coord *c, kp_str group_id)
{
	struct group *g;
	int32_t opart;
	int16_t err = group_id.len < 0 ? KP_ERR_INVALID_GROUP_ID
		: group_store_owner(&c->store, group_id, &opart);

	if (err != 0)
		return err;
	g = group_table_find(&c->groups, group_id);
	if (g == NULL || g->fsm.state == GROUP_DEAD)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	if (g->fsm.state != GROUP_EMPTY)
		return KP_ERR_NON_EMPTY_GROUP;
	KP_INFO("group %s: deleted (%u committed offsets)", g->id, g->noffsets);
	group_store_group_tombstones(&c->store, g);
	group_remove(&c->groups, &c->thread, g);
	return 0;
}
