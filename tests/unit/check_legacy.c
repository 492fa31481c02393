/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_legacy.c - message format conversion for old clients: magic 0/1
 * message sets to one v2 batch (Produce v0-2, kp_legacy_to_v2) with
 * Kafka's validation and error codes, v2 batches down to magic 0/1
 * (Fetch v0-3, kp_batch_down_convert), the magic 0 lz4 header checksum,
 * xxHash32, message.format.version values; malformed and mutated input
 * never crashes.
 */
#include "check_run.h"
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kp_compress.h"
#include "kp_errors.h"
#include "kp_records.h"
#include "kp_topic_config.h"

#define MAXD (1u << 24)
#define NOW 1700000000000LL

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static const enum kp_codec legacy_codecs[] = {
	KP_CODEC_NONE, KP_CODEC_GZIP, KP_CODEC_SNAPPY, KP_CODEC_LZ4,
};
#define NCODECS (sizeof(legacy_codecs) / sizeof(legacy_codecs[0]))

static kp_bytes B(const char *s)
{
	return s == NULL ? KP_BYTES_NULL
			 : (kp_bytes){ (const uint8_t *)s, (int32_t)strlen(s) };
}

/* A magic 0/1 message laid out by hand; crc_delta spoils its CRC. */
static void msg(struct kp_wbuf *w, int64_t off, int8_t magic, int8_t attr,
		int64_t ts, kp_bytes key, kp_bytes val, uint32_t crc_delta)
{
	size_t start;

	kp_write_i64(w, off);
	start = w->len;
	kp_write_i32(w, 0);
	kp_write_u32(w, 0);
	kp_write_i8(w, magic);
	kp_write_i8(w, attr);
	if (magic == 1)
		kp_write_i64(w, ts);
	kp_write_bytes(w, false, key);
	kp_write_bytes(w, false, val);
	kp_put_be32(w->data + start, (uint32_t)(w->len - start - 4));
	kp_put_be32(w->data + start + 4,
		    (uint32_t)crc32(0L, w->data + start + 8,
				    (uInt)(w->len - start - 8)) + crc_delta);
}

/* The records test sets carry: keys, null keys, null values, empties. */
struct rec {
	const char *key, *value;
	int64_t ts;
};

static const struct rec recs[] = {
	{ "k0", "first value", NOW + 1 },
	{ NULL, "no key", NOW + 2 },
	{ "tombstone", NULL, NOW + 3 },
	{ "", "", NOW + 4 },
	{ "k4", "a longer value, a longer value, a longer value", NOW + 5 },
	{ NULL, NULL, NOW + 6 },
	{ "k6", "last", NOW - 7 },
};
#define NRECS ((int32_t)(sizeof(recs) / sizeof(recs[0])))

/*
 * A legacy set of recs[0..n): separate messages when codec is none, else a
 * wrapper (offset: the last inner offset, or wrapper_off when >= 0) whose
 * inner offsets are 0.. (magic 1: relative) or base.. (magic 0).
 */
static void legacy_set(struct kp_wbuf *set, int8_t magic, enum kp_codec codec,
		       int32_t n, int64_t base, int64_t wrapper_off)
{
	struct kp_wbuf inner, z;
	int64_t max_ts = -1;

	if (codec == KP_CODEC_NONE) {
		for (int32_t i = 0; i < n; i++)
			msg(set, base + i, magic, 0, recs[i].ts, B(recs[i].key),
			    B(recs[i].value), 0);
		return;
	}
	kp_wbuf_init(&inner);
	kp_wbuf_init(&z);
	for (int32_t i = 0; i < n; i++) {
		msg(&inner, magic == 1 ? i : base + i, magic, 0, recs[i].ts,
		    B(recs[i].key), B(recs[i].value), 0);
		if (recs[i].ts > max_ts)
			max_ts = recs[i].ts;
	}
	ck_assert_int_eq(kp_compress_legacy(codec, magic, inner.data, inner.len, &z), 0);
	msg(set, wrapper_off >= 0 ? wrapper_off : base + n - 1, magic,
	    (int8_t)codec, max_ts, KP_BYTES_NULL,
	    (kp_bytes){ z.data, (int32_t)z.len }, 0);
	kp_wbuf_free(&inner);
	kp_wbuf_free(&z);
}

static const struct kp_legacy_rules lenient = {
	.now_ms = NOW, .timestamp_diff_max_ms = INT64_MAX,
};

