/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_records.c - CRC-32C, compression codecs, record batch v2 building,
 * iteration and validation, and legacy magic 0/1 message sets.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kp_compress.h"
#include "kp_crc32c.h"
#include "kp_errors.h"
#include "kp_records.h"

static uint64_t seed = 88172645463325252ULL;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

START_TEST(crc32c_known_vectors)
{
	uint8_t zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_eq(kp_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(kp_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(kp_crc32c(0, zeros, 32), 0x8a9136aau);
	ck_assert_uint_eq(kp_crc32c(0, ones, 32), 0x62a8ab43u);
	ck_assert_uint_eq(kp_crc32c(0, "", 0), 0);
	/* Continuing a CRC equals one pass over the concatenation. */
	ck_assert_uint_eq(kp_crc32c(kp_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}
END_TEST

START_TEST(crc32c_hardware_equals_software_at_every_length_and_alignment)
{
	static uint8_t buf[1 << 14];
	size_t len, off;

	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)rnd();
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= 300; len++)
			ck_assert_uint_eq(kp_crc32c(0, buf + off, len),
					  kp_crc32c_sw(0, buf + off, len));
	/* the three-stream rounds (768 bytes each) and their tails: every
	 * length around one, two and several rounds, and a long buffer */
	for (off = 0; off < 8; off++)
		for (len = 700; len + off <= 2400; len++)
			ck_assert_uint_eq(kp_crc32c(0x12345678u, buf + off, len),
					  kp_crc32c_sw(0x12345678u, buf + off, len));
	ck_assert_uint_eq(kp_crc32c(0, buf, sizeof(buf)),
			  kp_crc32c_sw(0, buf, sizeof(buf)));
	/* continuing a CRC across a round boundary */
	ck_assert_uint_eq(kp_crc32c(kp_crc32c(0, buf, 1000), buf + 1000, 5000),
			  kp_crc32c_sw(0, buf, 6000));
	fprintf(stderr, "crc32c: hardware path %s\n",
		kp_crc32c_hw_available() ? "in use" : "not available");
}
END_TEST

static const enum kp_codec codecs[] = {
	KP_CODEC_NONE, KP_CODEC_GZIP, KP_CODEC_SNAPPY, KP_CODEC_LZ4, KP_CODEC_ZSTD,
};

START_TEST(codecs_round_trip_and_bound_their_output)
{
	uint8_t in[100000];
	size_t i;
	int c;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 97 < 50 ? 'a' + i % 7 : rnd());
	for (c = 1; c < 5; c++) {
		struct kp_wbuf z, u;

		kp_wbuf_init(&z);
		kp_wbuf_init(&u);
		ck_assert_int_eq(kp_compress(codecs[c], in, sizeof(in), &z), 0);
		ck_assert_int_eq(kp_decompress(codecs[c], z.data, z.len, sizeof(in), &u), 0);
		ck_assert_uint_eq(u.len, sizeof(in));
		ck_assert_mem_eq(u.data, in, sizeof(in));
		/* One byte less room than needed: refused, nothing kept. */
		kp_wbuf_reset(&u);
		ck_assert_int_eq(kp_decompress(codecs[c], z.data, z.len, sizeof(in) - 1, &u), -1);
		ck_assert_uint_eq(u.len, 0);
		/* Every truncation is an error, never a crash. */
		for (i = 0; i < z.len; i += 1 + z.len / 200) {
			kp_wbuf_reset(&u);
			ck_assert_msg(kp_decompress(codecs[c], z.data, i, sizeof(in), &u) == -1,
				      "%s: %zu of %zu bytes accepted", kp_codec_name(codecs[c]), i, z.len);
		}
		kp_wbuf_free(&z);
		kp_wbuf_free(&u);
	}
}
END_TEST

START_TEST(decompression_bombs_are_refused)
{
	size_t big = 64 << 20;
	uint8_t *zeros = calloc(1, big);
	int c;

	for (c = 1; c < 5; c++) {
		struct kp_wbuf z, u;

		kp_wbuf_init(&z);
		kp_wbuf_init(&u);
		ck_assert_int_eq(kp_compress(codecs[c], zeros, big, &z), 0);
		ck_assert_int_eq(kp_decompress(codecs[c], z.data, z.len, 1 << 20, &u), -1);
		ck_assert_uint_le(u.cap, 4u << 20);
		kp_wbuf_free(&z);
		kp_wbuf_free(&u);
	}
	free(zeros);
}
END_TEST

START_TEST(xerial_snappy_framing_is_read)
{
	static const char text[] = "xerial framed snappy, as kafka-python and Java write it";
	struct kp_wbuf raw, framed, u;
	uint8_t hdr[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
	uint8_t len[4];

	kp_wbuf_init(&raw);
	kp_wbuf_init(&framed);
	kp_wbuf_init(&u);
	/* Two chunks, each its own raw snappy block. */
	kp_write_raw(&framed, hdr, 16);
	ck_assert_int_eq(kp_compress(KP_CODEC_SNAPPY, text, 10, &raw), 0);
	kp_put_be32(len, (uint32_t)raw.len);
	kp_write_raw(&framed, len, 4);
	kp_write_raw(&framed, raw.data, raw.len);
	kp_wbuf_reset(&raw);
	ck_assert_int_eq(kp_compress(KP_CODEC_SNAPPY, text + 10, sizeof(text) - 11, &raw), 0);
	kp_put_be32(len, (uint32_t)raw.len);
	kp_write_raw(&framed, len, 4);
	kp_write_raw(&framed, raw.data, raw.len);
	ck_assert_int_eq(kp_decompress(KP_CODEC_SNAPPY, framed.data, framed.len, 1000, &u), 0);
	ck_assert_uint_eq(u.len, sizeof(text) - 1);
	ck_assert_mem_eq(u.data, text, sizeof(text) - 1);
	/* A chunk length beyond the input is corrupt. */
	framed.data[16] = 0x7f;
	kp_wbuf_reset(&u);
	ck_assert_int_eq(kp_decompress(KP_CODEC_SNAPPY, framed.data, framed.len, 1000, &u), -1);
	kp_wbuf_free(&raw);
	kp_wbuf_free(&framed);
	kp_wbuf_free(&u);
}
END_TEST

/* Five records with keys, null values, headers and rising timestamps. */
static void sample(struct kp_record_in *r, struct kp_record_header *h)
{
	static char keys[5][8], vals[5][16];
	int i;

	h[0] = (struct kp_record_header){ { "h1", 2 }, { (const uint8_t *)"v", 1 } };
	h[1] = (struct kp_record_header){ { "h2", 2 }, KP_BYTES_NULL };
	for (i = 0; i < 5; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		snprintf(vals[i], sizeof(vals[i]), "value-%d", i);
		r[i].key = (kp_bytes){ (const uint8_t *)keys[i], (int32_t)strlen(keys[i]) };
		r[i].value = (kp_bytes){ (const uint8_t *)vals[i], (int32_t)strlen(vals[i]) };
		r[i].timestamp = 1600000000000LL + i * 10;
		r[i].headers = i == 2 ? h : NULL;
		r[i].nheaders = i == 2 ? 2 : 0;
	}
	r[3].key = KP_BYTES_NULL;
	r[4].value = KP_BYTES_NULL;
}

START_TEST(batches_build_and_iterate_with_every_codec)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];
	int c;

	sample(in, hs);
	for (c = 0; c < 5; c++) {
		struct kp_wbuf b, scratch;
		struct kp_batch_params p;
		struct kp_record_iter it;
		struct kp_record rec;
		struct kp_batch_info info;
		int i;

		kp_wbuf_init(&b);
		kp_wbuf_init(&scratch);
		kp_batch_params_init(&p);
		p.codec = codecs[c];
		p.base_offset = 100;
		ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
		ck_assert_int_eq(kp_batch_verify_crc(b.data, b.len), KP_BATCH_OK);
		ck_assert_int_eq(kp_batch_validate(b.data, b.len, &scratch, 1 << 20, &info), 0);
		ck_assert_int_eq(info.records, 5);
		ck_assert(info.max_timestamp == 1600000000040LL);
		ck_assert_int_eq(info.h.attributes & KP_ATTR_CODEC_MASK, (int)codecs[c]);
		ck_assert_int_eq(kp_record_iter_init(&it, b.data, b.len, &scratch, 1 << 20), 0);
		for (i = 0; i < 5; i++) {
			ck_assert_int_eq(kp_record_iter_next(&it, &rec), 1);
			ck_assert(rec.offset == 100 + i);
			ck_assert(rec.timestamp == in[i].timestamp);
			ck_assert_int_eq(rec.key.len, in[i].key.len);
			ck_assert_int_eq(rec.value.len, in[i].value.len);
			if (in[i].value.len > 0)
				ck_assert_mem_eq(rec.value.ptr, in[i].value.ptr, (size_t)in[i].value.len);
			ck_assert_int_eq(rec.header_count, in[i].nheaders);
			if (i == 2) {
				struct kp_reader hr;
				struct kp_record_header h;

				kp_reader_init(&hr, rec.headers, rec.headers_len);
				ck_assert_int_eq(kp_record_header_next(&hr, &h), 0);
				ck_assert(kp_str_eqc(h.key, "h1"));
				ck_assert_int_eq(h.value.len, 1);
				ck_assert_int_eq(kp_record_header_next(&hr, &h), 0);
				ck_assert(kp_str_eqc(h.key, "h2"));
				ck_assert_int_eq(h.value.len, -1);
			}
		}
		ck_assert_int_eq(kp_record_iter_next(&it, &rec), 0);
		kp_wbuf_free(&b);
		kp_wbuf_free(&scratch);
	}
}
END_TEST

