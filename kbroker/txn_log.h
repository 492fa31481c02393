/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_log.h - the records of __transaction_state, as Kafka 2.8 writes
 * them (TransactionLog): key version 0 [transactional_id], value version
 * 0 [producer_id int64, producer_epoch int16, transaction_timeout_ms
 * int32, transaction_status int8, nullable array of (topic string,
 * [partition int32]), last_update_timestamp_ms int64,
 * start_timestamp_ms int64], each prefixed with its int16 version.  A
 * null value is a tombstone (the id expired).  Decoders are bounds-checked
 * and refuse unknown versions.
 */
#ifndef TXN_LOG_H
#define TXN_LOG_H

#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_TXN_STATE_TOPIC "__transaction_state"

/* Kafka's TransactionState bytes */
enum txn_state {
	TXN_EMPTY = 0,
	TXN_ONGOING = 1,
	TXN_PREPARE_COMMIT = 2,
	TXN_PREPARE_ABORT = 3,
	TXN_COMPLETE_COMMIT = 4,
	TXN_COMPLETE_ABORT = 5,
	TXN_DEAD = 6,
	TXN_PREPARE_EPOCH_FENCE = 7,
};

struct txn_log_topic {
	kp_str topic;
	int32_t *partitions;
	int32_t npartitions;
};

struct txn_log_value {
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t timeout_ms;
	int8_t state;
	struct txn_log_topic *topics;	/* NULL and 0 when the array is null */
	int32_t ntopics;
	int64_t update_ts, start_ts;
};

const char *txn_state_name(int state);
void txn_log_key_encode(struct kp_wbuf *w, kp_str transactional_id);
void txn_log_value_encode(struct kp_wbuf *w, const struct txn_log_value *v);
/* 0, or -1 (truncated, unknown version, bad length). */
int txn_log_key_decode(const uint8_t *p, size_t len, kp_str *transactional_id);
/* Arrays from a; 0 or -1. */
int txn_log_value_decode(const uint8_t *p, size_t len, struct kp_arena *a,
			 struct txn_log_value *v);

#endif /* TXN_LOG_H */