static bool bytes_eq(kp_bytes a, kp_bytes b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

/* Analyze and convert; returns the error (0: out holds one v2 batch). */
static int16_t to_v2(const struct kp_wbuf *set, const struct kp_legacy_rules *ru,
		     struct kp_wbuf *out, int32_t *n)
{
	struct kp_wbuf scratch, raw;
	struct kp_set_info si;
	int16_t err;

	kp_wbuf_init(&scratch);
	kp_wbuf_init(&raw);
	*n = 0;
	err = kp_message_set_analyze(set->data, set->len, 1 << 30, &si);
	if (err == 0 && si.entries == 0)
		err = -100;
	if (err == 0)
		err = kp_legacy_to_v2(set->data, &si, ru, &scratch, &raw, MAXD, out, n);
	kp_wbuf_free(&scratch);
	kp_wbuf_free(&raw);
	return err;
}

/* out holds one valid v2 batch of recs[0..n) with codec and timestamps. */
static void check_v2(const struct kp_wbuf *out, enum kp_codec codec, int32_t n,
		     bool with_ts)
{
	struct kp_wbuf scratch;
	struct kp_batch_info info;
	struct kp_record_iter it;
	struct kp_record r;
	int32_t i = 0;

	kp_wbuf_init(&scratch);
	ck_assert_int_eq(kp_batch_validate(out->data, out->len, &scratch, MAXD, &info), 0);
	ck_assert_int_eq(info.h.attributes & KP_ATTR_CODEC_MASK, codec);
	ck_assert_int_eq(info.h.attributes & KP_ATTR_LOG_APPEND_TIME, 0);
	ck_assert_int_eq(info.records, n);
	ck_assert(info.h.producer_id == -1 && info.h.base_offset == 0);
	ck_assert_int_eq(kp_record_iter_init(&it, out->data, out->len, &scratch, MAXD), 0);
	while (kp_record_iter_next(&it, &r) == 1) {
		ck_assert_int_eq(r.offset, i);
		ck_assert(bytes_eq(r.key, B(recs[i].key)));
		ck_assert(bytes_eq(r.value, B(recs[i].value)));
		ck_assert_int_eq(r.timestamp, with_ts ? recs[i].ts : -1);
		ck_assert_int_eq(r.header_count, 0);
		i++;
	}
	ck_assert_int_eq(i, n);
	kp_wbuf_free(&scratch);
}

START_TEST(xxh32_known_vectors)
{
	uint8_t seq[64];

	for (int i = 0; i < 64; i++)
		seq[i] = (uint8_t)i;
	ck_assert_uint_eq(kp_xxh32("", 0, 0), 0x02cc5d05u);
	ck_assert_uint_eq(kp_xxh32("a", 1, 0), 0x550d7456u);
	ck_assert_uint_eq(kp_xxh32("abc", 3, 0), 0x32d153ffu);
	ck_assert_uint_eq(kp_xxh32("Nobody inspects the spammish repetition", 39, 0),
			  0xe2293b2fu);
	ck_assert_uint_eq(kp_xxh32(seq, 64, 0), 0x31120435u);
}
END_TEST

/* An lz4 frame as kafka-python 2.0.2 writes it for magic 0 (broker 0.8-0.9
 * semantics): FLG 0x60, BD 0x40, the header checksum 0x1a computed over
 * the magic number too (the correct one would be 0x82). */
static const uint8_t old_kafka_lz4[] = {
	0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x1a, 0x26, 0x00, 0x00, 0x00, 0x6e,
	0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x06, 0x00, 0xcf, 0x6c, 0x65, 0x67,
	0x61, 0x63, 0x79, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x1f, 0x00, 0x00,
	0x02, 0x31, 0x00, 0x0f, 0x25, 0x00, 0x1a, 0x50, 0x61, 0x66, 0x6b, 0x61,
	0x20, 0x00, 0x00, 0x00, 0x00,
};

START_TEST(lz4_magic0_frames_have_kafka_08s_header_checksum)
{
	static const char text[] = "hello hello hello hello legacy kafka ";
	struct kp_wbuf f, d;
	char want[3 * sizeof(text)];

	snprintf(want, sizeof(want), "%s%s%s", text, text, text);
	kp_wbuf_init(&f);
	kp_wbuf_init(&d);
	/* a real client's frame: refused by a strict reader, read as magic 0 */
	ck_assert_int_eq(kp_decompress(KP_CODEC_LZ4, old_kafka_lz4,
				       sizeof(old_kafka_lz4), 1 << 20, &d), -1);
	ck_assert_int_eq(kp_decompress_legacy(KP_CODEC_LZ4, 0, old_kafka_lz4,
					      sizeof(old_kafka_lz4), 1 << 20, &d), 0);
	ck_assert_uint_eq(d.len, strlen(want));
	ck_assert_mem_eq(d.data, want, d.len);
	/* ours for magic 0: the same checksum rule; magic 1: standard */
	ck_assert_int_eq(kp_compress_legacy(KP_CODEC_LZ4, 0, want, strlen(want), &f), 0);
	ck_assert_uint_eq(f.data[6], (kp_xxh32(f.data, 6, 0) >> 8) & 0xff);
	ck_assert_uint_ne(f.data[6], (kp_xxh32(f.data + 4, 2, 0) >> 8) & 0xff);
	kp_wbuf_reset(&d);
	ck_assert_int_eq(kp_decompress(KP_CODEC_LZ4, f.data, f.len, 1 << 20, &d), -1);
	ck_assert_int_eq(kp_decompress_legacy(KP_CODEC_LZ4, 0, f.data, f.len, 1 << 20, &d), 0);
	ck_assert_mem_eq(d.data, want, strlen(want));
	kp_wbuf_reset(&f);
	kp_wbuf_reset(&d);
	ck_assert_int_eq(kp_compress_legacy(KP_CODEC_LZ4, 1, want, strlen(want), &f), 0);
	ck_assert_int_eq(kp_decompress(KP_CODEC_LZ4, f.data, f.len, 1 << 20, &d), 0);
	/* a frame cut inside its header, or not lz4 at all */
	kp_wbuf_reset(&d);
	for (size_t n = 0; n < 8; n++)
		ck_assert_int_eq(kp_decompress_legacy(KP_CODEC_LZ4, 0, old_kafka_lz4, n,
						      1 << 20, &d), -1);
	ck_assert_int_eq(kp_decompress_legacy(KP_CODEC_LZ4, 0, "not an lz4 frame", 16,
					      1 << 20, &d), -1);
	kp_wbuf_free(&f);
	kp_wbuf_free(&d);
}
END_TEST

START_TEST(legacy_sets_convert_to_one_v2_batch_with_every_codec)
{
	for (size_t c = 0; c < NCODECS; c++)
		for (int8_t magic = 0; magic <= 1; magic++) {
			struct kp_wbuf set, out;
			int32_t n;

			kp_wbuf_init(&set);
			kp_wbuf_init(&out);
			/* offsets as clients send them: anything, the leader
			 * assigns; a magic 1 wrapper at 0 (librdkafka) or at
			 * the last inner offset (Kafka's own clients) */
			legacy_set(&set, magic, legacy_codecs[c], NRECS, 0,
				   c % 2 ? 0 : -1);
			kp_write_raw(&out, "prefix", 6);
			ck_assert_int_eq(to_v2(&set, &lenient, &out, &n), 0);
			ck_assert_int_eq(n, NRECS);
			ck_assert_mem_eq(out.data, "prefix", 6);
			memmove(out.data, out.data + 6, out.len - 6);
			out.len -= 6;
			check_v2(&out, legacy_codecs[c], NRECS, magic == 1);
			kp_wbuf_free(&set);
			kp_wbuf_free(&out);
		}
}
END_TEST

/* The set's analysis, then the conversion: Kafka's error and out
 * untouched, or (want 0) a batch appended. */
static void expect_refused(const struct kp_wbuf *set, const struct kp_legacy_rules *ru,
			   int16_t want, const char *what)
{
	struct kp_wbuf out;
	int32_t n = -5;
	int16_t err;

	kp_wbuf_init(&out);
	kp_write_raw(&out, "keep", 4);
	err = to_v2(set, ru, &out, &n);
	ck_assert_msg(err == want, "%s: error %d, want %d", what, err, want);
	if (want == 0)
		ck_assert_msg(out.len > 4 + KP_BATCH_HEADER_SIZE && n > 0, "%s: no batch", what);
	else
		ck_assert_msg(out.len == 4 && n == 0, "%s: output left behind", what);
	kp_wbuf_free(&out);
}

START_TEST(produce_validation_gives_kafkas_error_codes)
{
	struct kp_wbuf s, inner, z;
	struct kp_legacy_rules ru = lenient;
	struct kp_set_info si;

#define CASE(build, rules, code, what) do {			\
		kp_wbuf_reset(&s);				\
		build;						\
		expect_refused(&s, rules, code, what);		\
	} while (0)
#define WRAP(magic, codec, off, ts, attr, body) do {		\
		kp_wbuf_reset(&inner);				\
		kp_wbuf_reset(&z);				\
		body;						\
		ck_assert_int_eq(kp_compress_legacy(codec, magic, inner.data, \
						    inner.len, &z), 0); \
		msg(&s, off, magic, (int8_t)((codec) | (attr)), ts, \
		    KP_BYTES_NULL, (kp_bytes){ z.data, (int32_t)z.len }, 0); \
	} while (0)

	kp_wbuf_init(&s);
	kp_wbuf_init(&inner);
	kp_wbuf_init(&z);

	/* the first pass: framing, sizes, CRCs, codecs */
	CASE(msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 1), &lenient,
	     KP_ERR_CORRUPT_MESSAGE, "bad crc");
	CASE((kp_write_i64(&s, 0), kp_write_i32(&s, 13), kp_write_raw(&s, "0123456789abc", 13)),
	     &lenient, KP_ERR_CORRUPT_MESSAGE, "size below 14");
	CASE((msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 0), s.data[16] = 3), &lenient,
	     KP_ERR_CORRUPT_MESSAGE, "magic 3");
	CASE((msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 0),
	      msg(&s, 1, 1, 0, NOW, B("k"), B("v"), 7)), &lenient,
	     KP_ERR_CORRUPT_MESSAGE, "second message's crc");
	CASE(msg(&s, 0, 1, 5, NOW, B("k"), B("v"), 0), &lenient,
	     KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "codec 5");
	kp_wbuf_reset(&s);
	msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 0);
	ck_assert_int_eq(kp_message_set_analyze(s.data, s.len, (int64_t)s.len - 1, &si),
			 KP_ERR_MESSAGE_TOO_LARGE);
	ck_assert_int_eq(kp_message_set_analyze(s.data, s.len, (int64_t)s.len, &si), 0);
	/* a partial message at the end is dropped, as Kafka's iterator does;
	 * 12 bytes of a header are enough to check the size, 17 the magic */
	kp_write_raw(&s, s.data, 20);
	ck_assert_int_eq(kp_message_set_analyze(s.data, s.len, 1 << 20, &si), 0);
	ck_assert(si.entries == 1 && si.valid == s.len - 20 && si.magic == 1);
	ck_assert_int_eq(kp_message_set_analyze(s.data, 11, 1 << 20, &si), 0);
	ck_assert(si.entries == 0 && si.valid == 0 && si.magic == -1);

	/* LogValidator */
	CASE((msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 0),
	      msg(&s, 1, 0, 0, -1, B("k"), B("v"), 0)), &lenient,
	     KP_ERR_INVALID_RECORD, "magic differs from the first");
	CASE({ msg(&s, 0, 1, 0, NOW, B("k"), B("v"), 0);
	       WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0)); },
	     &lenient, KP_ERR_INVALID_RECORD, "a wrapper and another message");
	CASE({ WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0));
	       WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0)); },
	     &lenient, KP_ERR_INVALID_RECORD, "two wrappers");
	CASE(msg(&s, 0, 1, 0x08, NOW, B("k"), B("v"), 0), &lenient,
	     KP_ERR_INVALID_TIMESTAMP, "LogAppendTime from a producer");
	CASE(WRAP(1, KP_CODEC_SNAPPY, 0, NOW, 0x08, msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0)),
	     &lenient, KP_ERR_INVALID_TIMESTAMP, "LogAppendTime wrapper");
	ru.timestamp_diff_max_ms = 1000;
	CASE(msg(&s, 0, 1, 0, NOW + 1001, B("k"), B("v"), 0), &ru,
	     KP_ERR_INVALID_TIMESTAMP, "timestamp ahead");
	CASE(WRAP(1, KP_CODEC_LZ4, 1, NOW, 0,
		  (msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0),
		   msg(&inner, 1, 1, 0, NOW - 1001, B("a"), B("b"), 0))), &ru,
	     KP_ERR_INVALID_TIMESTAMP, "an inner timestamp behind");
	CASE(WRAP(1, KP_CODEC_LZ4, 1, NOW, 0,
		  (msg(&inner, 0, 0, 0, -1, B("a"), B("b"), 0),
		   msg(&inner, 1, 1, 0, NOW - 1001, B("a"), B("b"), 0))), &ru,
	     KP_ERR_INVALID_TIMESTAMP, "collected: the timestamp error wins");
	kp_wbuf_reset(&s);
	msg(&s, 0, 1, 0, NOW + 1000, B("k"), B("v"), 0);
	msg(&s, 1, 1, 0, -1, B("k"), B("v"), 0);
	expect_refused(&s, &ru, 0, "within the limit, or no timestamp");
	ru.log_append_time = true;
	kp_wbuf_reset(&s);
	msg(&s, 0, 1, 0, NOW + 5000, B("k"), B("v"), 0);
	expect_refused(&s, &ru, 0, "LogAppendTime topics take any timestamp");
	ru = lenient;
	ru.compacted = true;
	CASE((msg(&s, 0, 0, 0, -1, B("k"), B("v"), 0), msg(&s, 1, 0, 0, -1, KP_BYTES_NULL, B("v"), 0)),
	     &ru, KP_ERR_INVALID_RECORD, "compacted topic, no key");
	CASE(WRAP(0, KP_CODEC_GZIP, 0, -1, 0, msg(&inner, 0, 0, 0, -1, KP_BYTES_NULL, B("v"), 0)),
	     &ru, KP_ERR_INVALID_RECORD, "compacted topic, inner message without key");
	CASE(msg(&s, 0, 1, KP_CODEC_GZIP, NOW, KP_BYTES_NULL, KP_BYTES_NULL, 0), &lenient,
	     KP_ERR_INVALID_RECORD, "wrapper without a value");
	CASE(WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, (void)0), &lenient,
	     KP_ERR_INVALID_RECORD, "wrapper without messages");
	CASE(WRAP(1, KP_CODEC_GZIP, 0, NOW, 0,
		  msg(&inner, 0, 1, KP_CODEC_GZIP, NOW, B("a"), B("b"), 0)),
	     &lenient, KP_ERR_INVALID_RECORD, "nested compression");
	CASE(WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, msg(&inner, 0, 0, 0, -1, B("a"), B("b"), 0)),
	     &lenient, KP_ERR_INVALID_RECORD, "inner magic differs");
	CASE(WRAP(1, KP_CODEC_GZIP, 0, NOW, 0, msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 3)),
	     &lenient, KP_ERR_CORRUPT_MESSAGE, "inner crc");
	CASE(WRAP(1, KP_CODEC_GZIP, 0, NOW, 0,
		  (kp_write_i64(&inner, 0), kp_write_i32(&inner, 5), kp_write_raw(&inner, "01234", 5))),
	     &lenient, KP_ERR_CORRUPT_MESSAGE, "inner size below 14");
	CASE(WRAP(1, KP_CODEC_GZIP, 1, NOW, 0,
		  (msg(&inner, 0, 1, 0, NOW, B("a"), B("b"), 0),
		   msg(&inner, 2, 1, 0, NOW, B("a"), B("b"), 0))),
	     &lenient, KP_ERR_INVALID_RECORD, "wrapper offset below the last inner one");
	CASE(msg(&s, 0, 1, KP_CODEC_ZSTD, NOW, KP_BYTES_NULL, B("zstd?"), 0), &lenient,
	     KP_ERR_INVALID_RECORD, "zstd wrapper");
	CASE(msg(&s, 0, 1, KP_CODEC_GZIP, NOW, KP_BYTES_NULL, B("not gzip"), 0), &lenient,
	     KP_ERR_CORRUPT_MESSAGE, "undecodable wrapper");
	CASE(msg(&s, 0, 0, KP_CODEC_LZ4, NOW, KP_BYTES_NULL, B("not lz4 at all"), 0), &lenient,
	     KP_ERR_CORRUPT_MESSAGE, "undecodable lz4");
	/* a key length past the message, with a good CRC */
	kp_wbuf_reset(&s);
	msg(&s, 0, 0, 0, -1, B("k"), B("v"), 0);
	kp_put_be32(s.data + 18, 1000);
	kp_put_be32(s.data + 12, (uint32_t)crc32(0L, s.data + 16, (uInt)(s.len - 16)));
	expect_refused(&s, &lenient, KP_ERR_CORRUPT_MESSAGE, "key length past the end");
	kp_wbuf_free(&s);
	kp_wbuf_free(&inner);
	kp_wbuf_free(&z);
