/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_topic.c - topic events and topic deletion; see ctl_topic.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_batch.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_partition.h"
#include "ctl_topic.h"
#include "ctl_zk.h"
#include "kp_log.h"

/* ------------------------------------------------------- new topics */

void ctl_topic_change(struct controller *c)
{
	struct ctl_zk_writes d = { 0 };
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/brokers/topics", true, &res);

	if (rc != KP_ZK_OK) {
		KP_ERROR("reading /brokers/topics: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return;
	}
	/* gone: forget (children are sorted, like our table) */
	for (int i = c->ntopics - 1; i >= 0; i--) {
		bool present = false;

		for (int32_t j = 0; j < res.nchildren && !present; j++)
			present = strcmp(res.children[j], c->topics[i]->name) == 0;
		if (!present)
			ctl_ctx_topic_remove(c, c->topics[i]);
	}
	{
		char **fresh = calloc((size_t)res.nchildren + 1, sizeof(*fresh));
		struct c_topic **ts = calloc((size_t)res.nchildren + 1, sizeof(*ts));
		int n = 0;

		for (int32_t j = 0; fresh != NULL && j < res.nchildren; j++)
			if (ctl_ctx_topic(c, res.children[j]) == NULL)
				fresh[n++] = res.children[j];
		if (fresh != NULL && ts != NULL && n > 0 && ctl_zk_load_topics(c, fresh, n, ts) == 0)
			for (int j = 0; j < n && ctl_ctx_active(c); j++) {
				struct c_topic *t = ts[j];

				if (t == NULL || ctl_ctx_topic_insert(c, t) < 0) {
					ctl_ctx_topic_free(t);
					continue;
				}
				KP_INFO("new topic %s with %d partitions", t->name, t->nparts);
				ctl_partition_create(c, t, 0, t->nparts);
				ctl_partition_collect_new(c, &d, t, 0, t->nparts);
			}
		free(fresh);
		free(ts);
	}
	kp_zk_result_free(&res);
	ctl_partition_apply_new(c, &d);
	ctl_batch_flush(c);
}

void ctl_topic_partition_modification(struct controller *c, const char *name)
{
	struct c_topic *t = ctl_ctx_topic(c, name), *nt;
	struct c_part *np;
	int32_t old;

	if (t == NULL)
		return;
	nt = ctl_zk_load_topic(c, name, t->topic_id);	/* re-arms the watch */
	if (nt == NULL)
		return;
	if (t->topic_id[0] == '\0')
		memcpy(t->topic_id, nt->topic_id, sizeof(t->topic_id));
	if (nt->nparts <= t->nparts || t->deleting) {
		ctl_ctx_topic_free(nt);
		return;
	}
	np = realloc(t->parts, sizeof(*np) * (size_t)nt->nparts);
	if (np == NULL) {
		ctl_ctx_topic_free(nt);
		return;
	}
	t->parts = np;
	old = t->nparts;
	for (int32_t p = old; p < nt->nparts; p++) {
		t->parts[p] = nt->parts[p];
		nt->parts[p] = (struct c_part){ .leader = -1, .state = CTL_PS_NONEXISTENT };
	}
	t->nparts = nt->nparts;
	ctl_ctx_topic_free(nt);
	KP_INFO("topic %s: partitions %d..%d added", name, old, t->nparts - 1);
	{
		struct ctl_zk_writes d = { 0 };

		ctl_partition_create(c, t, old, t->nparts);
		ctl_partition_collect_new(c, &d, t, old, t->nparts);
		ctl_partition_apply_new(c, &d);
	}
	ctl_batch_flush(c);
}

/* ------------------------------------------------------------ deletion */

/* Every replica stopped and deleted: remove the topic from ZooKeeper. */
static void finish_delete(struct controller *c, struct c_topic *t)
{
	int rc = ctl_zk_delete_topic(c, t);

	if (rc == MOVED)
		return;
	if (rc != KP_ZK_OK) {
		KP_ERROR("deleting topic %s from ZooKeeper: %s", t->name,
			 kp_zk_strerror(rc));
		return;
	}
	KP_INFO("deleted topic %s", t->name);
	ctl_ctx_topic_remove(c, t);
}

/* Start (or retry) deleting t: every replica must be alive to stop. */
static void start_delete(struct controller *c, struct c_topic *t)
{
	bool all_live = true;

	if (t->pending_stops > 0)
		return;
	for (int32_t p = 0; p < t->nparts; p++)
		for (int32_t i = 0; i < t->parts[p].replicas.n; i++)
			all_live &= ctl_ctx_live(c, t->parts[p].replicas.ids[i]);
	/* brokers drop it from their metadata now (leader -2) */
	for (int32_t p = 0; p < t->nparts; p++)
		ctl_batch_um(c, t, p);
	if (!all_live) {
		KP_INFO("deleting topic %s waits for its offline replicas", t->name);
		ctl_batch_flush(c);
		return;
	}
	t->stop_failed = false;
	for (int32_t p = 0; p < t->nparts; p++)
		for (int32_t i = 0; i < t->parts[p].replicas.n; i++)
			ctl_batch_stop(c, t->parts[p].replicas.ids[i], t, p,
				       EPOCH_DURING_DELETE);
	ctl_batch_flush(c);
	if (t->pending_stops == 0)
		finish_delete(c, t);	/* nothing to stop */
}

static void try_delete(struct controller *c, struct c_topic *t)
{
	if (t->stop_failed) {
		t->stop_failed = false;
		return;		/* retried when a broker comes back */
	}
	finish_delete(c, t);
}

void ctl_topic_deletion_resume(struct controller *c)
{
	for (int i = c->ntopics - 1; i >= 0 && ctl_ctx_active(c); i--)
		if (i < c->ntopics && c->topics[i]->deleting)
			start_delete(c, c->topics[i]);
}

void ctl_topic_deletion(struct controller *c)
{
	struct kp_zk_result res;
	int rc = ctl_zk_read(c, KP_ZK_READ_CHILDREN, "/admin/delete_topics", true, &res);

	if (rc != KP_ZK_OK) {
		kp_zk_result_free(&res);
		return;
	}
	for (int32_t i = 0; i < res.nchildren && ctl_ctx_active(c); i++) {
		struct c_topic *t = ctl_ctx_topic(c, res.children[i]);
		char path[512];

		if (t == NULL || !kp_config_bool(&c->cfg, "delete.topic.enable")) {
			struct kp_zk_op op;
			struct kp_zk_result r2;

			/* nothing to delete, or deletion is disabled: drop it */
			if (t != NULL)
				KP_WARN("delete.topic.enable is false: not deleting %s",
					res.children[i]);
			snprintf(path, sizeof(path), "/admin/delete_topics/%s",
				 res.children[i]);
			op = (struct kp_zk_op){ .type = KP_ZK_OP_DELETE, .path = path,
						.version = -1 };
			ctl_zk_fenced(c, &op, 1, &r2);
			kp_zk_result_free(&r2);
			continue;
		}
		if (!t->deleting) {
			KP_INFO("deleting topic %s", t->name);
			t->deleting = true;
			ctl_partition_delete(c, t);
			start_delete(c, t);
		}
	}
	kp_zk_result_free(&res);
}

void ctl_topic_stop_response(struct controller *c, const struct ctl_event *ev)
{
	struct c_topic *t;

	if (!ev->u.stop.deleting) {
		/* a replica reassigned away: a broker that missed it keeps a
		 * stray log, as in Kafka; nothing waits for it */
		if (ev->u.stop.failed)
			KP_WARN("StopReplica of a reassigned-away replica of %s on "
				"broker %d failed", ev->u.stop.topic, ev->u.stop.broker);
		return;
	}
	/* counted in this term's deletion only */
	if (!ctl_ctx_active(c) || ev->u.stop.epoch != c->epoch ||
	    (t = ctl_ctx_topic(c, ev->u.stop.topic)) == NULL || !t->deleting)
		return;
	if (ev->u.stop.failed) {
		KP_WARN("StopReplica of %s to broker %d failed; will retry", t->name,
			ev->u.stop.broker);
		t->stop_failed = true;
	}
	if (--t->pending_stops == 0)
		try_delete(c, t);
}
