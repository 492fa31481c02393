/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_buf.c - the primitive readers and writers of kp_buf, the arena and
 * frame/header handling of kp_proto.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_msgs.h"
#include "kp_proto.h"

START_TEST(fixed_width_integers_are_big_endian)
{
	struct kp_wbuf w;
	struct kp_reader r;
	int8_t a;
	int16_t b;
	int32_t c;
	int64_t d;
	uint32_t e;
	static const uint8_t want[] = {
		0xfe, 0x12, 0x34, 0x80, 0x00, 0x00, 0x01,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0xff, 0xff, 0xff, 0xff,
	};

	kp_wbuf_init(&w);
	kp_write_i8(&w, -2);
	kp_write_i16(&w, 0x1234);
	kp_write_i32(&w, (int32_t)0x80000001);
	kp_write_i64(&w, 0x0102030405060708LL);
	kp_write_u32(&w, 0xffffffffu);
	ck_assert_uint_eq(w.len, sizeof(want));
	ck_assert_mem_eq(w.data, want, sizeof(want));

	kp_reader_init(&r, w.data, w.len);
	ck_assert_int_eq(kp_read_i8(&r, &a), 0);
	ck_assert_int_eq(kp_read_i16(&r, &b), 0);
	ck_assert_int_eq(kp_read_i32(&r, &c), 0);
	ck_assert_int_eq(kp_read_i64(&r, &d), 0);
	ck_assert_int_eq(kp_read_u32(&r, &e), 0);
	ck_assert_int_eq(a, -2);
	ck_assert_int_eq(b, 0x1234);
	ck_assert_int_eq(c, (int32_t)0x80000001);
	ck_assert(d == 0x0102030405060708LL);
	ck_assert_uint_eq(e, 0xffffffffu);
	ck_assert_uint_eq(kp_reader_left(&r), 0);
	/* Past the end: an error, and it sticks. */
	ck_assert_int_eq(kp_read_i8(&r, &a), -1);
	ck_assert_int_eq(r.err, -1);
	kp_wbuf_free(&w);
}
END_TEST

/* Zig-zag vectors from the protocol guide's varint description. */
START_TEST(zigzag_varints_match_known_encodings)
{
	static const struct {
		int64_t v;
		uint8_t bytes[10];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ -1, { 0x01 }, 1 },
		{ 1, { 0x02 }, 1 },
		{ -2, { 0x03 }, 1 },
		{ 63, { 0x7e }, 1 },
		{ -64, { 0x7f }, 1 },
		{ 64, { 0x80, 0x01 }, 2 },
		{ 300, { 0xd8, 0x04 }, 2 },
		{ INT32_MAX, { 0xfe, 0xff, 0xff, 0xff, 0x0f }, 5 },
		{ INT32_MIN, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kp_wbuf w;
		struct kp_reader r;
		int32_t v32;
		int64_t v64;

		kp_wbuf_init(&w);
		kp_write_varint(&w, (int32_t)cases[i].v);
		ck_assert_uint_eq(w.len, cases[i].n);
		ck_assert_mem_eq(w.data, cases[i].bytes, cases[i].n);
		ck_assert_uint_eq(kp_varint_size((int32_t)cases[i].v), cases[i].n);
		kp_reader_init(&r, w.data, w.len);
		ck_assert_int_eq(kp_read_varint(&r, &v32), 0);
		ck_assert_int_eq(v32, cases[i].v);
		kp_reader_init(&r, w.data, w.len);
		ck_assert_int_eq(kp_read_varlong(&r, &v64), 0);
		ck_assert(v64 == cases[i].v);
		kp_wbuf_free(&w);
	}
}
END_TEST

START_TEST(varlong_extremes_round_trip)
{
	static const int64_t vals[] = { INT64_MIN, INT64_MAX, -1, 1LL << 40 };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct kp_wbuf w;
		struct kp_reader r;
		int64_t v;

		kp_wbuf_init(&w);
		kp_write_varlong(&w, vals[i]);
		ck_assert_uint_eq(w.len, kp_varlong_size(vals[i]));
		kp_reader_init(&r, w.data, w.len);
		ck_assert_int_eq(kp_read_varlong(&r, &v), 0);
		ck_assert(v == vals[i]);
		kp_wbuf_free(&w);
	}
}
END_TEST