#undef CASE
#undef WRAP
}
END_TEST

/* Walk a down-converted set with the legacy iterator (wrappers opened),
 * checking recs[from..n) came out as magic `magic`. */
static void check_legacy(const struct kp_wbuf *set, int8_t magic, int32_t from,
			 int32_t n, int64_t base, bool lat, int64_t lat_ts)
{
	struct kp_wbuf scratch;
	struct kp_legacy_iter it;
	struct kp_legacy_msg m;
	int32_t i = from;

	kp_wbuf_init(&scratch);
	kp_legacy_iter_init(&it, set->data, set->len, &scratch, MAXD);
	while (kp_legacy_iter_next(&it, &m) == 1) {
		ck_assert_int_eq(m.magic, magic);
		ck_assert_int_eq(m.offset, base + i);
		ck_assert(bytes_eq(m.key, B(recs[i].key)));
		ck_assert(bytes_eq(m.value, B(recs[i].value)));
		if (magic == 0) {
			ck_assert_int_eq(m.timestamp, -1);
			ck_assert_int_eq(m.attributes, 0);
		} else {
			ck_assert_int_eq(m.timestamp, lat ? lat_ts : recs[i].ts);
			ck_assert_int_eq(m.attributes, lat ? 0x08 : 0);
		}
		i++;
	}
	ck_assert_int_eq(i, n);
	kp_wbuf_free(&scratch);
}

