/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.h - the group coordinator: consumer groups and committed offsets.
 *
 * A group lives on the leader of its __consumer_offsets partition
 * (kp_group_partition).  Its state - members, generation, the chosen
 * protocol and assignments - and its committed offsets are kept in memory
 * and persisted as records in that partition (kp_groupmeta), appended
 * through the partition's leader path and acknowledged once the ISR has
 * them.  When this broker becomes the partition's leader it loads the
 * partition (requests for its groups get COORDINATOR_LOAD_IN_PROGRESS
 * meanwhile); when it stops leading, the groups are dropped (requests get
 * NOT_COORDINATOR).
 *
 * Threads: request handlers (api_group.c) run on the network workers and
 * change the coordinator's state under its one lock; loads, deadlines
 * (session and rebalance deadlines, commit timeouts, offset expiry) and
 * the completion of appends run on the coordinator's own thread.  Parked
 * requests (a JoinGroup waiting for the others, a SyncGroup waiting for
 * the leader's assignment, a commit waiting for the ISR) are answered by
 * posting the response to the request's worker.  Lock order: the
 * coordinator's lock before a partition's lock.
 *
 * This header is all the rest of the broker sees; the coordinator's parts
 * are gathered in group_coord.h.
 */
#ifndef GROUP_H
#define GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct partition;

/* Read the group.* and offsets.* settings and start the thread. */
int group_start(struct broker *b, char *err, size_t errlen);
/* Stop the thread, drop every group and answer every parked request
 * (before the network stops); requests then get NOT_COORDINATOR. */
void group_stop(struct broker *b);
/* Free the coordinator (after the network stopped). */
void group_destroy(struct broker *b);
/* A __consumer_offsets partition's role changed (caller holds no lock):
 * load it when we lead it now, unload it when we do not. */
void group_partition_role(struct broker *b, struct partition *p);
/* New data or high watermark on a __consumer_offsets partition (any
 * thread, any lock): appends waiting for the ISR are checked. */
void group_hw_moved(struct broker *b);

/* A transaction marker of producer pid at offset in __consumer_offsets
 * partition opart is acknowledged by the ISR (any thread, holding no
 * lock): the transaction's offsets there become committed offsets
 * (commit) or are dropped (Kafka's scheduleHandleTxnCompletion). */
void group_marker_acked(struct broker *b, int32_t opart, int64_t pid, bool commit,
			int64_t offset);

#endif /* GROUP_H */
