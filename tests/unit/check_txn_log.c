/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_txn_log.c - __transaction_state records (txn_log.c): Kafka 2.8's
 * TransactionLog key v0 and value v0 byte for byte, the null partition
 * array of Empty, and decoders refusing truncated input at every length,
 * unknown versions, negative or impossible counts and unknown states.
 */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "kp_arena.h"
#include "kp_buf.h"
#include "txn_log.h"

/* key: version 0, string "tx" */
static const uint8_t key_tx[] = { 0, 0, 0, 2, 't', 'x' };

/* value v0: pid 7, epoch 3, timeout 60000, PrepareCommit, [("a", [0, 2])],
 * update 1000, start 900 */
static const uint8_t value_prepare[] = {
	0, 0,					/* version */
	0, 0, 0, 0, 0, 0, 0, 7,			/* producer id */
	0, 3,					/* epoch */
	0, 0, 0xea, 0x60,			/* timeout 60000 */
	2,					/* PrepareCommit */
	0, 0, 0, 1,				/* one topic */
	0, 1, 'a',				/* "a" */
	0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,	/* [0, 2] */
	0, 0, 0, 0, 0, 0, 0x03, 0xe8,		/* update 1000 */
	0, 0, 0, 0, 0, 0, 0x03, 0x84,		/* start 900 */
};

START_TEST(key_is_kafkas)
{
	struct kp_wbuf w;
	kp_str id;

	kp_wbuf_init(&w);
	txn_log_key_encode(&w, kp_str_c("tx"));
	ck_assert_uint_eq(w.len, sizeof(key_tx));
	ck_assert_mem_eq(w.data, key_tx, sizeof(key_tx));
	ck_assert_int_eq(txn_log_key_decode(key_tx, sizeof(key_tx), &id), 0);
	ck_assert_int_eq(id.len, 2);
	ck_assert_mem_eq(id.ptr, "tx", 2);
	for (size_t n = 0; n < sizeof(key_tx); n++)
		ck_assert_int_eq(txn_log_key_decode(key_tx, n, &id), -1);
	{
		uint8_t v1[sizeof(key_tx)];

		memcpy(v1, key_tx, sizeof(v1));
		v1[1] = 1;			/* key version 1: not Kafka 2.8's */
		ck_assert_int_eq(txn_log_key_decode(v1, sizeof(v1), &id), -1);
	}
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(value_round_trip_is_kafkas)
{
	int32_t parts[] = { 0, 2 };
	struct txn_log_topic t = { kp_str_c("a"), parts, 2 };
	struct txn_log_value v = {
		.producer_id = 7, .producer_epoch = 3, .timeout_ms = 60000,
		.state = TXN_PREPARE_COMMIT, .topics = &t, .ntopics = 1,
		.update_ts = 1000, .start_ts = 900,
	}, d;
	struct kp_arena a;
	struct kp_wbuf w;

	kp_arena_init(&a, 0);
	kp_wbuf_init(&w);
	txn_log_value_encode(&w, &v);
	ck_assert_uint_eq(w.len, sizeof(value_prepare));
	ck_assert_mem_eq(w.data, value_prepare, sizeof(value_prepare));
	ck_assert_int_eq(txn_log_value_decode(value_prepare, sizeof(value_prepare), &a, &d), 0);
	ck_assert_int_eq(d.producer_id, 7);
	ck_assert_int_eq(d.producer_epoch, 3);
	ck_assert_int_eq(d.timeout_ms, 60000);
	ck_assert_int_eq(d.state, TXN_PREPARE_COMMIT);
	ck_assert_int_eq(d.ntopics, 1);
	ck_assert_int_eq(d.topics[0].npartitions, 2);
	ck_assert_int_eq(d.topics[0].partitions[1], 2);
	ck_assert_int_eq(d.update_ts, 1000);
	ck_assert_int_eq(d.start_ts, 900);
	for (size_t n = 0; n < sizeof(value_prepare); n++)
		ck_assert_int_eq(txn_log_value_decode(value_prepare, n, &a, &d), -1);
	kp_wbuf_free(&w);
	kp_arena_free(&a);
}
END_TEST

START_TEST(empty_has_a_null_array)
{
	struct txn_log_value v = {
		.producer_id = 1, .producer_epoch = 0, .timeout_ms = 1,
		.state = TXN_EMPTY, .update_ts = 5, .start_ts = -1,
	}, d;
	struct kp_arena a;
	struct kp_wbuf w;

	kp_arena_init(&a, 0);
	kp_wbuf_init(&w);
	txn_log_value_encode(&w, &v);
	ck_assert_uint_eq(w.len, 2 + 8 + 2 + 4 + 1 + 4 + 8 + 8);
	ck_assert_mem_eq(w.data + 17, "\xff\xff\xff\xff", 4);
	ck_assert_int_eq(txn_log_value_decode(w.data, w.len, &a, &d), 0);
	ck_assert_ptr_null(d.topics);
	ck_assert_int_eq(d.start_ts, -1);
	kp_wbuf_free(&w);
	kp_arena_free(&a);
}
END_TEST

START_TEST(bad_values_are_refused)
{
	uint8_t b[sizeof(value_prepare)];
	struct txn_log_value d;
	struct kp_arena a;

	kp_arena_init(&a, 0);
	memcpy(b, value_prepare, sizeof(b));
	b[1] = 1;				/* value version 1 */
	ck_assert_int_eq(txn_log_value_decode(b, sizeof(b), &a, &d), -1);
	memcpy(b, value_prepare, sizeof(b));
	b[16] = 9;				/* no such state */
	ck_assert_int_eq(txn_log_value_decode(b, sizeof(b), &a, &d), -1);
	memcpy(b, value_prepare, sizeof(b));
	memcpy(b + 17, "\x7f\xff\xff\xff", 4);	/* two billion topics */
	ck_assert_int_eq(txn_log_value_decode(b, sizeof(b), &a, &d), -1);
	memcpy(b, value_prepare, sizeof(b));
	memcpy(b + 17, "\xff\xff\xff\xfe", 4);	/* -2 */
	ck_assert_int_eq(txn_log_value_decode(b, sizeof(b), &a, &d), -1);
	memcpy(b, value_prepare, sizeof(b));
	memcpy(b + 24, "\x10\x00\x00\x00", 4);	/* partitions beyond the bytes */
	ck_assert_int_eq(txn_log_value_decode(b, sizeof(b), &a, &d), -1);
	ck_assert_str_eq(txn_state_name(TXN_PREPARE_EPOCH_FENCE), "PrepareEpochFence");
	ck_assert_str_eq(txn_state_name(42), "Unknown");
	kp_arena_free(&a);
}
END_TEST

static Suite *txn_log_suite(void)
{
	Suite *s = suite_create("txn_log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, key_is_kafkas);
	tcase_add_test(tc, value_round_trip_is_kafkas);
	tcase_add_test(tc, empty_has_a_null_array);
	tcase_add_test(tc, bad_values_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(txn_log_suite());
}