/* A v2 batch of recs at base, with a header on every record. */
static void v2_batch(struct kp_wbuf *b, enum kp_codec codec, int64_t base,
		     bool lat, bool control)
{
	struct kp_record_in in[NRECS];
	struct kp_record_header h[2] = {
		{ { "trace", 5 }, { (const uint8_t *)"abc", 3 } },
		{ { "null", 4 }, KP_BYTES_NULL },
	};
	struct kp_batch_params p;

	for (int32_t i = 0; i < NRECS; i++)
		in[i] = (struct kp_record_in){ B(recs[i].key), B(recs[i].value),
					       recs[i].ts, h, 2 };
	kp_batch_params_init(&p);
	p.codec = codec;
	p.base_offset = base;
	p.leader_epoch = 3;
	p.control = control;
	ck_assert_int_eq(kp_batch_build(b, &p, in, NRECS), 0);
	if (lat)
		kp_batch_set_max_timestamp(b->data, b->len, NOW + 99, true);
}

START_TEST(v2_batches_down_convert_to_magic_0_and_1)
{
	for (size_t c = 0; c < NCODECS; c++)
		for (int8_t magic = 0; magic <= 1; magic++)
			for (int lat = 0; lat <= 1; lat++) {
				enum kp_codec codec = legacy_codecs[c];
				struct kp_wbuf b, out, scratch, raw;
				int32_t from = codec == KP_CODEC_NONE ? 2 : 0;

				kp_wbuf_init(&b);
				kp_wbuf_init(&out);
				kp_wbuf_init(&scratch);
				kp_wbuf_init(&raw);
				v2_batch(&b, codec, 1000, lat, false);
				kp_write_raw(&out, "x", 1);
				/* fetching from the middle of the batch: an
				 * uncompressed one loses the records before */
				ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, magic, 1002,
								       &scratch, &raw, MAXD, &out),
						 NRECS - from);
				memmove(out.data, out.data + 1, out.len - 1);
				out.len--;
				check_legacy(&out, magic, from, NRECS, 1000, lat && magic == 1,
					     NOW + 99);
				if (codec != KP_CODEC_NONE) {
					/* one wrapper: the last offset, the codec, no
					 * key; magic 1: the largest (or append) time */
					ck_assert_int_eq((int64_t)kp_be64(out.data), 1000 + NRECS - 1);
					ck_assert_int_eq(out.data[17] & 7, codec);
					ck_assert_uint_eq(kp_message_set_prefix(out.data, out.len,
										out.len), out.len);
					if (magic == 1)
						ck_assert_int_eq((int64_t)kp_be64(out.data + 18),
								 lat ? NOW + 99 : NOW + 6);
					/* inner offsets: relative (magic 1) or not */
					{
						size_t v = 18 + (magic ? 8 : 0);
						struct kp_wbuf in;

						kp_wbuf_init(&in);
						ck_assert_int_eq((int32_t)kp_be32(out.data + v), -1);
						ck_assert_int_eq(kp_decompress_legacy(codec, magic,
							out.data + v + 8, kp_be32(out.data + v + 4),
							MAXD, &in), 0);
						ck_assert_int_eq((int64_t)kp_be64(in.data),
								 magic ? 0 : 1000);
						kp_wbuf_free(&in);
					}
				}
				/* and back to v2: the same records (from on) */
				if (codec != KP_CODEC_NONE || from == 0) {
					struct kp_wbuf v2;
					int32_t n;

					kp_wbuf_init(&v2);
					if (!lat) {
						ck_assert_int_eq(to_v2(&out, &lenient, &v2, &n), 0);
						check_v2(&v2, codec, NRECS, magic == 1);
					}
					kp_wbuf_free(&v2);
				}
				kp_wbuf_free(&b);
				kp_wbuf_free(&out);
				kp_wbuf_free(&scratch);
				kp_wbuf_free(&raw);
			}
}
END_TEST

