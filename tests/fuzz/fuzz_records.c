/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_records.c - libFuzzer target for the record data a producer (or a
 * leader, to a follower) sends: the paths the Produce handler and the
 * replica fetcher take over untrusted bytes.
 *
 * The input's first byte holds flags, the rest is record data.  Flag 1
 * makes the CRC of every v2 batch right, flag 2 the CRC-32 of every
 * top-level magic 0/1 message (so the fuzzer gets past the checksums and
 * into the records and the codecs).  Then:
 *
 *   - as Produce v3+: kp_batch_validate, whose answer on an uncompressed
 *     batch with a sound header must be the record iterator's (the fast
 *     walk agrees with the general one); a valid batch must iterate to
 *     exactly its record count with well-formed headers, filter (every
 *     other record) into a batch with a good CRC, down-convert to magic 0
 *     and 1 into a set kp_message_set_analyze accepts, and append on a
 *     leader's log;
 *   - as Produce v0-2: kp_message_set_analyze, then for magic 0/1 sets
 *     kp_legacy_to_v2, whose batch must pass kp_batch_validate, and the
 *     legacy iterator over the whole set;
 *   - as a follower's fetch answer: log_append_follower on another log.
 *
 * Each input gets fresh logs in a temporary directory, removed after.
 * With FUZZ_RECORDS_SEEDS=<dir> in the environment, the target first
 * writes seeds there: batches of every codec, with and without producer
 * ids and headers, and their magic 0/1 forms.
 */
#include "config.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "kp_buf.h"
#include "kp_crc32c.h"
#include "kp_log.h"
#include "kp_records.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_INFLATE (1u << 20)

static struct kp_wbuf scratch, raw, out, conv;

static void write_seed(const char *dir, const char *name, uint8_t flags,
		       const uint8_t *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fputc(flags, f);
	fwrite(p, 1, len, f);
	fclose(f);
}

static void seeds(const char *dir)
{
	static const enum kp_codec codecs[] = { KP_CODEC_NONE, KP_CODEC_GZIP,
		KP_CODEC_SNAPPY, KP_CODEC_LZ4, KP_CODEC_ZSTD };
	struct kp_record_header hd = { .key = { .ptr = "h", .len = 1 },
				       .value = { .ptr = (const uint8_t *)"v", .len = 1 } };

	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++)
		for (int pid = 0; pid < 2; pid++) {
			struct kp_batch_params bp;
			struct kp_record_in recs[3];
			struct kp_wbuf b, legacy;
			char name[64];

			kp_batch_params_init(&bp);
			bp.codec = codecs[c];
			if (pid) {
				bp.producer_id = 7;
				bp.producer_epoch = 0;
				bp.base_sequence = 0;
			}
			for (int i = 0; i < 3; i++)
				recs[i] = (struct kp_record_in){
					.key = { .ptr = (const uint8_t *)"key", .len = i == 1 ? -1 : 3 },
					.value = { .ptr = (const uint8_t *)"value", .len = 5 },
					.timestamp = 1600000000000 + i,
					.headers = i == 2 ? &hd : NULL,
					.nheaders = i == 2 ? 1 : 0,
				};
			kp_wbuf_init(&b);
			if (kp_batch_build(&b, &bp, recs, 3) != 0 || b.err) {
				kp_wbuf_free(&b);
				continue;
			}
			snprintf(name, sizeof(name), "v2-codec%d-pid%d", (int)codecs[c], pid);
			write_seed(dir, name, 3, b.data, b.len);
			for (int8_t m = 0; m <= 1 && !pid; m++) {
				kp_wbuf_init(&legacy);
				if (kp_batch_down_convert(b.data, b.len, m, 0, &scratch, &raw,
							  MAX_INFLATE, &legacy) > 0) {
					snprintf(name, sizeof(name), "magic%d-codec%d", m,
						 (int)codecs[c]);
					write_seed(dir, name, 3, legacy.data, legacy.len);
				}
				kp_wbuf_free(&legacy);
			}
			kp_wbuf_free(&b);
		}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_RECORDS_SEEDS");

	(void)argc;
	(void)argv;
	kp_log_set_level(KP_LOG_ERROR);
	kp_wbuf_init(&scratch);
	kp_wbuf_init(&raw);
	kp_wbuf_init(&out);
	kp_wbuf_init(&conv);
	if (dir != NULL)
		seeds(dir);
	return 0;
}

/* Make the checksums right (flags 1: v2 batches, 2: magic 0/1 messages). */
static void fix_crcs(uint8_t *p, size_t len, uint8_t flags)
{
	size_t off = 0;

	while (len - off >= 17) {
		size_t size = 12 + (size_t)kp_be32(p + off + 8);
		uint8_t magic = p[off + 16];

		if ((int32_t)kp_be32(p + off + 8) < 0 || size > len - off)
			break;
		if (magic == 2 && (flags & 1) && size >= 61)
			kp_put_be32(p + off + KP_BATCH_OFF_CRC,
				    kp_crc32c(0, p + off + KP_BATCH_OFF_ATTRIBUTES,
					      size - KP_BATCH_OFF_ATTRIBUTES));
		else if (magic < 2 && (flags & 2) && size >= 12 + 4 + 2)
			kp_put_be32(p + off + 12,
				    (uint32_t)crc32(0L, p + off + 16, (uInt)(size - 16)));
		off += size;
	}
}

static bool keep_odd(const struct kp_record *rec, void *arg)
{
	(void)arg;
	return rec->offset & 1;
}