static bool keep_even(const struct kp_record *rec, void *arg)
{
	(void)arg;
	return rec->offset % 2 == 0;
}

static bool keep_all(const struct kp_record *rec, void *arg)
{
	(void)rec;
	(void)arg;
	return true;
}

static bool keep_none(const struct kp_record *rec, void *arg)
{
	(void)rec;
	(void)arg;
	return false;
}

START_TEST(filtered_batches_keep_offsets_and_stay_valid)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];

	sample(in, hs);
	for (int c = 0; c < 5; c++) {
		struct kp_wbuf b, out, scratch;
		struct kp_batch_params p;
		struct kp_batch_header h0, h;
		struct kp_batch_info info;
		struct kp_record_iter it;
		struct kp_record rec;

		kp_wbuf_init(&b);
		kp_wbuf_init(&out);
		kp_wbuf_init(&scratch);
		kp_batch_params_init(&p);
		p.codec = codecs[c];
		p.base_offset = 100;
		p.leader_epoch = 3;
		p.producer_id = 42;
		p.producer_epoch = 1;
		p.base_sequence = 7;
		ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
		ck_assert_int_eq(kp_batch_header_parse(b.data, b.len, &h0), 0);
		kp_write_raw(&out, "x", 1);	/* appends after what is there */
		ck_assert_int_eq(kp_batch_filter(b.data, b.len, &scratch, 1 << 20,
						 keep_even, NULL, &out), 3);
		ck_assert_int_eq(out.data[0], 'x');
		ck_assert_int_eq(kp_batch_verify_crc(out.data + 1, out.len - 1), KP_BATCH_OK);
		ck_assert_int_eq(kp_batch_header_parse(out.data + 1, out.len - 1, &h), 0);
		ck_assert(h.base_offset == 100);
		ck_assert(kp_batch_last_offset(&h) == 104);
		ck_assert_int_eq(h.record_count, 3);
		ck_assert_int_eq(h.partition_leader_epoch, 3);
		ck_assert_int_eq(h.attributes, h0.attributes);
		ck_assert(h.base_timestamp == h0.base_timestamp);
		ck_assert(h.max_timestamp == h0.max_timestamp);
		ck_assert(h.producer_id == 42 && h.producer_epoch == 1 && h.base_sequence == 7);
		ck_assert_uint_eq((size_t)h.batch_length + KP_LOG_OVERHEAD, out.len - 1);
		ck_assert_int_eq(kp_record_iter_init(&it, out.data + 1, out.len - 1,
						     &scratch, 1 << 20), 0);
		for (int i = 0; i < 5; i += 2) {
			ck_assert_int_eq(kp_record_iter_next(&it, &rec), 1);
			ck_assert(rec.offset == 100 + i);
			ck_assert(rec.timestamp == in[i].timestamp);
			ck_assert_int_eq(rec.key.len, in[i].key.len);
			ck_assert_int_eq(rec.value.len, in[i].value.len);
			ck_assert_int_eq(rec.header_count, in[i].nheaders);
		}
		ck_assert_int_eq(kp_record_iter_next(&it, &rec), 0);
		/* sound, but no producer's batch any more (offset gaps), which
		 * a producer may not send and a follower takes */
		ck_assert_int_eq(kp_batch_validate(out.data + 1, out.len - 1, &scratch,
						   1 << 20, &info), KP_ERR_INVALID_RECORD);

		/* everything kept: the same bytes; nothing: nothing appended */
		kp_wbuf_reset(&out);
		ck_assert_int_eq(kp_batch_filter(b.data, b.len, &scratch, 1 << 20,
						 keep_all, NULL, &out), 5);
		ck_assert_uint_eq(out.len, b.len);
		ck_assert_mem_eq(out.data, b.data, b.len);
		kp_wbuf_reset(&out);
		ck_assert_int_eq(kp_batch_filter(b.data, b.len, &scratch, 1 << 20,
						 keep_none, NULL, &out), 0);
		ck_assert_uint_eq(out.len, 0);
		/* malformed: refused, out unchanged */
		b.data[b.len - 1] ^= 0xff;
		b.data[KP_BATCH_OFF_MAGIC] = 9;
		ck_assert_int_eq(kp_batch_filter(b.data, b.len, &scratch, 1 << 20,
						 keep_even, NULL, &out), -1);
		ck_assert_int_eq(kp_batch_filter(b.data, 30, &scratch, 1 << 20,
						 keep_even, NULL, &out), -1);
		ck_assert_uint_eq(out.len, 0);
		kp_wbuf_free(&b);
		kp_wbuf_free(&out);
		kp_wbuf_free(&scratch);
	}
}
END_TEST