START_TEST(down_conversion_drops_control_and_refuses_zstd)
{
	struct kp_wbuf b, out, scratch, raw;

	kp_wbuf_init(&b);
	kp_wbuf_init(&out);
	kp_wbuf_init(&scratch);
	kp_wbuf_init(&raw);
	v2_batch(&b, KP_CODEC_NONE, 0, false, true);
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, 1, 0, &scratch, &raw,
					       MAXD, &out), 0);
	ck_assert_uint_eq(out.len, 0);
	kp_wbuf_reset(&b);
	v2_batch(&b, KP_CODEC_ZSTD, 0, false, false);
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, 1, 0, &scratch, &raw,
					       MAXD, &out), KP_DOWNCONV_ZSTD);
	ck_assert_uint_eq(out.len, 0);
	/* everything before the fetch offset: nothing */
	kp_wbuf_reset(&b);
	v2_batch(&b, KP_CODEC_NONE, 0, false, false);
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, 0, NRECS, &scratch, &raw,
					       MAXD, &out), 0);
	/* no such magic, a length that lies, a cut batch */
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, 2, 0, &scratch, &raw,
					       MAXD, &out), -1);
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len - 1, 1, 0, &scratch, &raw,
					       MAXD, &out), -1);
	kp_put_be32(b.data + KP_BATCH_OFF_RECORD_COUNT, NRECS + 1);
	ck_assert_int_eq(kp_batch_down_convert(b.data, b.len, 1, 0, &scratch, &raw,
					       MAXD, &out), -1);
	ck_assert_uint_eq(out.len, 0);
	kp_wbuf_free(&b);
	kp_wbuf_free(&out);
	kp_wbuf_free(&scratch);
	kp_wbuf_free(&raw);
}
END_TEST