/*
 * The general walk's verdict on an uncompressed batch whose header passed
 * every batch-level check: 0, CORRUPT_MESSAGE (2) or INVALID_RECORD (87)
 * as kp_batch_validate() gave it through the iterator; -1 when the batch
 * is compressed or a batch-level check fails (nothing to compare).
 */
static int iterator_verdict(const uint8_t *data, size_t len)
{
	struct kp_batch_header h;
	struct kp_record_iter it;
	struct kp_record rec;
	size_t size;
	int32_t i = 0;
	int rc;

	if (kp_batch_size(data, len, &size) != KP_BATCH_OK || size != len ||
	    kp_batch_header_parse(data, len, &h) != KP_BATCH_OK ||
	    kp_batch_verify_crc(data, len) != KP_BATCH_OK ||
	    (h.attributes & KP_ATTR_CODEC_MASK) != KP_CODEC_NONE ||
	    h.record_count <= 0 || (int64_t)h.last_offset_delta + 1 != h.record_count ||
	    (h.attributes & KP_ATTR_CONTROL) ||
	    (h.producer_id >= 0 && h.base_sequence < 0) ||
	    kp_record_iter_init(&it, data, len, NULL, 0) != KP_BATCH_OK)
		return -1;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
		if ((int64_t)((uint64_t)rec.offset - (uint64_t)h.base_offset) != i)
			return 87;
		i++;
	}
	return rc == 0 ? 0 : 2;
}

static void as_v2_batch(uint8_t *data, size_t len, struct log *leader)
{
	struct kp_batch_info info;
	struct kp_record_iter it;
	struct kp_record rec;
	struct kp_set_info si;
	struct log_append_info ai;
	int32_t n = 0;
	int rc, want = iterator_verdict(data, len);

	rc = kp_batch_validate(data, len, &scratch, MAX_INFLATE, &info);
	if (want >= 0 && rc != want)
		abort();	/* the fast walk and the iterator disagree */
	if (rc != 0)
		return;
	if (kp_record_iter_init(&it, data, len, &scratch, MAX_INFLATE) != 0)
		abort();	/* validated, yet not readable */
	while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
		struct kp_reader hr;
		struct kp_record_header h;

		kp_reader_init(&hr, rec.headers, rec.headers_len);
		for (int32_t i = 0; i < rec.header_count; i++)
			if (kp_record_header_next(&hr, &h) != 0)
				abort();
		n++;
	}
	if (rc != 0 || n != info.records)
		abort();
	kp_wbuf_reset(&out);
	rc = kp_batch_filter(data, len, &scratch, MAX_INFLATE, keep_odd, NULL, &out);
	if (rc > 0 && !out.err && kp_batch_verify_crc(out.data, out.len) != KP_BATCH_OK)
		abort();
	for (int8_t m = 0; m <= 1; m++) {
		kp_wbuf_reset(&out);
		rc = kp_batch_down_convert(data, len, m, info.h.base_offset, &scratch, &raw,
					   MAX_INFLATE, &out);
		if (rc > 0 && !out.err &&
		    kp_message_set_analyze(out.data, out.len, INT32_MAX, &si) != 0)
			abort();
	}
	kp_batch_set_max_timestamp(data, len, info.max_timestamp, false);
	(void)log_append_leader(leader, data, len, 1, -1, &ai);
}

static void as_legacy_set(const uint8_t *data, size_t len)
{
	struct kp_set_info si;
	struct kp_legacy_rules rules = { .now_ms = 1600000000000,
					 .timestamp_diff_max_ms = INT64_MAX };
	struct kp_legacy_iter it;
	struct kp_legacy_msg m;
	struct kp_batch_info info;
	int32_t records = 0;

	kp_legacy_iter_init(&it, data, len, &scratch, MAX_INFLATE);
	while (kp_legacy_iter_next(&it, &m) == 1)
		;
	if (kp_message_set_analyze(data, len, 1 << 20, &si) != 0 ||
	    (si.magic != 0 && si.magic != 1))
		return;
	kp_wbuf_reset(&conv);
	if (kp_legacy_to_v2(data, &si, &rules, &scratch, &raw, MAX_INFLATE, &conv,
			    &records) != 0 || conv.err)
		return;
	/* what the conversion made, the v3+ path must take */
	if (kp_batch_validate(conv.data, conv.len, &scratch, MAX_INFLATE, &info) != 0 ||
	    info.records != records)
		abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log_config cfg;
	struct log *leader, *follower;
	char dir[64], path[128];
	uint8_t *copy;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	copy = malloc(len + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, len);
	fix_crcs(copy, len, data[0]);
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_records.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	log_config_defaults(&cfg);
	cfg.compact_policy = data[0] & 4;
	snprintf(path, sizeof(path), "%s/l-0", dir);
	if (log_open(path, "l", 0, &cfg, -1, -1, false, &leader) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/f-0", dir);
	if (log_open(path, "f", 0, &cfg, -1, -1, false, &follower) != 0)
		abort();

	as_legacy_set(copy, len);
	{
		struct log_append_info fi;

		(void)log_append_follower(follower, copy, len, -1, &fi);
	}
	if (len >= 17 && copy[KP_BATCH_OFF_MAGIC] == 2) {
		size_t bsize;

		if (kp_batch_size(copy, len, &bsize) == KP_BATCH_OK && bsize == len)
			as_v2_batch(copy, len, leader);
	}

	log_close(leader, false);
	log_close(follower, false);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(copy);
	return 0;
}