START_TEST(leader_rewrites_keep_the_batch_valid)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];
	struct kp_wbuf b, scratch;
	struct kp_batch_params p;
	struct kp_batch_header h;
	struct kp_record_iter it;
	struct kp_record rec;

	sample(in, hs);
	kp_wbuf_init(&b);
	kp_wbuf_init(&scratch);
	kp_batch_params_init(&p);
	ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
	kp_batch_set_base_offset(b.data, 1000);
	kp_batch_set_leader_epoch(b.data, 7);
	/* Neither field is covered by the CRC. */
	ck_assert_int_eq(kp_batch_verify_crc(b.data, b.len), KP_BATCH_OK);
	ck_assert(kp_batch_set_max_timestamp(b.data, b.len, 1700000000000LL, true));
	ck_assert_int_eq(kp_batch_verify_crc(b.data, b.len), KP_BATCH_OK);
	/* already so: left alone */
	ck_assert(!kp_batch_set_max_timestamp(b.data, b.len, 1700000000000LL, true));
	ck_assert_int_eq(kp_batch_header_parse(b.data, b.len, &h), 0);
	ck_assert(h.base_offset == 1000);
	ck_assert_int_eq(h.partition_leader_epoch, 7);
	ck_assert(kp_batch_last_offset(&h) == 1004);
	ck_assert(h.attributes & KP_ATTR_LOG_APPEND_TIME);
	ck_assert_int_eq(kp_record_iter_init(&it, b.data, b.len, &scratch, 1 << 20), 0);
	ck_assert_int_eq(kp_record_iter_next(&it, &rec), 1);
	ck_assert(rec.timestamp == 1700000000000LL);
	ck_assert(rec.offset == 1000);
	kp_wbuf_free(&b);
	kp_wbuf_free(&scratch);
}
END_TEST