START_TEST(message_set_prefix_keeps_whole_entries)
{
	struct kp_wbuf s;
	size_t one;

	kp_wbuf_init(&s);
	msg(&s, 0, 1, 0, NOW, B("k"), B("value"), 0);
	one = s.len;
	msg(&s, 1, 1, 0, NOW, B("k"), B("value"), 0);
	msg(&s, 2, 1, 0, NOW, B("k"), B("value"), 0);
	ck_assert_uint_eq(kp_message_set_prefix(s.data, s.len, s.len), s.len);
	ck_assert_uint_eq(kp_message_set_prefix(s.data, s.len, 1 << 20), s.len);
	ck_assert_uint_eq(kp_message_set_prefix(s.data, s.len, 2 * one + 5), 2 * one);
	ck_assert_uint_eq(kp_message_set_prefix(s.data, s.len, one - 1), 0);
	ck_assert_uint_eq(kp_message_set_prefix(s.data, s.len - 1, s.len), 2 * one);
	ck_assert_uint_eq(kp_message_set_prefix(NULL, 0, 100), 0);
	kp_wbuf_free(&s);
}
END_TEST

START_TEST(message_format_versions_as_kafka_accepts_them)
{
	static const struct {
		const char *v;
		int magic;
	} cases[] = {
		{ "0.8.0", 0 }, { "0.8.2.2", 0 }, { "0.9.0", 0 }, { "0.9.0.1", 0 },
		{ "0.10.0", 1 }, { "0.10.0-IV0", 1 }, { "0.10.0-IV1", 1 },
		{ "0.10.1-IV2", 1 }, { "0.10.2", 1 }, { "0.10.2.2", 1 },
		{ "0.11.0", 2 }, { "0.11.0-IV2", 2 }, { "1.0", 2 }, { "1.1.1", 2 },
		{ "2.1-IV2", 2 }, { "2.8", 2 }, { "2.8-IV1", 2 }, { "2.8.2", 2 },
		{ "", -1 }, { "2", -1 }, { "3.0", -1 }, { "2.8-IV2", -1 },
		{ "0.10.0-IV2", -1 }, { "0.9.0-IV0", -1 }, { "0.10", -1 },
		{ "2.9", -1 }, { "x.y", -1 }, { "0.8.3", -1 }, { "1.0-IV", -1 },
		{ "2.8-IV10", -1 },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(kp_message_format_magic(cases[i].v) == cases[i].magic,
			      "%s: %d", cases[i].v, kp_message_format_magic(cases[i].v));
	/* the AlterIsr switch: a short form is its series' latest version */
	ck_assert_int_eq(kp_api_version_at_least("2.8-IV1", "2.7-IV2"), 1);
	ck_assert_int_eq(kp_api_version_at_least("2.8.2", "2.7-IV2"), 1);
	ck_assert_int_eq(kp_api_version_at_least("2.7", "2.7-IV2"), 1);
	ck_assert_int_eq(kp_api_version_at_least("2.7.1", "2.7-IV2"), 1);
	ck_assert_int_eq(kp_api_version_at_least("2.7-IV2", "2.7-IV2"), 1);
	ck_assert_int_eq(kp_api_version_at_least("2.7-IV1", "2.7-IV2"), 0);
	ck_assert_int_eq(kp_api_version_at_least("2.6", "2.7-IV2"), 0);
	ck_assert_int_eq(kp_api_version_at_least("0.10.2", "2.7-IV2"), 0);
	ck_assert_int_eq(kp_api_version_at_least("3.0", "2.7-IV2"), -1);
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "0.10.2",
						  err, sizeof(err)), 0);
	ck_assert_int_eq(kp_topic_config_validate("message.format.version", "3.0",
						  err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid value 3.0 for configuration message.format.version: "
			 "Version `3.0` is not a valid version");
	ck_assert_int_eq(kp_topic_config_validate("message.downconversion.enable", "false",
						  err, sizeof(err)), 0);
	ck_assert_str_eq(kp_topic_config_find("message.downconversion.enable")->broker_key,
			 "log.message.downconversion.enable");
}
END_TEST

