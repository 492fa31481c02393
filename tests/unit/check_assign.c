/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_assign.c - replica placement (kp_assign) against Kafka's worked
 * examples, and topic config validation (kp_topic_config).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "kp_assign.h"
#include "kp_errors.h"
#include "kp_topic_config.h"

static void expect(const int32_t *got, const int32_t *want, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "replica %d (partition %d): got %d, want %d",
			      i, i / 3, got[i], want[i]);
}

START_TEST(rack_unaware_example)
{
	/* 5 brokers, start 0, shift 0, rf 3: Kafka's documented layout */
	struct kp_assign_broker b[] = { { 3, NULL }, { 1, NULL }, { 0, NULL },
					{ 4, NULL }, { 2, NULL } };
	static const int32_t want[] = { 0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 0, 4, 0, 1,
					0, 2, 3, 1, 3, 4, 2, 4, 0, 3, 0, 1, 4, 1, 2 };
	int32_t out[30];
	char err[128];

	ck_assert_int_eq(kp_assign_replicas(b, 5, 10, 3, 0, 0, out, err, sizeof(err)), 0);
	expect(out, want, 30);
}
END_TEST

START_TEST(rack_aware_example)
{
	struct kp_assign_broker b[] = { { 0, "r1" }, { 1, "r3" }, { 2, "r3" },
					{ 3, "r2" }, { 4, "r2" }, { 5, "r1" } };
	static const int32_t want[] = { 0, 3, 1, 3, 1, 5, 1, 5, 4, 5, 4, 2,
					4, 2, 0, 2, 0, 3, 0, 4, 2 };
	int32_t out[21];
	char err[128];

	ck_assert_int_eq(kp_assign_replicas(b, 6, 7, 3, 0, 0, out, err, sizeof(err)), 0);
	expect(out, want, 21);
}
END_TEST

START_TEST(errors)
{
	struct kp_assign_broker b[] = { { 1, NULL }, { 2, "r1" } };
	int32_t out[8];
	char err[128];

	ck_assert_int_eq(kp_assign_replicas(b, 1, 0, 1, -1, 0, out, err, sizeof(err)),
			 -KP_ERR_INVALID_PARTITIONS);
	ck_assert_int_eq(kp_assign_replicas(b, 1, 1, 0, -1, 0, out, err, sizeof(err)),
			 -KP_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_int_eq(kp_assign_replicas(b, 1, 1, 2, -1, 0, out, err, sizeof(err)),
			 -KP_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert(strstr(err, "larger than available brokers") != NULL);
	ck_assert_int_eq(kp_assign_replicas(b, 2, 1, 1, -1, 0, out, err, sizeof(err)),
			 -KP_ERR_INVALID_REPLICA_ASSIGNMENT);
}
END_TEST

START_TEST(random_start_spreads_evenly)
{
	struct kp_assign_broker b[] = { { 10, NULL }, { 11, NULL }, { 12, NULL } };
	int32_t out[6 * 2];
	int leaders[3] = { 0 };
	char err[128];

	ck_assert_int_eq(kp_assign_replicas(b, 3, 6, 2, -1, 0, out, err, sizeof(err)), 0);
	for (int p = 0; p < 6; p++) {
		ck_assert_int_ne(out[2 * p], out[2 * p + 1]);
		leaders[out[2 * p] - 10]++;
	}
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(leaders[i], 2);
}
END_TEST

START_TEST(more_partitions_continue_the_pattern)
{
	struct kp_assign_broker b[] = { { 0, NULL }, { 1, NULL }, { 2, NULL },
					{ 3, NULL }, { 4, NULL } };
	int32_t all[30], more[15];
	char err[128];

	/* a topic made with start 2 then grown from 5 to 10 partitions
	 * places the new ones as if made with 10 at once */
	ck_assert_int_eq(kp_assign_replicas(b, 5, 10, 3, 2, 0, all, err, sizeof(err)), 0);
	ck_assert_int_eq(all[0], 2);
	ck_assert_int_eq(kp_assign_more(b, 5, all[0], 5, 5, 3, more, err, sizeof(err)), 0);
	expect(more, all + 15, 15);
}
END_TEST

START_TEST(topic_config_validation)
{
	char err[256];

	ck_assert_int_eq(kp_topic_config_validate("retention.ms", "-1", err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("segment.bytes", "100", err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("segment.bytes", "1", err, sizeof(err)), -1);
	ck_assert_int_eq(kp_topic_config_validate("cleanup.policy", "compact,delete", err,
						  sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("cleanup.policy", "shred", err,
						  sizeof(err)), -1);
	ck_assert_int_eq(kp_topic_config_validate("compression.type", "brotli", err,
						  sizeof(err)), -1);
	ck_assert_int_eq(kp_topic_config_validate("no.such.key", "1", err, sizeof(err)), -1);
	ck_assert(strstr(err, "Unknown topic config name") != NULL);
	ck_assert_ptr_nonnull(kp_topic_config_find("max.message.bytes"));
	ck_assert_str_eq(kp_topic_config_find("max.message.bytes")->broker_key,
			 "message.max.bytes");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("assign");
	TCase *tc = tcase_create("assign");

	tcase_add_test(tc, rack_unaware_example);
	tcase_add_test(tc, rack_aware_example);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, random_start_spreads_evenly);
	tcase_add_test(tc, more_partitions_continue_the_pattern);
	tcase_add_test(tc, topic_config_validation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
