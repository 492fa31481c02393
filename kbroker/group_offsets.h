/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_offsets.h - committed offsets and group deletion, as the
 * coordinator handles them: OffsetCommit (Kafka's handleCommitOffsets:
 * the group and member checks, then the offsets stored), OffsetDelete
 * (handleDeleteOffsets) and DeleteGroups (handleDeleteGroups).
 * OffsetFetch only reads the table (api_group.c).
 *
 * Every function here runs with the coordinator's lock held.
 */
#ifndef GROUP_OFFSETS_H
#define GROUP_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

#include "group_coord.h"
#include "kp_errors.h"

/* One partition of an OffsetCommit. */
struct group_commit_part {
	kp_str topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	kp_str metadata;		/* null: "" */
	int64_t commit_ts;		/* -1: now */
	int16_t *err;			/* where its result goes */
};

/* An OffsetCommit, as the coordinator needs it. */
struct group_commit {
	kp_str group_id, member_id, instance_id;
	int32_t generation;		/* -1: a commit from outside the group */
	int64_t retention_ms;		/* -1: the broker's retention */
	struct group_commit_part *parts;
	int32_t nparts;
	void (*done)(void *req);	/* after an append: every err is set */
	void *req;
};

/* OffsetCommit: every part's err is set, at once or when the append is
 * acknowledged or fails.  true: an append waits, and done(req) is called
 * then (perhaps at once); false: every err is set now. */
bool group_commit_offsets(struct group_coord *c, const struct group_commit *gc);

/* A TxnOffsetCommit, as the coordinator needs it. */
struct group_txn_commit {
	kp_str group_id, member_id, instance_id;
	int32_t generation;		/* -1: not checked (v0-2) */
	int64_t pid;			/* the transactional producer */
	int16_t epoch;
	struct group_commit_part *parts; /* commit_ts -1, as Kafka sets it */
	int32_t nparts;
	void (*done)(void *req);
	void *req;
};

/* TxnOffsetCommit (Kafka 2.8's handleTxnCommitOffsets): the group and
 * member checks, then the offsets written as a transactional batch of
 * the producer, pending until its transaction's marker (group_txn.h).
 * An epoch older than the producer's in that partition is
 * INVALID_PRODUCER_EPOCH.  Returns as group_commit_offsets. */
bool group_txn_commit_offsets(struct group_coord *c, const struct group_txn_commit *tc);

/* One partition of an OffsetDelete. */
struct group_offset_ref {
	kp_str topic;
	int32_t partition;
	int16_t *err;			/* where its result goes */
};

/* OffsetDelete: the group-level error, or 0 and each partition's in its
 * err (the offsets of topics the group consumes stay). */
kp_err_t group_delete_offsets(struct group_coord *c, kp_str group_id,
			      const struct group_offset_ref *parts, int32_t n);
/* DeleteGroups of one group: 0 (tombstones written, the group gone),
 * INVALID_GROUP_ID, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
 * GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
kp_err_t group_delete(struct group_coord *c, kp_str group_id);

#endif /* GROUP_OFFSETS_H */
