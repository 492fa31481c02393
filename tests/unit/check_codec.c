/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_codec.c - every request and response of every API, at every version
 * the schema defines, survives encode -> decode -> encode unchanged; every
 * truncation of a valid encoding is rejected; random corruption never
 * crashes the decoder (run this under ASan to see the "never").
 *
 * Messages are filled with pseudo-random values, walking the descriptor
 * tables, so a schema added later is covered without a new test.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_msgs.h"
#include "kp_proto.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic per seed, good enough to vary fields. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static bool present(const struct kp_field_desc *f, int16_t v)
{
	return v >= f->vmin && v <= f->vmax;
}

static bool can_null(const struct kp_field_desc *f, int16_t v)
{
	return v >= f->nmin && v <= f->nmax;
}

static void fill_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			struct kp_arena *a, void *obj, int depth);

static void fill_value(const struct kp_field_desc *f, int16_t v, bool flex,
		       bool null_ok, struct kp_arena *a, void *p, int depth)
{
	switch (f->type) {
	case KP_FT_BOOL: *(bool *)p = rnd() & 1; break;
	case KP_FT_INT8: *(int8_t *)p = (int8_t)rnd(); break;
	case KP_FT_INT16: *(int16_t *)p = (int16_t)rnd(); break;
	case KP_FT_UINT16: *(uint16_t *)p = (uint16_t)rnd(); break;
	case KP_FT_INT32: *(int32_t *)p = (int32_t)rnd(); break;
	case KP_FT_UINT32: *(uint32_t *)p = (uint32_t)rnd(); break;
	case KP_FT_INT64: *(int64_t *)p = (int64_t)rnd(); break;
	case KP_FT_FLOAT64: *(double *)p = (double)(rnd() % 100000) / 7.0; break;
	case KP_FT_UUID: {
		kp_uuid *u = p;
		int i;

		for (i = 0; i < 16; i++)
			u->b[i] = (uint8_t)rnd();
		break;
	}
	case KP_FT_STRING: {
		kp_str *s = p;
		size_t n = rnd() % 9, i;
		char *c;

		if (null_ok && rnd() % 4 == 0) {
			*s = KP_STR_NULL;
			break;
		}
		c = kp_arena_alloc(a, n + 1);
		for (i = 0; i < n; i++)
			c[i] = (char)('a' + rnd() % 26);
		*s = (kp_str){ c, (int32_t)n };
		break;
	}
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		size_t n = rnd() % 40, i;
		uint8_t *b;

		if (null_ok && rnd() % 4 == 0) {
			if (f->type == KP_FT_BYTES)
				*(kp_bytes *)p = KP_BYTES_NULL;
			else
				*(kp_records *)p = (kp_records){ NULL, -1, NULL };
			break;
		}
		b = kp_arena_alloc(a, n + 1);
		for (i = 0; i < n; i++)
			b[i] = (uint8_t)rnd();
		if (f->type == KP_FT_BYTES)
			*(kp_bytes *)p = (kp_bytes){ b, (int32_t)n };
		else
			*(kp_records *)p = (kp_records){ b, (int32_t)n, NULL };
		break;
	}
	case KP_FT_STRUCT:
		fill_struct(f->sub, v, flex, a, p, depth + 1);
		break;
	}
}

static size_t value_size(const struct kp_field_desc *f)
{
	switch (f->type) {
	case KP_FT_BOOL: return sizeof(bool);
	case KP_FT_INT8: return 1;
	case KP_FT_INT16: case KP_FT_UINT16: return 2;
	case KP_FT_INT32: case KP_FT_UINT32: return 4;
	case KP_FT_INT64: return 8;
	case KP_FT_FLOAT64: return sizeof(double);
	case KP_FT_UUID: return sizeof(kp_uuid);
	case KP_FT_STRING: return sizeof(kp_str);
	case KP_FT_BYTES: return sizeof(kp_bytes);
	case KP_FT_RECORDS: return sizeof(kp_records);
	case KP_FT_STRUCT: return f->sub->size;
	}
	return 0;
}

