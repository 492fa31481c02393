/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_coord.h - the group coordinator, as the parts it is made of.
 *
 * One lock guards all of it: the table of groups (group_table.h), the
 * deadline heap of the coordinator's thread (group_thread.h) and the
 * store's partitions and queued writes (group_store.h).  Request handlers
 * (api_group.c) take it on the network workers and call the coordinator's
 * operations - membership and rebalances in group_rebalance.c, committed
 * offsets and group deletion in group_offsets.c; deadlines, loads and
 * append completions run under it on the coordinator's thread.  Lock
 * order: the coordinator's lock before a partition's lock.
 *
 * The lifecycle and the face the rest of the broker sees are in group.c
 * (group.h).
 */
#ifndef GROUP_COORD_H
#define GROUP_COORD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "group_store.h"
#include "group_table.h"
#include "group_thread.h"

struct broker;

struct group_coord {
	pthread_mutex_t lock;		/* guards everything below */
	struct broker *b;
	struct group_table groups;
	struct group_thread thread;	/* its loop and deadline heap */
	struct group_store store;	/* __consumer_offsets */
	atomic_bool check_posted;	/* a write check is queued (no lock) */
	/* settings */
	int32_t initial_delay_ms;	/* group.initial.rebalance.delay.ms */
	int32_t min_session_ms, max_session_ms;
	int32_t max_size;		/* group.max.size */
	int32_t metadata_max;		/* offset.metadata.max.bytes */
	int32_t replication_factor;	/* offsets.topic.replication.factor */
	int32_t segment_bytes;		/* offsets.topic.segment.bytes */
};

#endif /* GROUP_COORD_H */
