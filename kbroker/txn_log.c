/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_log.c - encoding and decoding of __transaction_state records (see
 * txn_log.h).  Classic (non-flexible) encodings: int16 string lengths,
 * int32 array counts, -1 for a null array.
 */
#include "txn_log.h"

#include <string.h>

static const char *const names[] = {
	"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
	"CompleteAbort", "Dead", "PrepareEpochFence",
};

const char *txn_state_name(int state)
{
	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
		return "Unknown";
	return names[state];
}

void txn_log_key_encode(struct kp_wbuf *w, kp_str transactional_id)
{
	kp_write_i16(w, 0);
	kp_write_string(w, false, transactional_id);
}

void txn_log_value_encode(struct kp_wbuf *w, const struct txn_log_value *v)
{
	kp_write_i16(w, 0);
	kp_write_i64(w, v->producer_id);
	kp_write_i16(w, v->producer_epoch);
	kp_write_i32(w, v->timeout_ms);
	kp_write_i8(w, v->state);
	if (v->topics == NULL) {
		kp_write_i32(w, -1);
	} else {
		kp_write_i32(w, v->ntopics);
		for (int32_t i = 0; i < v->ntopics; i++) {
			kp_write_string(w, false, v->topics[i].topic);
			kp_write_i32(w, v->topics[i].npartitions);
			for (int32_t j = 0; j < v->topics[i].npartitions; j++)
				kp_write_i32(w, v->topics[i].partitions[j]);
		}
	}
	kp_write_i64(w, v->update_ts);
	kp_write_i64(w, v->start_ts);
}

int txn_log_key_decode(const uint8_t *p, size_t len, kp_str *transactional_id)
{
	struct kp_reader r;
	int16_t version;

	kp_reader_init(&r, p, len);
	if (kp_read_i16(&r, &version) < 0 || version != 0 ||
	    kp_read_string(&r, false, false, transactional_id) < 0)
		return -1;
	return 0;
}

int txn_log_value_decode(const uint8_t *p, size_t len, struct kp_arena *a,
			 struct txn_log_value *v)
{
	struct kp_reader r;
	int16_t version;
	int32_t n;

	memset(v, 0, sizeof(*v));
	kp_reader_init(&r, p, len);
	if (kp_read_i16(&r, &version) < 0 || version != 0 ||
	    kp_read_i64(&r, &v->producer_id) < 0 ||
	    kp_read_i16(&r, &v->producer_epoch) < 0 ||
	    kp_read_i32(&r, &v->timeout_ms) < 0 ||
	    kp_read_i8(&r, &v->state) < 0 ||
	    kp_read_i32(&r, &n) < 0)
		return -1;
	if (n < -1)
		return -1;
	/* each topic takes at least 6 bytes: an empty name and a count */
	if (n > 0 && (size_t)n > kp_reader_left(&r) / 6)
		return -1;
	if (n >= 0) {
		v->topics = kp_arena_calloc(a, (size_t)n + 1, sizeof(*v->topics));
		if (v->topics == NULL)
			return -1;
		v->ntopics = n;
	}
	for (int32_t i = 0; i < n; i++) {
		struct txn_log_topic *t = &v->topics[i];
		int32_t np;

		if (kp_read_string(&r, false, false, &t->topic) < 0 ||
		    kp_read_i32(&r, &np) < 0 || np < 0 ||
		    (size_t)np > kp_reader_left(&r) / 4)
			return -1;
		t->partitions = kp_arena_calloc(a, (size_t)np + 1, sizeof(int32_t));
		if (t->partitions == NULL)
			return -1;
		t->npartitions = np;
		for (int32_t j = 0; j < np; j++)
			if (kp_read_i32(&r, &t->partitions[j]) < 0)
				return -1;
	}
	if (kp_read_i64(&r, &v->update_ts) < 0 || kp_read_i64(&r, &v->start_ts) < 0)
		return -1;
	if (v->state < 0 || v->state > TXN_PREPARE_EPOCH_FENCE)
		return -1;
	return 0;
}