static void fill_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			struct kp_arena *a, void *obj, int depth)
{
	uint16_t i;

	kp_struct_init(d, obj);
	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		char *base = obj;

		if (!present(f, v))
			continue;
		if (f->array) {
			int32_t n = depth > 3 ? 0 : (int32_t)(rnd() % 4);
			size_t es = value_size(f);
			char *items;
			int32_t j;

			if (can_null(f, v) && rnd() % 5 == 0) {
				*(int32_t *)(base + f->cnt_off) = -1;
				continue;
			}
			items = kp_arena_calloc(a, (size_t)n + 1, es);
			for (j = 0; j < n; j++)
				fill_value(f, v, flex, false, a, items + (size_t)j * es,
					   depth);
			*(void **)(base + f->off) = items;
			*(int32_t *)(base + f->cnt_off) = n;
		} else {
			fill_value(f, v, flex, can_null(f, v), a, base + f->off,
				   depth);
		}
	}
	if (flex && rnd() % 3 == 0) {
		/* An unknown tagged field, which must survive the round trip. */
		struct kp_tagged_fields *tf =
			(struct kp_tagged_fields *)((char *)obj + d->tagged_off);
		struct kp_tagged *t = kp_arena_alloc(a, sizeof(*t));
		uint8_t *data = kp_arena_alloc(a, 3);

		data[0] = 1;
		data[1] = 2;
		data[2] = 3;
		t->tag = 4000 + (uint32_t)(rnd() % 100);
		t->data = (kp_bytes){ data, 3 };
		tf->items = t;
		tf->count = 1;
	}
}

struct case_stats {
	int messages;
	int truncations;
};

static void round_trip(const struct kp_api_desc *api,
		       const struct kp_struct_desc *d, int16_t v,
		       struct case_stats *st)
{
	bool flex = kp_api_flexible(api, v);
	struct kp_arena a;
	struct kp_wbuf w1, w2;
	struct kp_reader r;
	void *in = calloc(1, d->size);
	void *out = calloc(1, d->size);
	size_t cut;
	int iter;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (iter = 0; iter < 8; iter++) {
		kp_arena_init(&a, 0);
		kp_wbuf_init(&w1);
		kp_wbuf_init(&w2);
		fill_struct(d, v, flex, &a, in, 0);
		kp_encode(d, v, flex, in, &w1);
		ck_assert_int_eq(w1.err, 0);
		ck_assert_msg(kp_encoded_size(d, v, flex, in) == w1.len,
			      "%s v%d: size differs from encoding", d->name, v);

		kp_reader_init(&r, w1.data, w1.len);
		ck_assert_msg(kp_decode(d, v, flex, &r, &a, out) == 0,
			      "%s v%d: decode of own encoding failed", d->name, v);
		ck_assert_msg(kp_reader_left(&r) == 0,
			      "%s v%d: %zu bytes left after decode", d->name, v,
			      kp_reader_left(&r));
		ck_assert_msg(kp_struct_equal(d, v, flex, in, out),
			      "%s v%d: decoded value differs", d->name, v);
		kp_encode(d, v, flex, out, &w2);
		ck_assert_msg(w1.len == w2.len &&
			      (w1.len == 0 || memcmp(w1.data, w2.data, w1.len) == 0),
			      "%s v%d: re-encoding differs", d->name, v);
		st->messages++;

		/* Every strict prefix of a valid encoding is rejected. */
		for (cut = 0; cut < w1.len; cut++) {
			struct kp_arena a2;

			kp_arena_init(&a2, 0);
			kp_reader_init(&r, w1.data, cut);
			ck_assert_msg(kp_decode(d, v, flex, &r, &a2, out) != 0,
				      "%s v%d: prefix of %zu/%zu bytes accepted",
				      d->name, v, cut, w1.len);
			kp_arena_free(&a2);
			st->truncations++;
		}

		/* Random byte flips: any result is fine but a crash. */
		if (w1.len > 0) {
			int k;

			for (k = 0; k < 16; k++) {
				struct kp_arena a3;
				uint8_t *m = malloc(w1.len);

				memcpy(m, w1.data, w1.len);
				m[rnd() % w1.len] ^= (uint8_t)(1 + rnd() % 255);
				m[rnd() % w1.len] = 0xff;
				kp_arena_init(&a3, 1 << 20);
				kp_reader_init(&r, m, w1.len);
				(void)kp_decode(d, v, flex, &r, &a3, out);
				kp_arena_free(&a3);
				free(m);
			}
		}
		kp_wbuf_free(&w1);
		kp_wbuf_free(&w2);
		kp_arena_free(&a);
	}
	free(in);
	free(out);
}

START_TEST(every_message_round_trips_at_every_version)
{
	struct case_stats st = { 0, 0 };
	int key, apis = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (key = 0; key <= KP_API_KEY_MAX; key++) {
		const struct kp_api_desc *api = kp_api_get((int16_t)key);
		int16_t v;

		if (api == NULL)
			continue;
		apis++;
		ck_assert_int_eq(api->min, 0);
		for (v = api->min; v <= api->max; v++) {
			round_trip(api, api->req, v, &st);
			round_trip(api, api->resp, v, &st);
		}
	}
	fprintf(stderr, "codec: %d APIs, %d messages round-tripped, %d truncations rejected\n",
		apis, st.messages, st.truncations);
	ck_assert_int_gt(apis, 0);
}
END_TEST