START_TEST(overlong_and_truncated_varints_are_rejected)
{
	static const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t big5[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
	static const uint8_t cut[] = { 0x80, 0x80 };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x01 };
	struct kp_reader r;
	uint32_t u;
	uint64_t ul;

	kp_reader_init(&r, six, sizeof(six));
	ck_assert_int_eq(kp_read_uvarint(&r, &u), -1);
	kp_reader_init(&r, big5, sizeof(big5));
	ck_assert_int_eq(kp_read_uvarint(&r, &u), -1);
	kp_reader_init(&r, cut, sizeof(cut));
	ck_assert_int_eq(kp_read_uvarint(&r, &u), -1);
	kp_reader_init(&r, eleven, sizeof(eleven));
	ck_assert_int_eq(kp_read_uvarlong(&r, &ul), -1);
}
END_TEST

START_TEST(strings_classic_and_compact)
{
	struct kp_wbuf w;
	struct kp_reader r;
	kp_str s;

	kp_wbuf_init(&w);
	kp_write_string(&w, false, kp_str_c("abc"));
	kp_write_string(&w, false, KP_STR_NULL);
	kp_write_string(&w, true, kp_str_c("xy"));
	kp_write_string(&w, true, KP_STR_NULL);
	kp_write_string(&w, true, kp_str_c(""));
	{
		static const uint8_t want[] = { 0, 3, 'a', 'b', 'c', 0xff, 0xff,
						3, 'x', 'y', 0, 1 };

		ck_assert_uint_eq(w.len, sizeof(want));
		ck_assert_mem_eq(w.data, want, sizeof(want));
	}
	kp_reader_init(&r, w.data, w.len);
	ck_assert_int_eq(kp_read_string(&r, false, false, &s), 0);
	ck_assert(kp_str_eqc(s, "abc"));
	/* null where null is not allowed is an error */
	{
		struct kp_reader r2 = r;

		ck_assert_int_eq(kp_read_string(&r2, false, false, &s), -1);
	}
	ck_assert_int_eq(kp_read_string(&r, false, true, &s), 0);
	ck_assert_int_eq(s.len, -1);
	ck_assert_int_eq(kp_read_string(&r, true, false, &s), 0);
	ck_assert(kp_str_eqc(s, "xy"));
	ck_assert_int_eq(kp_read_string(&r, true, true, &s), 0);
	ck_assert_int_eq(s.len, -1);
	ck_assert_int_eq(kp_read_string(&r, true, false, &s), 0);
	ck_assert_int_eq(s.len, 0);
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(lengths_beyond_the_input_are_rejected)
{
	/* A string claiming 100 bytes with 2 present. */
	static const uint8_t s1[] = { 0, 100, 'a', 'b' };
	/* Bytes claiming 2^31-1. */
	static const uint8_t b1[] = { 0x7f, 0xff, 0xff, 0xff, 1 };
	/* An array of a million elements in 5 bytes. */
	static const uint8_t a1[] = { 0x00, 0x0f, 0x42, 0x40, 0 };
	/* A negative length other than -1. */
	static const uint8_t n1[] = { 0xff, 0xfe };
	struct kp_reader r;
	kp_str s;
	kp_bytes b;
	int32_t n;

	kp_reader_init(&r, s1, sizeof(s1));
	ck_assert_int_eq(kp_read_string(&r, false, true, &s), -1);
	kp_reader_init(&r, b1, sizeof(b1));
	ck_assert_int_eq(kp_read_bytes(&r, false, true, &b), -1);
	kp_reader_init(&r, a1, sizeof(a1));
	ck_assert_int_eq(kp_read_array_len(&r, false, true, 1, &n), -1);
	kp_reader_init(&r, a1, sizeof(a1));
	ck_assert_int_eq(kp_read_array_len(&r, false, true, 4, &n), -1);
	kp_reader_init(&r, n1, sizeof(n1));
	ck_assert_int_eq(kp_read_string(&r, false, true, &s), -1);
}
END_TEST

START_TEST(writer_keeps_external_pieces_in_place)
{
	struct kp_wbuf w;
	kp_records rec = { NULL, 1000, (const void *)0x1234 };
	size_t pos;

	kp_wbuf_init(&w);
	pos = kp_frame_begin(&w);
	kp_write_i32(&w, 7);
	kp_write_records(&w, false, rec);
	kp_write_i16(&w, 1);
	kp_frame_end(&w, pos);
	ck_assert_uint_eq(w.next, 1);
	ck_assert_uint_eq(w.ext[0].at, 12);
	ck_assert_uint_eq(w.ext[0].len, 1000);
	ck_assert_uint_eq(kp_wbuf_total(&w), 4 + 4 + 4 + 1000 + 2);
	ck_assert_uint_eq(kp_be32(w.data), 4 + 4 + 1000 + 2);
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(counting_writer_matches_real_writer)
{
	struct kp_wbuf w, c;
	static const uint8_t blob[300] = { 1 };

	kp_wbuf_init(&w);
	kp_wbuf_init_counter(&c);
	kp_write_string(&w, true, kp_str_c("hello"));
	kp_write_string(&c, true, kp_str_c("hello"));
	kp_write_bytes(&w, false, (kp_bytes){ blob, 300 });
	kp_write_bytes(&c, false, (kp_bytes){ blob, 300 });
	kp_write_varlong(&w, -123456789);
	kp_write_varlong(&c, -123456789);
	ck_assert_uint_eq(w.len, c.len);
	ck_assert_ptr_null(c.data);
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(arena_respects_its_cap)
{
	struct kp_arena a;
	void *p;

	kp_arena_init(&a, 10000);
	p = kp_arena_alloc(&a, 5000);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(kp_arena_alloc(&a, 6000));
	ck_assert_ptr_null(kp_arena_calloc(&a, SIZE_MAX / 2, 4));
	kp_arena_reset(&a);
	ck_assert_ptr_nonnull(kp_arena_alloc(&a, 9000));
	kp_arena_free(&a);
}
END_TEST

START_TEST(frames_are_bounded)
{
	uint8_t f[8] = { 0, 0, 0, 4, 1, 2, 3, 4 };
	size_t len = 0;

	ck_assert_int_eq(kp_frame_check(f, 3, 100, &len), KP_FRAME_PARTIAL);
	ck_assert_int_eq(kp_frame_check(f, 7, 100, &len), KP_FRAME_PARTIAL);
	ck_assert_int_eq(kp_frame_check(f, 8, 100, &len), KP_FRAME_COMPLETE);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(kp_frame_check(f, 8, 3, &len), KP_FRAME_INVALID);
	f[0] = 0x80;
	ck_assert_int_eq(kp_frame_check(f, 8, 100, &len), KP_FRAME_INVALID);
}
END_TEST

START_TEST(request_header_versions_follow_flexibility)
{
	struct kp_wbuf w;
	struct kp_reader r;
	struct kp_arena a;
	struct kp_req_header h = { 0 }, d;

	/* Produce v9 is flexible: header v2; v8 is not: header v1. */
	ck_assert_int_eq(kp_request_header_version(KP_API_PRODUCE, 9), 2);
	ck_assert_int_eq(kp_request_header_version(KP_API_PRODUCE, 8), 1);
	ck_assert_int_eq(kp_response_header_version(KP_API_PRODUCE, 9), 1);
	ck_assert_int_eq(kp_response_header_version(KP_API_API_VERSIONS, 3), 0);
	ck_assert_int_eq(kp_request_header_version(KP_API_CONTROLLED_SHUTDOWN, 0), 0);
	/* Unknown key: read as v1 so the correlation id is still found. */
	ck_assert_int_eq(kp_request_header_version(999, 0), 1);

	kp_wbuf_init(&w);
	kp_arena_init(&a, 0);
	h.api_key = KP_API_PRODUCE;
	h.api_version = 9;
	h.correlation_id = 42;
	h.client_id = kp_str_c("rdkafka");
	kp_req_header_encode(&w, &h);
	kp_reader_init(&r, w.data, w.len);
	ck_assert_int_eq(kp_req_header_decode(&r, &a, &d), 0);
	ck_assert_int_eq(d.api_key, KP_API_PRODUCE);
	ck_assert_int_eq(d.api_version, 9);
	ck_assert_int_eq(d.correlation_id, 42);
	ck_assert(kp_str_eqc(d.client_id, "rdkafka"));
	ck_assert_uint_eq(kp_reader_left(&r), 0);
	kp_arena_free(&a);
	kp_wbuf_free(&w);
}
END_TEST

START_TEST(error_table_is_ordered_and_named)
{
	int n, i;
	const struct kp_error_info *t = kp_error_table(&n);

	ck_assert_int_gt(n, 1);
	for (i = 1; i < n; i++)
		ck_assert_int_lt(t[i - 1].code, t[i].code);
	ck_assert_str_eq(kp_err_name(KP_ERR_NONE), "NONE");
	ck_assert_str_eq(kp_err_name(KP_ERR_UNKNOWN_SERVER_ERROR),
			 "UNKNOWN_SERVER_ERROR");
	ck_assert_str_eq(kp_err_name(30000), "UNKNOWN");
	/* Every code from -1 to the last one of Kafka 2.8 is defined. */
	ck_assert_int_eq(n, 106);
	ck_assert_int_eq(t[0].code, -1);
	ck_assert_int_eq(t[n - 1].code, KP_ERR_INCONSISTENT_CLUSTER_ID);
	ck_assert_int_eq(KP_ERR_NOT_LEADER_OR_FOLLOWER, 6);
	ck_assert_int_eq(KP_ERR_MEMBER_ID_REQUIRED, 79);
	ck_assert(kp_err_retriable(KP_ERR_NOT_ENOUGH_REPLICAS));
	ck_assert(!kp_err_retriable(KP_ERR_MESSAGE_TOO_LARGE));
}
END_TEST

START_TEST(receive_buffers_grow_to_the_room_asked)
{
	uint8_t *buf = NULL;
	size_t cap = 0;

	ck_assert_int_eq(kp_buf_make_room(&buf, &cap, 0, 100), 0);
	ck_assert_uint_eq(cap, 200);		/* twice the room when empty */
	ck_assert_int_eq(kp_buf_make_room(&buf, &cap, 100, 100), 0);
	ck_assert_uint_eq(cap, 200);		/* enough already: unchanged */
	ck_assert_int_eq(kp_buf_make_room(&buf, &cap, 150, 1000), 0);
	ck_assert_uint_eq(cap, 1600);		/* doubled until it fits */
	ck_assert_uint_ge(cap - 150, 1000);
	free(buf);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fixed_width_integers_are_big_endian);
	tcase_add_test(tc, zigzag_varints_match_known_encodings);
	tcase_add_test(tc, varlong_extremes_round_trip);
	tcase_add_test(tc, overlong_and_truncated_varints_are_rejected);
	tcase_add_test(tc, strings_classic_and_compact);
	tcase_add_test(tc, lengths_beyond_the_input_are_rejected);
	tcase_add_test(tc, writer_keeps_external_pieces_in_place);
	tcase_add_test(tc, receive_buffers_grow_to_the_room_asked);
	tcase_add_test(tc, counting_writer_matches_real_writer);
	tcase_add_test(tc, arena_respects_its_cap);
	tcase_add_test(tc, frames_are_bounded);
	tcase_add_test(tc, request_header_versions_follow_flexibility);
	tcase_add_test(tc, error_table_is_ordered_and_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(buf_suite());
}
