/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_txn.c - transaction markers and aborted-transaction index entries
 * (see kp_txn.h).
 */
#include <string.h>

#include "kp_records.h"
#include "kp_txn.h"

void kp_txnidx_put(uint8_t *buf, const struct kp_aborted_txn *t)
{
	kp_put_be16(buf, KP_TXNIDX_VERSION);
	kp_put_be64(buf + 2, (uint64_t)t->pid);
	kp_put_be64(buf + 10, (uint64_t)t->first_offset);
	kp_put_be64(buf + 18, (uint64_t)t->last_offset);
	kp_put_be64(buf + 26, (uint64_t)t->lso);
}

int kp_txnidx_get(const uint8_t *buf, struct kp_aborted_txn *t)
{
	if ((int16_t)kp_be16(buf) != KP_TXNIDX_VERSION)
		return -1;
	t->pid = (int64_t)kp_be64(buf + 2);
	t->first_offset = (int64_t)kp_be64(buf + 10);
	t->last_offset = (int64_t)kp_be64(buf + 18);
	t->lso = (int64_t)kp_be64(buf + 26);
	return 0;
}

int kp_txn_marker_build(struct kp_wbuf *out, int64_t pid, int16_t epoch,
			int type, int32_t coord_epoch, int64_t timestamp)
{
	struct kp_batch_params bp;
	struct kp_record_in rec;
	uint8_t key[4], value[6];

	kp_put_be16(key, 0);
	kp_put_be16(key + 2, (uint16_t)type);
	kp_put_be16(value, 0);
	kp_put_be32(value + 2, (uint32_t)coord_epoch);
	memset(&rec, 0, sizeof(rec));
	rec.key = (kp_bytes){ key, sizeof(key) };
	rec.value = (kp_bytes){ value, sizeof(value) };
	rec.timestamp = timestamp;
	kp_batch_params_init(&bp);
	bp.producer_id = pid;
	bp.producer_epoch = epoch;
	bp.base_sequence = -1;
	bp.transactional = true;
	bp.control = true;
	return kp_batch_build(out, &bp, &rec, 1);
}

int kp_txn_marker_parse(const uint8_t *batch, size_t len, int *type,
			int32_t *coord_epoch, int64_t *timestamp)
{
	struct kp_record_iter it;
	struct kp_record rec;
	struct kp_wbuf scratch;
	int rc;

	/* control batches are never compressed: no scratch is needed, and
	 * one claiming a codec is malformed */
	memset(&scratch, 0, sizeof(scratch));
	if (len < KP_BATCH_HEADER_SIZE ||
	    (batch[KP_BATCH_OFF_ATTRIBUTES + 1] & KP_ATTR_CODEC_MASK) != 0)
		return -1;
	if (kp_record_iter_init(&it, batch, len, &scratch, 0) != 0)
		return -1;
	rc = kp_record_iter_next(&it, &rec);
	if (rc <= 0)
		return rc;
	if (rec.key.len < 4 || (int16_t)kp_be16(rec.key.ptr) < 0)
		return -1;
	*type = (int16_t)kp_be16(rec.key.ptr + 2);
	if (*type != KP_CONTROL_ABORT && *type != KP_CONTROL_COMMIT)
		return 0;
	if (rec.value.len < 6)
		return -1;
	*coord_epoch = (int32_t)kp_be32(rec.value.ptr + 2);
	*timestamp = rec.timestamp;
	return 1;
}