static int16_t validate_modified(void (*mod)(struct kp_wbuf *), enum kp_codec codec,
				 struct kp_batch_params *pp)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];
	struct kp_wbuf b, scratch;
	struct kp_batch_params p;
	struct kp_batch_info info;
	int16_t rc;

	sample(in, hs);
	kp_wbuf_init(&b);
	kp_wbuf_init(&scratch);
	if (pp != NULL) {
		p = *pp;
	} else {
		kp_batch_params_init(&p);
		p.codec = codec;
	}
	ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
	if (mod)
		mod(&b);
	rc = kp_batch_validate(b.data, b.len, &scratch, 1 << 20, &info);
	kp_wbuf_free(&b);
	kp_wbuf_free(&scratch);
	return rc;
}

static void recrc(struct kp_wbuf *b)
{
	kp_put_be32(b->data + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, b->data + KP_BATCH_OFF_ATTRIBUTES,
			      b->len - KP_BATCH_OFF_ATTRIBUTES));
}
static void flip_record_byte(struct kp_wbuf *b) { b->data[70] ^= 0x40; }
static void wrong_count(struct kp_wbuf *b)
{
	kp_put_be32(b->data + KP_BATCH_OFF_RECORD_COUNT, 4);
	recrc(b);
}
static void bad_codec(struct kp_wbuf *b)
{
	kp_put_be16(b->data + KP_BATCH_OFF_ATTRIBUTES, 6);
	recrc(b);
}
static void magic1(struct kp_wbuf *b) { b->data[KP_BATCH_OFF_MAGIC] = 1; }
static void long_length(struct kp_wbuf *b)
{
	kp_put_be32(b->data + KP_BATCH_OFF_LENGTH, (uint32_t)b->len);
}
static void garbage_record(struct kp_wbuf *b)
{
	/* The first record's length varint claims far more than is there. */
	b->data[KP_BATCH_HEADER_SIZE] = 0x7e;
	recrc(b);
}
static void sequence_missing(struct kp_wbuf *b)
{
	kp_put_be64(b->data + KP_BATCH_OFF_PRODUCER_ID, 5);
	recrc(b);
}

/*
 * Records without a timestamp (-1) under a header whose max says 0, as
 * librdkafka writes them, or -1 over records that have one, as Sarama
 * does: the records decide, as Kafka's LogValidator recomputes it.
 */
START_TEST(max_timestamp_comes_from_the_records)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];

	sample(in, hs);
	for (int c = 0; c < 5; c++) {
		struct kp_wbuf b, scratch;
		struct kp_batch_params p;
		struct kp_batch_info info;
		int64_t max;

		kp_wbuf_init(&b);
		kp_wbuf_init(&scratch);
		kp_batch_params_init(&p);
		p.codec = (enum kp_codec)c;
		/* none has a timestamp; the header claims 0 */
		for (int i = 0; i < 5; i++)
			in[i].timestamp = KP_NO_TIMESTAMP;
		ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
		ck_assert(kp_be64(b.data + KP_BATCH_OFF_MAX_TIMESTAMP) == (uint64_t)-1);
		ck_assert(kp_batch_set_max_timestamp(b.data, b.len, 0, false));
		ck_assert_int_eq(kp_batch_validate(b.data, b.len, &scratch, 1 << 20, &info), 0);
		ck_assert(info.h.max_timestamp == 0);
		ck_assert(info.max_timestamp == KP_NO_TIMESTAMP);
		ck_assert(info.ts_low > info.ts_high);
		ck_assert_int_eq(kp_batch_record_max_timestamp(b.data, b.len, &scratch,
							       1 << 20, &max), 0);
		ck_assert(max == KP_NO_TIMESTAMP);
		ck_assert(kp_batch_set_max_timestamp(b.data, b.len, info.max_timestamp, false));
		ck_assert_int_eq(kp_batch_verify_crc(b.data, b.len), KP_BATCH_OK);
		ck_assert(kp_be64(b.data + KP_BATCH_OFF_MAX_TIMESTAMP) == (uint64_t)-1);

		/* real timestamps (one record without) under a header of -1 */
		b.len = 0;
		for (int i = 0; i < 5; i++)
			in[i].timestamp = i == 1 ? KP_NO_TIMESTAMP
						 : 1600000000000LL + i * 10;
		ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
		kp_batch_set_max_timestamp(b.data, b.len, -1, false);
		ck_assert_int_eq(kp_batch_validate(b.data, b.len, &scratch, 1 << 20, &info), 0);
		ck_assert(info.max_timestamp == 1600000000040LL);
		ck_assert(info.ts_low == 1600000000000LL);
		ck_assert(info.ts_high == 1600000000040LL);
		ck_assert_int_eq(kp_batch_record_max_timestamp(b.data, b.len, &scratch,
							       1 << 20, &max), 0);
		ck_assert(max == 1600000000040LL);
		/* a LogAppendTime rewrite and back to CreateTime */
		ck_assert(kp_batch_set_max_timestamp(b.data, b.len, 5, true));
		ck_assert(kp_be16(b.data + KP_BATCH_OFF_ATTRIBUTES) & KP_ATTR_LOG_APPEND_TIME);
		ck_assert(kp_batch_set_max_timestamp(b.data, b.len, max, false));
		ck_assert(!(kp_be16(b.data + KP_BATCH_OFF_ATTRIBUTES) & KP_ATTR_LOG_APPEND_TIME));
		ck_assert_int_eq(kp_batch_verify_crc(b.data, b.len), KP_BATCH_OK);
		/* a truncated batch is refused, not read past */
		ck_assert_int_ne(kp_batch_record_max_timestamp(b.data, b.len - 1, &scratch,
							       1 << 20, &max), 0);
		kp_wbuf_free(&b);
		kp_wbuf_free(&scratch);
	}
}
END_TEST

