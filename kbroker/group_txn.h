/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_txn.h - a group's transactional offsets, pending until their
 * transaction ends (Kafka 2.8's GroupMetadata pendingTransactionalOffset-
 * Commits).
 *
 * A TxnOffsetCommit writes its offsets into the group's __consumer_offsets
 * partition as a transactional batch of the producer (group_store.h);
 * once appended they are pending here, each with the producer id and the
 * offset of the batch that holds it, and OffsetFetch does not return them
 * (require_stable answers UNSTABLE_OFFSET_COMMIT for their partitions).
 * The transaction's marker in that partition ends them: a COMMIT installs
 * each as the committed offset, unless the partition's committed offset
 * was written later in the log (Kafka's olderThan); an ABORT drops them.
 * A marker only ends the offsets written before it: the same producer's
 * next transaction may have written more after it.  A load rebuilds them
 * the same way from the log (group_store.c).
 *
 * Plain data operations on struct group (group_table.h); the caller holds
 * the coordinator's lock.
 */
#ifndef GROUP_TXN_H
#define GROUP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group_table.h"

/* Producer pid's transaction wrote o (taken over) in the batch at
 * batch_offset.  0, or -1 when out of memory (o is freed). */
int group_txn_add(struct group *g, int64_t pid, struct group_offset *o,
		  int64_t batch_offset);
/* The batch at batch_offset of pid failed (not acknowledged): its
 * offsets are no longer pending. */
void group_txn_fail(struct group *g, int64_t pid, int64_t batch_offset);
/* pid's marker at marker_offset: its offsets written before it are
 * installed (commit) or dropped (abort).  How many ended. */
int32_t group_txn_complete(struct group *g, int64_t pid, bool commit,
			   int64_t marker_offset);
/* Is an offset of the partition pending (any producer)? */
bool group_txn_pending_for(const struct group *g, const char *topic, size_t tlen,
			   int32_t partition);
/* How many offsets are pending in g. */
int32_t group_txn_count(const struct group *g);

#endif /* GROUP_TXN_H */
