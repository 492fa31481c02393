/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.c - the group coordinator's face to the rest of the broker: its
 * start and stop, the __consumer_offsets partitions it is told it leads
 * or no longer leads, and the high-watermark moves that acknowledge its
 * appends (group.h).
 *
 * The coordinator itself is its parts (group_coord.h): the table of
 * groups (group_table.c) with their rebalance states (group_fsm.c), the
 * membership protocol (group_rebalance.c), committed offsets
 * (group_offsets.c), the store in __consumer_offsets (group_store.c) and
 * its own thread with the deadline heap (group_thread.c).  The requests
 * reach it through api_group.c.
 */
#include "group.h"

#include <stdio.h>
#include <stdlib.h>

#include "broker.h"
#include "group_coord.h"
#include "group_rebalance.h"
#include "kp_config.h"
#include "kp_log.h"
#include "partition.h"

int group_start(struct broker *b, char *err, size_t errlen)
{
	struct group_coord *c = calloc(1, sizeof(*c));
	const struct kp_config *cfg = &b->cfg;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->b = b;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->check_posted, false);
	c->initial_delay_ms = kp_config_int(cfg, "group.initial.rebalance.delay.ms");
	c->min_session_ms = kp_config_int(cfg, "group.min.session.timeout.ms");
	c->max_session_ms = kp_config_int(cfg, "group.max.session.timeout.ms");
	c->max_size = kp_config_int(cfg, "group.max.size");
	c->metadata_max = kp_config_int(cfg, "offset.metadata.max.bytes");
	c->replication_factor = kp_config_int(cfg, "offsets.topic.replication.factor");
	c->segment_bytes = kp_config_int(cfg, "offsets.topic.segment.bytes");
	if (group_table_init(&c->groups) < 0 ||
	    group_thread_init(&c->thread, &c->lock) < 0 ||
	    group_store_init(&c->store, b, &c->lock, &c->groups, &c->thread) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (group_thread_start(&c->thread) < 0) {
		snprintf(err, errlen, "cannot start the group coordinator thread");
		goto fail;
	}
	b->coord = c;
	return 0;
fail:
	group_store_free(&c->store);
	group_thread_free(&c->thread);
	group_table_free(&c->groups);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return -1;
}

void group_stop(struct broker *b)
{
	struct group_coord *c = b->coord;

	if (c == NULL || !c->thread.running)
		return;
	group_thread_stop(&c->thread);
	/* requests now get NOT_COORDINATOR */
	pthread_mutex_lock(&c->lock);
	group_store_unload_all(&c->store);
	for (uint32_t i = 0; i < c->groups.nbuckets; i++)
		while (c->groups.buckets[i] != NULL)
			group_remove(&c->groups, &c->thread, c->groups.buckets[i]);
	pthread_mutex_unlock(&c->lock);
}

void group_destroy(struct broker *b)
{
	struct group_coord *c = b->coord;

	if (c == NULL)
		return;
	group_stop(b);
	group_store_free(&c->store);
	group_thread_free(&c->thread);
	group_table_free(&c->groups);
	pthread_mutex_destroy(&c->lock);
	free(c);
	b->coord = NULL;
}

struct load_job {
	struct group_coord *c;
	int32_t opart;
	uint32_t lead_gen;
};

/* On the coordinator's thread: read the partition, groups into the table. */
static void load_run(void *arg)
{
	struct load_job *j = arg;

	group_store_load(&j->c->store, j->opart, j->lead_gen, group_adopt, j->c);
	free(j);
}

void group_partition_role(struct broker *b, struct partition *p)
{
	struct group_coord *c = b->coord;
	struct load_job *j;
	bool leader;
	uint32_t gen;
	int rc;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->thread.running) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	pthread_mutex_lock(&p->lock);
	leader = p->leader && p->log != NULL;
	gen = p->lead_gen;
	pthread_mutex_unlock(&p->lock);
	rc = group_store_role(&c->store, p, leader, gen);
	if (rc < 0)
		KP_ERROR("out of memory tracking %s-%d", p->topic, p->index);
	if (rc <= 0) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	j = malloc(sizeof(*j));
	if (j != NULL)
		*j = (struct load_job){ c, p->index, gen };
	if (j == NULL || group_thread_post(&c->thread, load_run, j) < 0) {
		free(j);
		group_store_load_cancel(&c->store, p->index);
		KP_ERROR("cannot schedule loading %s-%d", p->topic, p->index);
	}
	pthread_mutex_unlock(&c->lock);
}

/* On the coordinator's thread: the writes a high watermark acknowledged. */
static void check_run(void *arg)
{
	struct group_coord *c = arg;

	atomic_store(&c->check_posted, false);
	pthread_mutex_lock(&c->lock);
	group_store_check_writes(&c->store, kp_now_ms());
	pthread_mutex_unlock(&c->lock);
}

void group_hw_moved(struct broker *b)
{
	struct group_coord *c = b->coord;

	if (c != NULL && !atomic_exchange(&c->check_posted, true))
		if (group_thread_post(&c->thread, check_run, c) < 0)
			atomic_store(&c->check_posted, false);
}

void group_marker_acked(struct broker *b, int32_t opart, int64_t pid, bool commit,
			int64_t offset)
{
	struct group_coord *c = b->coord;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->thread.running)
		group_store_txn_marker(&c->store, opart, pid, commit, offset);
	pthread_mutex_unlock(&c->lock);
}