START_TEST(validation_reports_kafkas_error_codes)
{
	struct kp_batch_params p;

	ck_assert_int_eq(validate_modified(NULL, KP_CODEC_NONE, NULL), 0);
	ck_assert_int_eq(validate_modified(flip_record_byte, KP_CODEC_NONE, NULL), 2);
	ck_assert_int_eq(validate_modified(flip_record_byte, KP_CODEC_ZSTD, NULL), 2);
	ck_assert_int_eq(validate_modified(wrong_count, KP_CODEC_NONE, NULL), 87);
	ck_assert_int_eq(validate_modified(bad_codec, KP_CODEC_NONE, NULL), 76);
	ck_assert_int_eq(validate_modified(magic1, KP_CODEC_NONE, NULL), 87);
	ck_assert_int_eq(validate_modified(long_length, KP_CODEC_NONE, NULL), 2);
	ck_assert_int_eq(validate_modified(garbage_record, KP_CODEC_NONE, NULL), 2);
	ck_assert_int_eq(validate_modified(sequence_missing, KP_CODEC_NONE, NULL), 87);
	kp_batch_params_init(&p);
	p.control = true;
	ck_assert_int_eq(validate_modified(NULL, KP_CODEC_NONE, &p), 87);
}
END_TEST

START_TEST(truncated_and_corrupted_batches_never_crash)
{
	struct kp_record_in in[5];
	struct kp_record_header hs[2];
	int c;

	sample(in, hs);
	for (c = 0; c < 5; c++) {
		struct kp_wbuf b, scratch;
		struct kp_batch_params p;
		struct kp_batch_info info;
		size_t cut;
		int k;

		kp_wbuf_init(&b);
		kp_wbuf_init(&scratch);
		kp_batch_params_init(&p);
		p.codec = codecs[c];
		ck_assert_int_eq(kp_batch_build(&b, &p, in, 5), 0);
		for (cut = 0; cut < b.len; cut++)
			ck_assert_int_ne(kp_batch_validate(b.data, cut, &scratch, 1 << 20, &info), 0);
		for (k = 0; k < 2000; k++) {
			uint8_t *m = malloc(b.len);
			struct kp_record_iter it;
			struct kp_record rec;

			memcpy(m, b.data, b.len);
			m[rnd() % b.len] ^= (uint8_t)(1 + rnd() % 255);
			if (k % 2)
				m[KP_BATCH_HEADER_SIZE + rnd() % (b.len - KP_BATCH_HEADER_SIZE)] = (uint8_t)rnd();
			(void)kp_batch_validate(m, b.len, &scratch, 1 << 20, &info);
			/* Iterating without the CRC check must be safe too. */
			if (kp_record_iter_init(&it, m, b.len, &scratch, 1 << 20) == 0)
				while (kp_record_iter_next(&it, &rec) == 1)
					;
			free(m);
		}
		kp_wbuf_free(&b);
		kp_wbuf_free(&scratch);
	}
}
END_TEST

/*
 * The validation kp_batch_validate() made for every codec before it had a
 * dedicated walk for uncompressed batches, through the public iterator:
 * the reference the fast walk must agree with, answer and info.
 */
static int reference_validate(const uint8_t *batch, size_t len,
			      struct kp_wbuf *scratch, struct kp_batch_info *info)
{
	struct kp_record_iter it;
	struct kp_record rec;
	size_t size;
	int rc;

