/* SPDX-License-Identifier: Apache-2.0 */
/*
 * producer_state.h - one partition's idempotent-producer state, Kafka
 * 2.8's ProducerStateManager.
 *
 * Per producer id: its epoch, the last five batches it wrote (last
 * sequence, last offset, offset delta, max timestamp), its last
 * timestamp, the coordinator epoch of its last transaction marker and
 * the first offset of its open transaction (-1: none).  The leader checks a
 * client's batch against it before appending (pstate_check: a duplicate
 * of one of the five, a sequence gap, an older epoch); leader and
 * followers alike record every appended batch (pstate_update), so a new
 * leader deduplicates too.
 *
 * Snapshots are Kafka's `<20-digit offset>.snapshot` files (their format
 * in kp_pidsnap.h).  A snapshot holds only each producer's last batch, as
 * Kafka's does.
 *
 * Plain data: the caller serializes (the partition's appender lock).
 * Memory: one entry per producer id, none per batch or record.
 */
#ifndef PRODUCER_STATE_H
#define PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_errors.h"

#define PSTATE_BATCHES 5		/* NumBatchesToRetain */

struct pstate_batch {
	int32_t last_seq;
	int64_t last_offset;
	int32_t offset_delta;
	int64_t timestamp;
};

struct pstate_entry {
	struct pstate_entry *next;	/* hash chain */
	int64_t pid;
	int16_t epoch;			/* -1: none */
	int32_t coord_epoch;
	int64_t last_ts;
	int64_t txn_first_offset;	/* -1: no open transaction */
	int nb, head;			/* ring: b[head] the oldest */
	struct pstate_batch b[PSTATE_BATCHES];
};

/* A transaction whose marker is written (Kafka's CompletedTxn /
 * TxnMetadata): data from first to the marker at last. */
struct pstate_txn {
	int64_t pid;
	int64_t first, last;
	bool aborted;
};

struct pstate {
	struct pstate_entry **buckets;
	size_t nbuckets, count;
	size_t ongoing;			/* entries with txn_first_offset >= 0 */
	/* completed transactions whose marker is not below the high
	 * watermark yet (Kafka's unreplicatedTxns): still unstable */
	struct pstate_txn *unrepl;
	size_t nunrepl, capunrepl;
	int64_t map_end;		/* state covers offsets below this */
	int64_t last_snap;		/* offset of the latest snapshot taken */
};

/* The original batch of a duplicate. */
struct pstate_dup {
	int64_t first_offset, last_offset, timestamp;
};

/* Kafka's sequence arithmetic (DefaultRecordBatch), wrapping at INT32_MAX. */
int32_t pstate_seq_add(int32_t seq, int32_t delta);
int32_t pstate_seq_sub(int32_t seq, int32_t delta);

void pstate_init(struct pstate *ps);
void pstate_free(struct pstate *ps);
void pstate_clear(struct pstate *ps);
struct pstate_entry *pstate_find(const struct pstate *ps, int64_t pid);
static inline int32_t pstate_last_seq(const struct pstate_entry *e)
{
	return e->nb ? e->b[(e->head + e->nb - 1) % PSTATE_BATCHES].last_seq : -1;
}

/*
 * A client's batch on the leader (Kafka's analyzeAndValidateProducerState
 * and ProducerAppendInfo for origin Client): 0 and dup->... set with
 * *is_dup when the same epoch already wrote this sequence range (answered
 * as a success with the original offsets); INVALID_PRODUCER_EPOCH for an
 * older epoch; OUT_OF_ORDER_SEQUENCE_NUMBER for a sequence that does not
 * follow the last one (or a new epoch not starting at 0).  A producer id
 * we hold nothing of may start at any sequence, as in 2.8.
 */
kp_err_t pstate_check(const struct pstate *ps, int64_t pid, int16_t epoch,
		      int32_t first_seq, int32_t last_seq, bool *is_dup,
		      struct pstate_dup *dup);

