/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_groupmeta.c - group placement (Java's String.hashCode) and the
 * __consumer_offsets key/value schemas.
 */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "kp_groupmeta.h"

static int32_t hash(const char *s)
{
	return kp_java_string_hash(s, strlen(s));
}

START_TEST(java_hash_and_partition)
{
	/* values Java computes */
	ck_assert_int_eq(hash(""), 0);
	ck_assert_int_eq(hash("hello"), 99162322);
	ck_assert_int_eq(hash("my-group"), -1906497762);
	ck_assert_int_eq(hash("test-group"), 627841412);
	ck_assert_int_eq(kp_group_partition("my-group", 8, 50), 12);
	ck_assert_int_eq(kp_group_partition("test-group", 10, 50), 12);
	ck_assert_int_eq(kp_group_partition("console-consumer-12345", 22, 50), 6);
	/* "é" is one UTF-16 unit (0xe9); U+1F600 is the surrogate pair
	 * d83d de00: 31 * 0xd83d + 0xde00 */
	ck_assert_int_eq(hash("\xc3\xa9"), 0xe9);
	ck_assert_int_eq(hash("\xf0\x9f\x98\x80"), 31 * 0xd83d + 0xde00);
	/* a stray continuation byte is U+FFFD, a truncated sequence too */
	ck_assert_int_eq(hash("\x80"), 0xfffd);
	ck_assert_int_eq(hash("\xe2\x82"), 31 * 0xfffd + 0xfffd);
	ck_assert_int_eq(kp_group_partition("x", 1, 0), 0);
}
END_TEST

/* "polygenelubricants" hashes to Integer.MIN_VALUE in Java: abs -> 0 */
START_TEST(min_value_hash)
{
	ck_assert_int_eq(hash("polygenelubricants"), INT32_MIN);
	ck_assert_int_eq(kp_group_partition("polygenelubricants", 18, 50), 0);
}
END_TEST

START_TEST(offset_records_round_trip)
{
	struct kp_wbuf w;
	struct kp_gm_key k;
	struct kp_gm_offset v = { .offset = 42, .leader_epoch = 7,
				  .metadata = kp_str_c("meta"), .commit_ts = 1000,
				  .expire_ts = -1 }, out;
	static const uint8_t want_key[] = { 0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3 };

	kp_wbuf_init(&w);
	kp_gm_offset_key_encode(&w, kp_str_c("g"), kp_str_c("t"), 3);
	ck_assert_uint_eq(w.len, sizeof(want_key));
	ck_assert_mem_eq(w.data, want_key, sizeof(want_key));
	ck_assert_int_eq(kp_gm_key_decode(w.data, w.len, &k), KP_GM_OFFSET);
	ck_assert(kp_str_eqc(k.group, "g") && kp_str_eqc(k.topic, "t"));
	ck_assert_int_eq(k.partition, 3);
	/* every truncation is refused */
	for (size_t n = 0; n < w.len; n++)
		ck_assert_int_eq(kp_gm_key_decode(w.data, n, &k), -1);

	kp_wbuf_reset(&w);
	kp_gm_offset_value_encode(&w, &v);
	ck_assert_int_eq(w.data[1], 3);		/* v3 */
	ck_assert_int_eq(kp_gm_offset_value_decode(w.data, w.len, &out), 0);
	ck_assert_int_eq(out.offset, 42);
	ck_assert_int_eq(out.leader_epoch, 7);
	ck_assert(kp_str_eqc(out.metadata, "meta"));
	ck_assert_int_eq(out.commit_ts, 1000);
	ck_assert_int_eq(out.expire_ts, -1);
	for (size_t n = 0; n < w.len; n++)
		ck_assert_int_eq(kp_gm_offset_value_decode(w.data, n, &out), -1);

	v.expire_ts = 5000;
	kp_wbuf_reset(&w);
	kp_gm_offset_value_encode(&w, &v);
	ck_assert_int_eq(w.data[1], 1);		/* v1 carries the expiry */
	ck_assert_int_eq(kp_gm_offset_value_decode(w.data, w.len, &out), 0);
	ck_assert_int_eq(out.expire_ts, 5000);
	ck_assert_int_eq(out.leader_epoch, -1);

	/* an unknown key version is not an error, just not ours */
	{
		static const uint8_t k9[] = { 0, 9, 0, 0 };

		ck_assert_int_eq(kp_gm_key_decode(k9, sizeof(k9), &k), 0);
	}
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(group_records_round_trip)
{
	struct kp_gm_member m[2] = {
		{ .member_id = kp_str_c("c-1"), .instance_id = KP_STR_NULL,
		  .client_id = kp_str_c("c"), .client_host = kp_str_c("/127.0.0.1"),
		  .rebalance_timeout = 300000, .session_timeout = 10000,
		  .subscription = { (const uint8_t *)"sub", 3 },
		  .assignment = { (const uint8_t *)"as", 2 } },
		{ .member_id = kp_str_c("s-1"), .instance_id = kp_str_c("s"),
		  .client_id = kp_str_c("c"), .client_host = kp_str_c("/h"),
		  .rebalance_timeout = 1, .session_timeout = 2,
		  .subscription = KP_BYTES_NULL, .assignment = KP_BYTES_NULL },
	};
	struct kp_gm_group g = { .protocol_type = kp_str_c("consumer"),
				 .generation = 5, .protocol = kp_str_c("range"),
				 .leader = kp_str_c("c-1"), .state_ts = 77,
				 .members = m, .nmembers = 2 }, out;
	struct kp_arena a;
	struct kp_wbuf w;

	kp_arena_init(&a, 0);
	kp_wbuf_init(&w);
	kp_gm_group_key_encode(&w, kp_str_c("grp"));
	{
		struct kp_gm_key k;

		ck_assert_int_eq(kp_gm_key_decode(w.data, w.len, &k), KP_GM_GROUP);
		ck_assert(kp_str_eqc(k.group, "grp"));
	}
	kp_wbuf_reset(&w);
	kp_gm_group_value_encode(&w, &g);
	ck_assert_int_eq(kp_gm_group_value_decode(w.data, w.len, &a, &out), 0);
	ck_assert(kp_str_eqc(out.protocol_type, "consumer"));
	ck_assert_int_eq(out.generation, 5);
	ck_assert(kp_str_eqc(out.protocol, "range") && kp_str_eqc(out.leader, "c-1"));
	ck_assert_int_eq(out.state_ts, 77);
	ck_assert_int_eq(out.nmembers, 2);
	ck_assert(kp_str_eqc(out.members[0].member_id, "c-1"));
	ck_assert_int_eq(out.members[0].instance_id.len, -1);
	ck_assert(kp_str_eqc(out.members[1].instance_id, "s"));
	ck_assert_int_eq(out.members[0].rebalance_timeout, 300000);
	ck_assert_int_eq(out.members[0].session_timeout, 10000);
	ck_assert_int_eq(out.members[0].subscription.len, 3);
	ck_assert_mem_eq(out.members[0].assignment.ptr, "as", 2);
	ck_assert_int_eq(out.members[1].assignment.len, 0);
	for (size_t n = 0; n < w.len; n++)
		ck_assert_int_eq(kp_gm_group_value_decode(w.data, n, &a, &out), -1);
	/* a member count far beyond the bytes is refused before allocating */
	{
		uint8_t bad[64];
		size_t len = w.len < sizeof(bad) ? w.len : sizeof(bad);

		memcpy(bad, w.data, len);
		/* the count sits after version, type, generation, protocol,
		 * leader and timestamp */
		size_t at = 2 + 2 + 8 + 4 + 2 + 5 + 2 + 3 + 8;

		ck_assert_uint_lt(at + 4, len);
		bad[at] = 0x7f;
		ck_assert_int_eq(kp_gm_group_value_decode(bad, len, &a, &out), -1);
	}
	kp_wbuf_free(&w);
	kp_arena_free(&a);
}
END_TEST

START_TEST(consumer_subscription)
{
	/* version 1, topics ["a", "bc"], user data null, owned partitions [] */
	static const uint8_t sub[] = { 0, 1, 0, 0, 0, 2, 0, 1, 'a', 0, 2, 'b', 'c',
				       0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	kp_bytes b = { sub, sizeof(sub) };

	ck_assert(kp_consumer_subscribes(b, kp_str_c("a")));
	ck_assert(kp_consumer_subscribes(b, kp_str_c("bc")));
	ck_assert(!kp_consumer_subscribes(b, kp_str_c("b")));
	/* truncated: malformed, whatever it starts with */
	b.len = 9;
	ck_assert(!kp_consumer_subscribes(b, kp_str_c("a")));
	ck_assert(!kp_consumer_subscribes(KP_BYTES_NULL, kp_str_c("a")));
}
END_TEST

START_TEST(consumer_assignment)
{
	/* version 0, topics [("t", [2, 0])], user data null */
	static const uint8_t known[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0,
					 2, 0, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff,
					 0xff, 0xff };
	static const char *const topics[] = { "a", "bc" };
	int32_t parts[] = { 2, 0 };
	struct kp_consumer_tps tps = { kp_str_c("t"), parts, 2 };
	struct kp_consumer_assignment as = { 0, &tps, 1, KP_BYTES_NULL }, out;
	struct kp_arena a;
	struct kp_wbuf w;

	kp_arena_init(&a, 0);
	kp_wbuf_init(&w);
	kp_consumer_assignment_encode(&w, &as);
	ck_assert_uint_eq(w.len, sizeof(known));
	ck_assert_mem_eq(w.data, known, sizeof(known));
	ck_assert_int_eq(kp_consumer_assignment_decode((kp_bytes){ w.data, (int32_t)w.len },
						       &a, &out), 0);
	ck_assert_int_eq(out.count, 1);
	ck_assert(kp_str_eqc(out.topics[0].topic, "t"));
	ck_assert_int_eq(out.topics[0].count, 2);
	ck_assert_int_eq(out.topics[0].partitions[0], 2);
	ck_assert_int_eq(out.user_data.len, -1);
	/* every truncation inside the topics is refused */
	for (int32_t n = 1; n < 21; n++)
		ck_assert_int_eq(kp_consumer_assignment_decode((kp_bytes){ w.data, n },
							       &a, &out), -1);
	/* an empty assignment (not synced yet) is no topics */
	ck_assert_int_eq(kp_consumer_assignment_decode(KP_BYTES_NULL, &a, &out), 0);
	ck_assert_int_eq(out.count, 0);
	kp_wbuf_reset(&w);
	kp_consumer_subscription_encode(&w, topics, 2);
	ck_assert(kp_consumer_subscribes((kp_bytes){ w.data, (int32_t)w.len },
					 kp_str_c("bc")));
	kp_wbuf_free(&w);
	kp_arena_free(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("groupmeta");
	TCase *tc = tcase_create("groupmeta");

	tcase_add_test(tc, java_hash_and_partition);
	tcase_add_test(tc, min_value_hash);
	tcase_add_test(tc, offset_records_round_trip);
	tcase_add_test(tc, group_records_round_trip);
	tcase_add_test(tc, consumer_subscription);
	tcase_add_test(tc, consumer_assignment);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