/* Hand-checked bytes: ApiVersions v3 request (flexible) and v0 response. */
START_TEST(api_versions_known_bytes)
{
	struct kp_api_versions_req req;
	struct kp_api_versions_resp resp;
	struct kp_api_versions_resp_api_version keys[1] = { { 0 } };
	struct kp_wbuf w;
	static const uint8_t want_req[] = {
		/* frame size */ 0, 0, 0, 21,
		/* api key 18, version 3, correlation 7 */ 0, 18, 0, 3, 0, 0, 0, 7,
		/* client id "c" (int16 string even in header v2) */ 0, 1, 'c',
		/* header tagged fields */ 0,
		/* compact "lib" */ 4, 'l', 'i', 'b',
		/* compact "1.0" */ 4, '1', '.', '0',
		/* body tagged fields */ 0,
	};
	static const uint8_t want_resp[] = {
		0, 0, 0, 16,
		0, 0, 0, 9,		/* correlation id, header v0 */
		0, 0,			/* error code */
		0, 0, 0, 1,		/* one api key (classic array) */
		0, 18, 0, 0, 0, 3,	/* key 18, 0..3 */
	};

	kp_struct_init(&kp_api_versions_req_desc, &req);
	req.client_software_name = kp_str_c("lib");
	req.client_software_version = kp_str_c("1.0");
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_request_frame(&w, KP_API_API_VERSIONS, 3, 7, "c", &req), 0);
	ck_assert_uint_eq(w.len, sizeof(want_req));
	ck_assert_mem_eq(w.data, want_req, sizeof(want_req));
	kp_wbuf_reset(&w);

	kp_struct_init(&kp_api_versions_resp_desc, &resp);
	keys[0].api_key = 18;
	keys[0].min_version = 0;
	keys[0].max_version = 3;
	resp.api_keys = keys;
	resp.api_keys_count = 1;
	ck_assert_int_eq(kp_response_frame(&w, KP_API_API_VERSIONS, 0, 9, &resp), 0);
	ck_assert_uint_eq(w.len, sizeof(want_resp));
	ck_assert_mem_eq(w.data, want_resp, sizeof(want_resp));
	kp_wbuf_free(&w);
}
END_TEST

/* Found by the fuzzer: tags must strictly increase (KIP-482), otherwise a
 * decoded message could not be written back as it was read. */
START_TEST(repeated_or_unordered_tags_are_rejected)
{
	static const uint8_t dup[] = { 2, 'a', 2, 'b', 2, 5, 0, 5, 0 };
	static const uint8_t unordered[] = { 2, 'a', 2, 'b', 2, 6, 0, 5, 0 };
	static const uint8_t ordered[] = { 2, 'a', 2, 'b', 2, 5, 0, 6, 1, 9 };
	static const uint8_t maxtag[] = { 2, 'a', 2, 'b', 2, 5, 0,
					  0xff, 0xff, 0xff, 0xff, 0x0f, 0 };
	struct kp_api_versions_req req;
	struct kp_arena a;
	struct kp_reader r;
	struct kp_wbuf w;

	kp_arena_init(&a, 0);
	kp_reader_init(&r, dup, sizeof(dup));
	ck_assert_int_ne(kp_decode(&kp_api_versions_req_desc, 3, true, &r, &a, &req), 0);
	kp_reader_init(&r, unordered, sizeof(unordered));
	ck_assert_int_ne(kp_decode(&kp_api_versions_req_desc, 3, true, &r, &a, &req), 0);
	kp_reader_init(&r, ordered, sizeof(ordered));
	ck_assert_int_eq(kp_decode(&kp_api_versions_req_desc, 3, true, &r, &a, &req), 0);
	ck_assert_int_eq(req._tagged.count, 2);
	kp_wbuf_init(&w);
	kp_encode(&kp_api_versions_req_desc, 3, true, &req, &w);
	ck_assert_uint_eq(w.len, sizeof(ordered));
	ck_assert_mem_eq(w.data, ordered, sizeof(ordered));
	kp_wbuf_free(&w);
	/* Found by the fuzzer too: the largest tag (2^32 - 1) is written back,
	 * not lost to a "no tag yet" sentinel. */
	kp_reader_init(&r, maxtag, sizeof(maxtag));
	ck_assert_int_eq(kp_decode(&kp_api_versions_req_desc, 3, true, &r, &a, &req), 0);
	kp_wbuf_init(&w);
	kp_encode(&kp_api_versions_req_desc, 3, true, &req, &w);
	ck_assert_uint_eq(w.len, sizeof(maxtag));
	ck_assert_mem_eq(w.data, maxtag, sizeof(maxtag));
	kp_wbuf_free(&w);
	kp_arena_free(&a);
}
END_TEST