/*
 * Record an appended batch (leader or follower).  A follower's batch
 * with an older epoch is recorded all the same, as Kafka's replication
 * origin does (logged).  0 or -ENOMEM.
 */
int pstate_update(struct pstate *ps, int64_t pid, int16_t epoch,
		  int32_t first_seq, int64_t first_offset, int64_t last_offset,
		  int64_t timestamp);

/*
 * Transactions (Kafka's ProducerAppendInfo, ProducerStateManager).
 *
 * pstate_check_txn: a client's data batch on the leader: a
 * non-transactional batch while the producer has a transaction open is
 * INVALID_TXN_STATE.
 *
 * pstate_begin_txn: an appended transactional data batch at first_offset
 * (after pstate_update) opens the producer's transaction unless one is
 * open.
 *
 * pstate_check_marker: a marker from the coordinator on the leader:
 * INVALID_PRODUCER_EPOCH for an epoch older than the producer's,
 * TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than the
 * last marker's.
 *
 * pstate_end_txn: an appended marker (leader or follower) at offset:
 * the producer's epoch moves up to epoch, its coordinator epoch is
 * coord_epoch, its open transaction ends.  Returns 1 and *done when a
 * transaction with data ended (it stays unstable until the high
 * watermark passes the marker: pstate_hw_moved), 0 when there was none
 * open, -ENOMEM.
 *
 * pstate_abort_lso: the last stable offset an aborted transaction's
 * index entry records (Kafka's lastStableOffset(completedTxn)): the first
 * offset of the earliest open transaction of another producer, else the
 * marker's offset + 1.  Called before pstate_end_txn.
 *
 * pstate_first_unstable: the first offset of the earliest open or
 * unreplicated transaction, INT64_MAX when none.
 */
kp_err_t pstate_check_txn(const struct pstate *ps, int64_t pid, bool transactional);
int pstate_begin_txn(struct pstate *ps, int64_t pid, int64_t first_offset);
kp_err_t pstate_check_marker(const struct pstate *ps, int64_t pid, int16_t epoch,
			     int32_t coord_epoch);
int pstate_end_txn(struct pstate *ps, int64_t pid, int16_t epoch,
		   int32_t coord_epoch, int64_t offset, int64_t timestamp,
		   bool abort, struct pstate_txn *done);
int64_t pstate_abort_lso(const struct pstate *ps, int64_t pid, int64_t offset);
/* Forget unreplicated transactions whose marker is below hw. */
void pstate_hw_moved(struct pstate *ps, int64_t hw);
int64_t pstate_first_unstable(const struct pstate *ps);

/* Forget producers whose last timestamp is max_age_ms before now_ms
 * (transactional.id.expiration.ms); returns how many went. */
size_t pstate_expire(struct pstate *ps, int64_t now_ms, int64_t max_age_ms);

/* The snapshot's bytes (malloc'd, *len; kp_pidsnap.h).  0 or -ENOMEM. */
int pstate_snapshot_encode(const struct pstate *ps, uint8_t **out, size_t *len);
/* Load a snapshot's entries into ps (cleared first), skipping the
 * expired ones.  0, -EBADMSG (err says why) or -errno. */
int pstate_load_snapshot(struct pstate *ps, const char *path, int64_t now_ms,
			 int64_t max_age_ms, char *err, size_t errlen);
/* Write <dir>/<map_end>.snapshot when the state moved past the last
 * snapshot (Kafka's takeSnapshot); sync: fsync it (a caller about to
 * sync the file system passes false).  0 or -errno. */
int pstate_take_snapshot(struct pstate *ps, const char *dir, bool sync);

/* "<dir>/<20-digit offset>.snapshot" */
void pstate_snapshot_path(char *buf, size_t n, const char *dir, int64_t offset);
/* Offsets of the snapshot files in dir, ascending (malloc'd). */
int pstate_list_snapshots(const char *dir, int64_t **offsets, int *n);

#endif /* PRODUCER_STATE_H */