/* Mutated sets: whatever the bytes, no crash, and success means a valid
 * v2 batch. */
START_TEST(mutated_legacy_sets_never_crash)
{
	struct kp_wbuf base, s, out, scratch, raw;
	struct kp_legacy_rules ru = lenient;
	int ok = 0, refused = 0;

	kp_wbuf_init(&base);
	kp_wbuf_init(&s);
	kp_wbuf_init(&out);
	kp_wbuf_init(&scratch);
	kp_wbuf_init(&raw);
	ru.compacted = false;
	for (int round = 0; round < 4000; round++) {
		enum kp_codec codec = legacy_codecs[round % NCODECS];
		int8_t magic = (int8_t)(round / NCODECS % 2);
		struct kp_set_info si;
		int32_t n;
		int16_t err;
		size_t len;

		kp_wbuf_reset(&base);
		legacy_set(&base, magic, codec, 1 + (int32_t)(rnd() % NRECS), 0, -1);
		kp_wbuf_reset(&s);
		kp_write_raw(&s, base.data, base.len);
		len = s.len;
		switch (rnd() % 4) {
		case 0:		/* flipped bytes, CRCs left as they are */
			for (int k = 0; k < 1 + (int)(rnd() % 4); k++)
				s.data[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
			break;
		case 1:		/* cut anywhere */
			len = rnd() % len;
			break;
		case 2:		/* flipped, then every CRC made right again */
			for (int k = 0; k < 1 + (int)(rnd() % 3); k++)
				s.data[12 + rnd() % (len - 12)] ^= (uint8_t)(1 + rnd() % 255);
			for (size_t pos = 0; len - pos >= 26; ) {
				int32_t sz = (int32_t)kp_be32(s.data + pos + 8);

				if (sz < 14 || (size_t)sz > len - pos - 12)
					break;
				kp_put_be32(s.data + pos + 12,
					    (uint32_t)crc32(0L, s.data + pos + 16,
							    (uInt)(sz - 4)));
				pos += 12 + (size_t)sz;
			}
			break;
		default:	/* random bytes after a real header */
			for (size_t k = 17; k < len; k++)
				s.data[k] = (uint8_t)rnd();
			break;
		}
		kp_wbuf_reset(&out);
		err = kp_message_set_analyze(s.data, len, 1 << 30, &si);
		if (err == 0 && si.entries > 0 && si.magic < 2)
			err = kp_legacy_to_v2(s.data, &si, &ru, &scratch, &raw, MAXD, &out, &n);
		else if (err == 0)
			err = -1;
		if (err == 0) {
			struct kp_batch_info info;

			ck_assert_int_eq(kp_batch_validate(out.data, out.len, &scratch, MAXD,
							   &info), 0);
			ck_assert_int_eq(info.records, n);
			ok++;
		} else {
			ck_assert_uint_eq(out.len, 0);
			refused++;
		}
	}
	fprintf(stderr, "mutated legacy sets: %d converted, %d refused\n", ok, refused);
	ck_assert(ok > 0 && refused > 0);
	kp_wbuf_free(&base);
	kp_wbuf_free(&s);
	kp_wbuf_free(&out);
	kp_wbuf_free(&scratch);
	kp_wbuf_free(&raw);
}
END_TEST

/* Mutated v2 batches (CRC not checked: a log's bytes) down-convert or fail,
 * never crash, and what they write parses. */
START_TEST(mutated_v2_batches_never_crash_down_conversion)
{
	struct kp_wbuf b, out, scratch, raw;

	kp_wbuf_init(&b);
	kp_wbuf_init(&out);
	kp_wbuf_init(&scratch);
	kp_wbuf_init(&raw);
	for (int round = 0; round < 3000; round++) {
		enum kp_codec codec = legacy_codecs[round % NCODECS];
		size_t len;
		int rc;

		kp_wbuf_reset(&b);
		v2_batch(&b, codec, (int64_t)(rnd() % 1000), round % 3 == 0, false);
		len = b.len;
		for (int k = 0; k < 1 + (int)(rnd() % 3); k++)
			b.data[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
		if (rnd() % 4 == 0)
			len = rnd() % len;
		kp_wbuf_reset(&out);
		rc = kp_batch_down_convert(b.data, len, (int8_t)(round % 2), 0, &scratch,
					   &raw, MAXD, &out);
		if (rc > 0)
			ck_assert_uint_eq(kp_message_set_prefix(out.data, out.len, out.len),
					  out.len);
		else
			ck_assert_uint_eq(out.len, 0);
	}
	kp_wbuf_free(&b);
	kp_wbuf_free(&out);
	kp_wbuf_free(&scratch);
	kp_wbuf_free(&raw);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("legacy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, xxh32_known_vectors);
	tcase_add_test(tc, lz4_magic0_frames_have_kafka_08s_header_checksum);
	tcase_add_test(tc, legacy_sets_convert_to_one_v2_batch_with_every_codec);
	tcase_add_test(tc, produce_validation_gives_kafkas_error_codes);
	tcase_add_test(tc, v2_batches_down_convert_to_magic_0_and_1);
	tcase_add_test(tc, down_conversion_drops_control_and_refuses_zstd);
	tcase_add_test(tc, message_set_prefix_keeps_whole_entries);
	tcase_add_test(tc, message_format_versions_as_kafka_accepts_them);
	tcase_add_test(tc, mutated_legacy_sets_never_crash);
	tcase_add_test(tc, mutated_v2_batches_never_crash_down_conversion);
	suite_add_tcase(s, tc);
	return check_run(s);
}
