/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_txn.h - the on-disk and in-log shapes of Kafka transactions.
 *
 * Transaction markers: a control batch (attributes transactional and
 * control, never compressed) holding one record whose key is
 * ControlRecordType (int16 version 0, int16 type: 0 abort, 1 commit) and
 * whose value is EndTransactionMarker (int16 version 0, int32
 * coordinator epoch), all big-endian.
 *
 * The aborted transactions index: Kafka's `<20-digit base>.txnindex`
 * beside each segment, a sequence of 34-byte entries (int16 version 0,
 * int64 producer id, int64 first offset, int64 last offset: the abort
 * marker's, int64 the last stable offset when the abort was written),
 * one per aborted transaction whose marker lies in that segment.
 */
#ifndef KP_TXN_H
#define KP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"

#define KP_CONTROL_ABORT 0
#define KP_CONTROL_COMMIT 1

#define KP_TXNIDX_ENTRY 34
#define KP_TXNIDX_VERSION 0

struct kp_aborted_txn {
	int64_t pid;
	int64_t first_offset;
	int64_t last_offset;
	int64_t lso;
};

void kp_txnidx_put(uint8_t *buf, const struct kp_aborted_txn *t);
/* One entry of buf[0, KP_TXNIDX_ENTRY): 0, or -1 for an unknown version. */
int kp_txnidx_get(const uint8_t *buf, struct kp_aborted_txn *t);

/*
 * A marker's control batch appended to out: producer id and epoch, type
 * KP_CONTROL_ABORT or KP_CONTROL_COMMIT, the coordinator epoch, the
 * record timestamp.  0 or -1.
 */
int kp_txn_marker_build(struct kp_wbuf *out, int64_t pid, int16_t epoch,
			int type, int32_t coord_epoch, int64_t timestamp);
/*
 * The marker of a control batch (whole, in batch[0, len)): 1 and *type,
 * *coord_epoch, *timestamp (the record's); 0 for a control batch with no
 * record (Kafka's cleaner leaves those) or a control type that is no
 * transaction marker; -1 for malformed bytes.
 */
int kp_txn_marker_parse(const uint8_t *batch, size_t len, int *type,
			int32_t *coord_epoch, int64_t *timestamp);

#endif /* KP_TXN_H */
