/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_coord.h - the transaction coordinator, Kafka 2.8's
 * TransactionCoordinator in ZooKeeper mode.
 *
 * A transactional id lives on the leader of its __transaction_state
 * partition (Java's String.hashCode of the id, Utils.abs, modulo the
 * partition count, as groups).  Its metadata - producer id and epoch, the
 * timeout, the state (Empty, Ongoing, PrepareCommit, PrepareAbort,
 * CompleteCommit, CompleteAbort, Dead, PrepareEpochFence) and the
 * partitions of the ongoing transaction - is kept in memory and every
 * transition is appended to that partition (txn_log.h) and acknowledged
 * by its ISR before it takes effect and is answered.  After PrepareCommit
 * or PrepareAbort the coordinator sends WriteTxnMarkers to the leader of
 * every partition of the transaction, over the brokers' inter-broker
 * listener, retrying until each answered, then writes CompleteCommit or
 * CompleteAbort.  Ongoing transactions older than their timeout are
 * aborted (with the epoch bumped, fencing the producer); ids idle for
 * transactional.id.expiration.ms are removed with a tombstone.  Becoming
 * the leader of a partition loads it and finishes the commits and aborts
 * it finds prepared.
 *
 * Threads: requests call in from the network workers and take the
 * coordinator's lock; its own thread and loop run the loads, the checks
 * of appends against the high watermark, the timers and the marker
 * connections.  Answers are given through a callback, perhaps on the
 * coordinator's thread.  Lock order: the coordinator's lock before a
 * partition's lock.
 */
#ifndef TXN_COORD_H
#define TXN_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_errors.h"

struct broker;
struct partition;

int txn_start(struct broker *b, char *err, size_t errlen);
/* Stop the thread; waiting callers are answered NOT_COORDINATOR. */
void txn_stop(struct broker *b);
void txn_destroy(struct broker *b);
/* A __transaction_state partition's role changed (no lock held). */
void txn_partition_role(struct broker *b, struct partition *p);

/* An answer: err, and for InitProducerId the producer id and epoch.
 * Called exactly once, on any thread, with no coordinator lock held. */
typedef void (*txn_reply_fn)(void *arg, kp_err_t err, int64_t pid, int16_t epoch);

/* The __transaction_state partition of an id and its leader's node id
 * (-1 unknown); creates the topic when it does not exist
 * (COORDINATOR_NOT_AVAILABLE meanwhile).  0 or an error. */
kp_err_t txn_find(struct broker *b, kp_str id, int32_t *tpart, int32_t *leader);

/* InitProducerId with a transactional id; has_expected: the v3+ request
 * named a producer id and epoch (KIP-360). */
void txn_init_producer_id(struct broker *b, kp_str id, int32_t timeout_ms,
			  bool has_expected, int64_t exp_pid, int16_t exp_epoch,
			  txn_reply_fn fn, void *arg);

struct txn_tp_in {
	kp_str topic;
	int32_t partition;
};

void txn_add_partitions(struct broker *b, kp_str id, int64_t pid, int16_t epoch,
			const struct txn_tp_in *tps, int32_t n, txn_reply_fn fn,
			void *arg);
void txn_end(struct broker *b, kp_str id, int64_t pid, int16_t epoch, bool commit,
	     txn_reply_fn fn, void *arg);

#endif /* TXN_COORD_H */
