/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_isr_notify.c - the batching of ISR-change notifications
 * (kbroker/isr_notify.c): Kafka 2.8's propagation rule (5 s without a
 * change, or 60 s since the last propagation), one entry per partition
 * however often it changed, thousands of partitions in one body, bodies
 * split under a size bound, and the controller's decoder reading them
 * back.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "isr_notify.h"
#include "kp_zkdata.h"

#define T0 1000000

static void free_bodies(char **v, long n)
{
	for (long i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

START_TEST(test_empty_never_due)
{
	struct isr_changes c;
	char **v;

	isr_changes_init(&c, T0);
	ck_assert(!isr_changes_due(&c, T0));
	ck_assert(!isr_changes_due(&c, T0 + 10 * ISR_PROP_MAX_DELAY_MS));
	ck_assert_int_eq(isr_changes_encode(&c, ISR_PROP_MAX_BYTES, &v), 0);
	ck_assert_ptr_null(v);
	isr_changes_free(&c);
}
END_TEST

START_TEST(test_linger)
{
	struct isr_changes c;

	isr_changes_init(&c, T0);
	ck_assert_int_eq(isr_changes_add(&c, "t", 0, T0 + 100), 0);
	/* strictly more than 5 s after the last change */
	ck_assert(!isr_changes_due(&c, T0 + 100 + ISR_PROP_LINGER_MS));
	ck_assert(isr_changes_due(&c, T0 + 101 + ISR_PROP_LINGER_MS));
	/* another change (the same partition again) starts the wait over */
	ck_assert_int_eq(isr_changes_add(&c, "t", 0, T0 + 4000), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert(!isr_changes_due(&c, T0 + 101 + ISR_PROP_LINGER_MS));
	ck_assert(isr_changes_due(&c, T0 + 4001 + ISR_PROP_LINGER_MS));
	isr_changes_clear(&c, T0 + 9002);
	ck_assert_uint_eq(c.n, 0);
	ck_assert(!isr_changes_due(&c, T0 + 100000));
	isr_changes_free(&c);
}
END_TEST

/* A change every second for ever: the 60 s bound lets them out. */
START_TEST(test_max_delay)
{
	struct isr_changes c;
	int64_t t, first_due = -1;

	isr_changes_init(&c, T0);
	for (t = T0 + 1000; t < T0 + 2 * ISR_PROP_MAX_DELAY_MS && first_due < 0; t += 1000) {
		ck_assert_int_eq(isr_changes_add(&c, "storm", (int32_t)(t / 1000 % 50), t), 0);
		/* checked every 2.5 s in the broker: here at each change */
		if (isr_changes_due(&c, t + 500))
			first_due = t + 500;
	}
	ck_assert_int_gt(first_due, T0 + ISR_PROP_MAX_DELAY_MS);
	ck_assert_int_le(first_due, T0 + ISR_PROP_MAX_DELAY_MS + 1000);
	ck_assert_uint_eq(c.n, 50);
	isr_changes_clear(&c, first_due);
	ck_assert_int_eq(isr_changes_add(&c, "storm", 1, first_due + 1000), 0);
	ck_assert(!isr_changes_due(&c, first_due + 2000));
	ck_assert(isr_changes_due(&c, first_due + 1001 + ISR_PROP_LINGER_MS));
	isr_changes_free(&c);
}
END_TEST

START_TEST(test_dedup)
{
	struct isr_changes c;

	isr_changes_init(&c, T0);
	ck_assert_int_eq(isr_changes_add(&c, "a", 0, T0), 0);
	ck_assert_int_eq(isr_changes_add(&c, "a", 1, T0), 0);
	ck_assert_int_eq(isr_changes_add(&c, "b", 0, T0), 0);
	ck_assert_int_eq(isr_changes_add(&c, "a", 0, T0), 0);
	ck_assert_int_eq(isr_changes_add(&c, "ab", 0, T0), 0);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_str_eq(c.items[0].topic, "a");
	ck_assert_int_eq(c.items[1].partition, 1);
	ck_assert_str_eq(c.items[3].topic, "ab");
	isr_changes_free(&c);
}
END_TEST

/* Read every body back with the controller's decoder: each partition
 * exactly once, in order. */
static void check_bodies(char **v, long nv, size_t nparts, size_t max_bytes)
{
	size_t seen = 0;

	for (long i = 0; i < nv; i++) {
		struct kp_zk_tp_list l;
		char err[128];

		ck_assert_uint_le(strlen(v[i]), max_bytes);
		ck_assert_msg(strstr(v[i], "\"version\":1") != NULL, "%s", v[i]);
		ck_assert_int_eq(kp_zk_tp_list_decode(v[i], strlen(v[i]), false, &l,
						      err, sizeof(err)), 0);
		ck_assert_uint_gt(l.n, 0);
		for (size_t j = 0; j < l.n; j++, seen++) {
			char want[64];

			snprintf(want, sizeof(want), "topic-%zu", seen / 3000);
			ck_assert_str_eq(l.items[j].topic, want);
			ck_assert_int_eq(l.items[j].partition, (int32_t)(seen % 3000));
		}
		kp_zk_tp_list_free(&l);
	}
	ck_assert_uint_eq(seen, nparts);
}

START_TEST(test_many_one_body)
{
	struct isr_changes c;
	char **v, topic[64];
	long nv;

	isr_changes_init(&c, T0);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < 9000; i++) {
			snprintf(topic, sizeof(topic), "topic-%zu", i / 3000);
			ck_assert_int_eq(isr_changes_add(&c, topic, (int32_t)(i % 3000), T0), 0);
		}
	ck_assert_uint_eq(c.n, 9000);
	nv = isr_changes_encode(&c, ISR_PROP_MAX_BYTES, &v);
	ck_assert_int_eq(nv, 1);
	check_bodies(v, nv, 9000, ISR_PROP_MAX_BYTES);
	free_bodies(v, nv);
	isr_changes_free(&c);
}
END_TEST

START_TEST(test_split)
{
	struct isr_changes c;
	char **v, topic[64];
	long nv;

	isr_changes_init(&c, T0);
	for (size_t i = 0; i < 6000; i++) {
		snprintf(topic, sizeof(topic), "topic-%zu", i / 3000);
		ck_assert_int_eq(isr_changes_add(&c, topic, (int32_t)(i % 3000), T0), 0);
	}
	nv = isr_changes_encode(&c, 16 * 1024, &v);
	ck_assert_int_gt(nv, 10);
	check_bodies(v, nv, 6000, 16 * 1024);
	free_bodies(v, nv);
	isr_changes_free(&c);
}
END_TEST

/* A bound smaller than one entry still sends each partition (alone). */
START_TEST(test_tiny_bound)
{
	struct isr_changes c;
	char **v;
	long nv;

	isr_changes_init(&c, T0);
	ck_assert_int_eq(isr_changes_add(&c, "topic-0", 0, T0), 0);
	ck_assert_int_eq(isr_changes_add(&c, "topic-0", 1, T0), 0);
	nv = isr_changes_encode(&c, 10, &v);
	ck_assert_int_eq(nv, 2);
	for (long i = 0; i < nv; i++) {
		struct kp_zk_tp_list l;
		char err[128];

		ck_assert_int_eq(kp_zk_tp_list_decode(v[i], strlen(v[i]), false, &l,
						      err, sizeof(err)), 0);
		ck_assert_uint_eq(l.n, 1);
		ck_assert_int_eq(l.items[0].partition, (int32_t)i);
		kp_zk_tp_list_free(&l);
	}
	free_bodies(v, nv);
	isr_changes_free(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("isr_notify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty_never_due);
	tcase_add_test(tc, test_linger);
	tcase_add_test(tc, test_max_delay);
	tcase_add_test(tc, test_dedup);
	tcase_add_test(tc, test_many_one_body);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_tiny_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