START_TEST(absent_fields_take_their_defaults)
{
	struct kp_produce_resp_partition_produce_response p;

	kp_struct_init(&kp_produce_resp_partition_produce_response_desc, &p);
	ck_assert(p.log_append_time_ms == -1);
	ck_assert(p.log_start_offset == -1);
	ck_assert_int_eq(p.error_message.len, -1);
	ck_assert_int_eq(p.record_errors_count, 0);
}
END_TEST

/*
 * A 10 MB CreateTopics body claiming as many topics as it has bytes: the
 * decoder used to allocate count x struct size (720 MB) before it found
 * the bytes were not there.  Counts are bounded by the bytes left over the
 * least an element takes at that version, so the hostile frame is refused
 * with the arena still small, and a frame of real minimal elements
 * allocates a small multiple of its size.
 */
START_TEST(array_counts_cannot_claim_more_than_the_frame_holds)
{
	const size_t len = 10 << 20;
	struct kp_create_topics_req req;
	struct kp_arena a;
	struct kp_reader r;
	uint8_t *body = calloc(1, len);
	const struct kp_api_desc *api = kp_api_get(KP_API_CREATE_TOPICS);
	static const int16_t versions[] = { 4, 5 };

	ck_assert_ptr_nonnull(body);
	for (size_t k = 0; k < sizeof(versions) / sizeof(versions[0]); k++) {
		int16_t v = versions[k];
		int32_t count;
		size_t elem = v >= 5 ? 10 : 16;	/* a topic's fewest bytes */
		size_t pos = 0;

		/* a count as large as the body (classic int32 / compact
		 * uvarint of count + 1) */
		memset(body, 0, len);
		count = (int32_t)(len - 8);
		if (v < 5) {
			body[0] = (uint8_t)(count >> 24);
			body[1] = (uint8_t)(count >> 16);
			body[2] = (uint8_t)(count >> 8);
			body[3] = (uint8_t)count;
		} else {
			uint32_t u = (uint32_t)count + 1;
			int i = 0;

			while (u >= 0x80) {
				body[i++] = (uint8_t)(u | 0x80);
				u >>= 7;
			}
			body[i] = (uint8_t)u;
		}
		kp_arena_init(&a, 0);
		kp_reader_init(&r, body, len);
		ck_assert_int_ne(kp_request_decode(api, v, &r, &a, &req), 0);
		ck_assert_uint_lt(a.used, 1 << 20);
		kp_arena_free(&a);

		/* as many minimal topics (name "", no assignments, no
		 * configs) as fit: decodes, and the arena stays within a
		 * small multiple of the frame */
		memset(body, 0, len);
		count = (int32_t)((len - 16) / elem);
		if (v < 5) {
			body[0] = (uint8_t)(count >> 24);
			body[1] = (uint8_t)(count >> 16);
			body[2] = (uint8_t)(count >> 8);
			body[3] = (uint8_t)count;
			pos = 4;
		} else {
			uint32_t u = (uint32_t)count + 1;

			while (u >= 0x80) {
				body[pos++] = (uint8_t)(u | 0x80);
				u >>= 7;
			}
			body[pos++] = (uint8_t)u;
		}
		for (int32_t i = 0; i < count; i++) {
			uint8_t *e = body + pos;

			if (v < 5) {
				/* name len 0, partitions, rf, arrays of 0 */
				memset(e, 0, 16);
			} else {
				e[0] = 1;		/* name "" */
				memset(e + 1, 0, 6);	/* partitions, rf */
				e[7] = 1;		/* assignments: [] */
				e[8] = 1;		/* configs: [] */
				e[9] = 0;		/* no tagged fields */
			}
			pos += elem;
		}
		/* timeout_ms, validate_only, tagged fields */
		pos += 4 + 1 + (v >= 5 ? 1 : 0);
		kp_arena_init(&a, 0);
		kp_reader_init(&r, body, pos);
		ck_assert_int_eq(kp_request_decode(api, v, &r, &a, &req), 0);
		ck_assert_int_eq(req.topics_count, count);
		ck_assert_uint_lt(a.used, 16 * pos);
		kp_arena_free(&a);
	}
	free(body);
}
END_TEST

static Suite *codec_suite(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, every_message_round_trips_at_every_version);
	tcase_add_test(tc, api_versions_known_bytes);
	tcase_add_test(tc, absent_fields_take_their_defaults);
	tcase_add_test(tc, repeated_or_unordered_tags_are_rejected);
	tcase_add_test(tc, array_counts_cannot_claim_more_than_the_frame_holds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(codec_suite());
}