	if (kp_batch_size(batch, len, &size) != KP_BATCH_OK || size != len)
		return KP_ERR_CORRUPT_MESSAGE;
	if (len < KP_BATCH_HEADER_SIZE || batch[KP_BATCH_OFF_MAGIC] != 2)
		return KP_ERR_INVALID_RECORD;
	if (kp_batch_header_parse(batch, len, &info->h) != KP_BATCH_OK ||
	    kp_batch_verify_crc(batch, len) != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	if ((info->h.attributes & KP_ATTR_CODEC_MASK) > KP_CODEC_ZSTD)
		return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (info->h.record_count <= 0 ||
	    (int64_t)info->h.last_offset_delta + 1 != info->h.record_count ||
	    (info->h.attributes & KP_ATTR_CONTROL) ||
	    (info->h.producer_id >= 0 && info->h.base_sequence < 0))
		return KP_ERR_INVALID_RECORD;
	if (kp_record_iter_init(&it, batch, len, scratch, 1 << 20) != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	info->max_timestamp = KP_NO_TIMESTAMP;
	info->ts_low = INT64_MAX;
	info->ts_high = INT64_MIN;
	info->records = 0;
	info->null_keys = 0;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
		if ((int64_t)((uint64_t)rec.offset - (uint64_t)info->h.base_offset) !=
		    info->records)
			return KP_ERR_INVALID_RECORD;
		if (rec.timestamp > info->max_timestamp)
			info->max_timestamp = rec.timestamp;
		if (rec.timestamp != KP_NO_TIMESTAMP) {
			if (rec.timestamp < info->ts_low)
				info->ts_low = rec.timestamp;
			if (rec.timestamp > info->ts_high)
				info->ts_high = rec.timestamp;
		}
		info->null_keys += rec.key.len < 0;
		info->records++;
	}
	return rc == 0 ? 0 : KP_ERR_CORRUPT_MESSAGE;
}

static void same_answer(const uint8_t *b, size_t len, struct kp_wbuf *scratch)
{
	struct kp_batch_info fast, ref;
	int want = reference_validate(b, len, scratch, &ref);

	ck_assert_int_eq(kp_batch_validate(b, len, scratch, 1 << 20, &fast), want);
	if (want != 0)
		return;
	ck_assert(fast.max_timestamp == ref.max_timestamp);
	ck_assert(fast.ts_low == ref.ts_low);
	ck_assert(fast.ts_high == ref.ts_high);
	ck_assert_int_eq(fast.records, ref.records);
	ck_assert_int_eq(fast.null_keys, ref.null_keys);
}

/*
 * Random damage inside the records of uncompressed batches, the CRC made
 * right again so it reaches the record walk: the fast walk gives the
 * iterator's answer every time (and the same timestamps and key count
 * when it accepts).  Bytes are set to values that matter to varints too
 * (continuation bits, a fifth or tenth byte, -1 and -2).
 */
START_TEST(uncompressed_fast_walk_agrees_with_the_iterator)
{
	static const uint8_t special[] = { 0x00, 0x01, 0x02, 0x03, 0x0f, 0x10,
					   0x7f, 0x80, 0x81, 0xff, 0xfe };
	struct kp_record_in in[40];
	struct kp_record_header hs[2];
	struct kp_wbuf b, scratch;
	struct kp_batch_params p;
	int accepted = 0, refused = 0;

	sample(in, hs);
	for (int i = 5; i < 40; i++) {
		in[i] = in[i % 5];
		in[i].timestamp = i % 7 == 0 ? KP_NO_TIMESTAMP : 1600000000000LL - i * 3;
	}
	kp_wbuf_init(&b);
	kp_wbuf_init(&scratch);
	for (int k = 0; k < 30000; k++) {
		int32_t n = 1 + (int32_t)(rnd() % 40);
		uint8_t *m;
		int hits = 1 + (int)(rnd() % 3);

		b.len = 0;
		kp_batch_params_init(&p);
		p.base_offset = k % 3 == 0 ? INT64_MAX - 5 : (int64_t)(rnd() % 1000);
		p.log_append_time = k % 11 == 0;
		ck_assert_int_eq(kp_batch_build(&b, &p, in, n), 0);
		m = malloc(b.len);
		memcpy(m, b.data, b.len);
		if (k % 10 != 0)
			for (int h = 0; h < hits; h++) {
				size_t at = KP_BATCH_HEADER_SIZE +
					    rnd() % (b.len - KP_BATCH_HEADER_SIZE);

				m[at] = rnd() % 2 ? special[rnd() % sizeof(special)]
						  : (uint8_t)rnd();
			}
		kp_put_be32(m + KP_BATCH_OFF_CRC,
			    kp_crc32c(0, m + KP_BATCH_OFF_ATTRIBUTES,
				      b.len - KP_BATCH_OFF_ATTRIBUTES));
		same_answer(m, b.len, &scratch);
		if (kp_batch_validate(m, b.len, &scratch, 1 << 20,
				      &(struct kp_batch_info){ 0 }) == 0)
			accepted++;
		else
			refused++;
		free(m);
	}
	/* both sides of the walk were exercised */
	ck_assert_int_gt(accepted, 3000);
	ck_assert_int_gt(refused, 3000);
	kp_wbuf_free(&b);
	kp_wbuf_free(&scratch);
}
END_TEST

/* ------------------------------------------ hand-made uncompressed batches */

static void put_zigzag(struct kp_wbuf *w, int64_t v)
{
	kp_write_varlong(w, v);
}

static void put_raw(struct kp_wbuf *w, const char *bytes, size_t n)
{
	kp_write_raw(w, bytes, n);
}

/* One record: length (its fields' size + adjust), attributes 0, deltas,
 * key (NULL: null), value, then the header bytes given as they are. */
static void hand_record(struct kp_wbuf *w, int adjust, int64_t tdelta,
			int32_t odelta, const char *key, const char *value,
			const char *headers, size_t hlen)
{
	struct kp_wbuf body;

	kp_wbuf_init(&body);
	kp_write_i8(&body, 0);
	put_zigzag(&body, tdelta);
	put_zigzag(&body, odelta);
	put_zigzag(&body, key == NULL ? -1 : (int64_t)strlen(key));
	if (key != NULL)
		put_raw(&body, key, strlen(key));
	put_zigzag(&body, value == NULL ? -1 : (int64_t)strlen(value));
	if (value != NULL)
		put_raw(&body, value, strlen(value));
	put_raw(&body, headers, hlen);
	put_zigzag(w, (int64_t)body.len + adjust);
	put_raw(w, (const char *)body.data, body.len);
	kp_wbuf_free(&body);
}

/* A batch of count records whose record bytes are recs, with a right
 * length and CRC; returns kp_batch_validate's answer (and checks the
 * reference agrees). */
static int hand_validate(const struct kp_wbuf *recs, int32_t count,
			 uint16_t attributes, struct kp_batch_info *info)
{
	struct kp_wbuf b, scratch;
	struct kp_batch_params p;
	struct kp_record_in one = { .key = KP_BYTES_NULL, .value = KP_BYTES_NULL };
	int rc;

	kp_wbuf_init(&b);
	kp_wbuf_init(&scratch);
	kp_batch_params_init(&p);
	one.timestamp = 1600000000000LL;
	ck_assert_int_eq(kp_batch_build(&b, &p, &one, 1), 0);
	b.len = KP_BATCH_HEADER_SIZE;
	kp_write_raw(&b, recs->data, recs->len);
	kp_put_be32(b.data + KP_BATCH_OFF_LENGTH, (uint32_t)(b.len - KP_LOG_OVERHEAD));
	kp_put_be32(b.data + KP_BATCH_OFF_RECORD_COUNT, (uint32_t)count);
	kp_put_be32(b.data + KP_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
	kp_put_be16(b.data + KP_BATCH_OFF_ATTRIBUTES, attributes);
	kp_put_be64(b.data + KP_BATCH_OFF_BASE_TIMESTAMP, 1600000000000LL);
	kp_put_be64(b.data + KP_BATCH_OFF_MAX_TIMESTAMP, 1700000000000LL);
	kp_put_be32(b.data + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, b.data + KP_BATCH_OFF_ATTRIBUTES,
			      b.len - KP_BATCH_OFF_ATTRIBUTES));
	same_answer(b.data, b.len, &scratch);
	rc = kp_batch_validate(b.data, b.len, &scratch, 1 << 20, info);
	kp_wbuf_free(&b);
	kp_wbuf_free(&scratch);
	return rc;
}

/*
 * Each malformation of an uncompressed record is refused with the error
 * it had before the fast walk: CORRUPT_MESSAGE (2) for what does not
 * parse, INVALID_RECORD (87) for offset deltas out of order (only once the
 * record parsed); what is legal but unusual (non-minimal varints, a
 * zero-length value, LogAppendTime) is accepted with the right info.
 */
START_TEST(each_malformed_uncompressed_record_keeps_its_error)
{
	struct kp_batch_info info;
	struct kp_wbuf r;
	/* one header "h" = "x", then a header "k" with a null value */
	static const char hdr2[] = { 4, 2, 'h', 2, 'x', 2, 'k', 1 };

	kp_wbuf_init(&r);
#define CASE(count, attrs, want, ...) do {				\
		r.len = 0;						\
		__VA_ARGS__;						\
		ck_assert_int_eq(hand_validate(&r, count, attrs, &info), want); \
	} while (0)
	/* well formed: two records, a null key, headers, timestamps */
	CASE(2, 0, 0, hand_record(&r, 0, 5, 0, NULL, "v", "\0", 1);
	     hand_record(&r, 0, -1600000000001LL, 1, "k", "", hdr2, sizeof(hdr2)));
	ck_assert_int_eq(info.records, 2);
	ck_assert_int_eq(info.null_keys, 1);
	ck_assert(info.max_timestamp == 1600000000005LL);
	ck_assert(info.ts_low == 1600000000005LL && info.ts_high == 1600000000005LL);
	/* LogAppendTime: every record has the header's maximum */
	CASE(1, KP_ATTR_LOG_APPEND_TIME, 0, hand_record(&r, 0, 5, 0, "k", "v", "\0", 1));
	ck_assert(info.max_timestamp == 1700000000000LL);
	ck_assert_int_eq(info.null_keys, 0);
	/* a record longer than its fields, or shorter */
	CASE(1, 0, 2, hand_record(&r, 1, 0, 0, NULL, "v", "\0\0", 2));
	CASE(1, 0, 2, hand_record(&r, 1, 0, 0, NULL, "v", "\0", 1); kp_write_i8(&r, 0));
	CASE(1, 0, 2, hand_record(&r, -1, 0, 0, NULL, "v", "\0", 1));
	/* a length past the batch, a negative one, an empty record */
	CASE(1, 0, 2, hand_record(&r, 50, 0, 0, NULL, "v", "\0", 1));
	CASE(1, 0, 2, put_zigzag(&r, -3); put_raw(&r, "\0\0\0\0\0\0\0", 7));
	CASE(1, 0, 2, put_zigzag(&r, 0); put_raw(&r, "", 0));
	/* bytes after the last record; fewer records than the count */
	CASE(1, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\0", 1); kp_write_i8(&r, 0));
	CASE(2, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\0", 1));
	/* offset deltas out of order; a bad record before the order check */
	CASE(2, 0, 87, hand_record(&r, 0, 0, 0, NULL, "v", "\0", 1);
	     hand_record(&r, 0, 0, 2, NULL, "v", "\0", 1));
	CASE(1, 0, 87, hand_record(&r, 0, 0, -1, NULL, "v", "\0", 1));
	CASE(1, 0, 2, hand_record(&r, 0, 0, 1, NULL, "v", "\0\0", 2));
	/* key -2; header count -1; header key -1; header value -2 */
	CASE(1, 0, 2, put_zigzag(&r, 5); put_raw(&r, "\0\0\0\3\0", 5));
	CASE(1, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\1", 1));
	CASE(1, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\2\1\0", 3));
	CASE(1, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\2\2h\3", 4));
	/* a header count larger than the headers there */
	CASE(1, 0, 2, hand_record(&r, 0, 0, 0, NULL, "v", "\4\2h\1", 4));
	/* varints: a five-byte one whose last byte fits is legal, one
	 * whose last byte does not, or a sixth byte, is not; a varlong's
	 * tenth byte may only be 0 or 1 */
	CASE(1, 0, 0, put_zigzag(&r, 10);
	     put_raw(&r, "\0\0\x80\x80\x80\x80\x00\1\0\0", 10));
	CASE(1, 0, 2, put_zigzag(&r, 10);
	     put_raw(&r, "\0\0\x80\x80\x80\x80\x10\1\0\0", 10));
	CASE(1, 0, 2, put_zigzag(&r, 11);
	     put_raw(&r, "\0\0\x80\x80\x80\x80\x80\x00\1\0\0", 11));
	CASE(1, 0, 0, put_zigzag(&r, 15);
	     put_raw(&r, "\0\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01\0\1\1\0", 15));
	CASE(1, 0, 2, put_zigzag(&r, 15);
	     put_raw(&r, "\0\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\0\1\1\0", 15));
	/* a varint cut by the record's end (not the batch's) */
	CASE(1, 0, 2, put_zigzag(&r, 3); put_raw(&r, "\0\0\x80\0\1\1\0", 7));
#undef CASE
	kp_wbuf_free(&r);
}
END_TEST

/* A legacy message laid out by hand: offset, size, crc, magic, attrs,
 * [timestamp], key, value. */
static void legacy_msg(struct kp_wbuf *w, int64_t off, int8_t magic, int8_t attr,
		       int64_t ts, const char *key, const uint8_t *val, int32_t vlen)
{
	size_t start;
	uint32_t crc;

	kp_write_i64(w, off);
	start = w->len;
	kp_write_i32(w, 0);
	kp_write_u32(w, 0);
	kp_write_i8(w, magic);
	kp_write_i8(w, attr);
	if (magic == 1)
		kp_write_i64(w, ts);
	kp_write_bytes(w, false, key ? (kp_bytes){ (const uint8_t *)key, (int32_t)strlen(key) } : KP_BYTES_NULL);
	kp_write_bytes(w, false, (kp_bytes){ val, vlen });
	kp_put_be32(w->data + start, (uint32_t)(w->len - start - 4));
	crc = (uint32_t)crc32(0L, w->data + start + 8, (uInt)(w->len - start - 8));
	kp_put_be32(w->data + start + 4, crc);
}

START_TEST(legacy_message_sets_decode)
{
	struct kp_wbuf set, inner, z, scratch;
	struct kp_legacy_iter it;
	struct kp_legacy_msg m;

	kp_wbuf_init(&set);
	kp_wbuf_init(&inner);
	kp_wbuf_init(&z);
	kp_wbuf_init(&scratch);
	legacy_msg(&set, 0, 0, 0, -1, "a", (const uint8_t *)"v0", 2);
	legacy_msg(&set, 1, 1, 0, 1500000000000LL, NULL, (const uint8_t *)"v1", 2);
	/* A gzip wrapper (magic 1) with relative inner offsets 0..2; the
	 * wrapper carries the last absolute offset, 4. */
	legacy_msg(&inner, 0, 1, 0, 10, "x", (const uint8_t *)"i0", 2);
	legacy_msg(&inner, 1, 1, 0, 11, "y", (const uint8_t *)"i1", 2);
	legacy_msg(&inner, 2, 1, 0, 12, "z", (const uint8_t *)"i2", 2);
	ck_assert_int_eq(kp_compress(KP_CODEC_GZIP, inner.data, inner.len, &z), 0);
	legacy_msg(&set, 4, 1, KP_CODEC_GZIP, 12, NULL, z.data, (int32_t)z.len);

	kp_legacy_iter_init(&it, set.data, set.len, &scratch, 1 << 20);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 1);
	ck_assert(m.offset == 0 && m.magic == 0 && m.timestamp == -1);
	ck_assert_int_eq(m.key.len, 1);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 1);
	ck_assert(m.offset == 1 && m.magic == 1 && m.timestamp == 1500000000000LL);
	ck_assert_int_eq(m.key.len, -1);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 1);
	ck_assert(m.offset == 2);
	ck_assert_mem_eq(m.value.ptr, "i0", 2);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 1);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 1);
	ck_assert(m.offset == 4);
	ck_assert_mem_eq(m.value.ptr, "i2", 2);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), 0);

	/* A flipped byte fails the CRC-32. */
	set.data[27] ^= 1;	/* the first value byte */
	kp_legacy_iter_init(&it, set.data, set.len, &scratch, 1 << 20);
	ck_assert_int_eq(kp_legacy_iter_next(&it, &m), -1);
	kp_wbuf_free(&set);
	kp_wbuf_free(&inner);
	kp_wbuf_free(&z);
	kp_wbuf_free(&scratch);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, crc32c_known_vectors);
	tcase_add_test(tc, crc32c_hardware_equals_software_at_every_length_and_alignment);
	tcase_add_test(tc, codecs_round_trip_and_bound_their_output);
	tcase_add_test(tc, decompression_bombs_are_refused);
	tcase_add_test(tc, xerial_snappy_framing_is_read);
	tcase_add_test(tc, batches_build_and_iterate_with_every_codec);
	tcase_add_test(tc, leader_rewrites_keep_the_batch_valid);
	tcase_add_test(tc, filtered_batches_keep_offsets_and_stay_valid);
	tcase_add_test(tc, max_timestamp_comes_from_the_records);
	tcase_add_test(tc, validation_reports_kafkas_error_codes);
	tcase_add_test(tc, truncated_and_corrupted_batches_never_crash);
	tcase_add_test(tc, uncompressed_fast_walk_agrees_with_the_iterator);
	tcase_add_test(tc, each_malformed_uncompressed_record_keeps_its_error);
	tcase_add_test(tc, legacy_message_sets_decode);
	suite_add_tcase(s, tc);
	return check_run(s);
}
