/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kdump-log - print and check a partition's files as they lie on disk:
 * segment logs (record batches, transaction markers), offset indexes, time
 * indexes, aborted transaction indexes (Kafka's .txnindex files, kp_txn.h)
 * and producer state snapshots (Kafka's .snapshot files, kp_pidsnap.h).  Our
 * counterpart of Kafka's kafka-dump-log.sh, printing the same lines so an
 * operator's habits and scripts carry over, plus a checker (--verify) that
 * holds each index to what kbroker/log_segment.c writes.
 *
 *   kdump-log [--files] FILE... [--print-data-log] [--deep-iteration]
 *             [--verify] [--json] [--max-bytes N]
 *
 * Files are read front to back through one buffer with pread, not mmap: a
 * live broker trims and truncates these files, and a mapping that loses
 * its pages kills the reader with SIGBUS.  The buffer grows to the largest
 * batch met, which can never be more than the file holds, and records are
 * read in place or from one reusable decompression buffer, so nothing is
 * allocated per record (except the JSON values --json prints).  Every
 * length is checked against the bytes present before it is used: these
 * files are exactly what we do not trust.
 *
 * stdout carries the dump (text, or one JSON document streamed a batch at
 * a time so a large segment never sits in memory); stderr carries every
 * problem as "kdump-log: FILE: position P: what is wrong" and a summary
 * line per file.  Exit status: 0 no problem, 1 problems found, 2 bad usage
 * or a file that cannot be read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kp_buf.h"
#include "kp_compress.h"
#include "kp_crc32c.h"
#include "kp_pidsnap.h"
#include "kp_records.h"
#include "kp_txn.h"
#include "tool.h"

/* Shared by every tool (tools/tool.h): scripts rely on them. */
#define EXIT_PROBLEMS TOOL_EXIT_FAIL
#define EXIT_USAGE TOOL_EXIT_USAGE

/* Entry sizes of the two index kinds (kbroker/log_index.h). */
#define OINDEX_ENTRY 8
#define TINDEX_ENTRY 12

/* Files are read sequentially in pieces of this size. */
#define CHUNK (1u << 20)
/*
 * What one compressed batch may inflate to: far above any batch a broker
 * accepts, low enough that a corrupt or hostile batch cannot make us
 * allocate without bound.
 */
#define MAX_DECOMPRESSED (256u << 20)
/*
 * kp_legacy_iter makes the inner offsets of a magic 1 wrapper absolute by
 * adding and subtracting them (wrapping); offsets beyond this bound could
 * wrap, and such a wrapper is reported rather than walked.
 */
#define LEGACY_OFFSET_LIMIT ((int64_t)1 << 61)
/* A legacy message after the offset and length: crc, magic, attributes,
 * (magic 1: timestamp), key length, value length. */
#define LEGACY_V0_MIN 14
#define LEGACY_V1_MIN 22

static struct {
	bool deep;		/* a line per record */
	bool data;		/* with its key and value */
	bool verify;
	bool json;
	int64_t max_bytes;	/* of each .log read */
} opt = { .max_bytes = INT64_MAX };

static struct kp_wbuf scratch;	/* one batch's decompressed records */
static char *esc_buf;		/* escaped bytes for JSON strings */
static size_t esc_cap;
static bool json_first_file = true;
static bool json_first_item;
static int64_t total_errors;

/* Offsets and timestamps read from a file may be anything: add them with
 * wrapping (checked by the verifier) instead of undefined behaviour. */
static int64_t wadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* ------------------------------------------------------------ reading */

/* A file read front to back through one buffer. */
struct src {
	int fd;
	int64_t size;		/* at open: later growth is not read */
	uint8_t *buf;
	size_t cap;
	size_t have;
	int64_t at;		/* file position of buf[0] */
	int err;		/* errno of a failed read; ENODATA: shrank */
};

static int src_open(struct src *s, const char *path)
{
	struct stat st;
	int e;

	memset(s, 0, sizeof(*s));
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (fstat(s->fd, &st) < 0) {
		e = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto fail;
	}
	s->size = st.st_size;
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return e;
}

static void src_close(struct src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/*
 * The n bytes at pos, valid until the next call; NULL when they are not
 * all in the file (err stays 0) or a read failed (err set).  Reads ahead
 * a chunk, so walking a file costs one pread per megabyte.
 */
static const uint8_t *src_get(struct src *s, int64_t pos, size_t n)
{
	size_t want, keep = 0;

	if (pos < 0 || pos > s->size || n == 0 ||
	    (uint64_t)n > (uint64_t)(s->size - pos))
		return NULL;
	if (pos >= s->at && (uint64_t)(pos - s->at) + n <= s->have)
		return s->buf + (pos - s->at);
	if (pos >= s->at && (uint64_t)(pos - s->at) < s->have) {
		keep = s->have - (size_t)(pos - s->at);
		memmove(s->buf, s->buf + (pos - s->at), keep);
	}
	s->at = pos;
	s->have = keep;
	want = n > CHUNK ? n : CHUNK;
	if ((uint64_t)want > (uint64_t)(s->size - pos))
		want = (size_t)(s->size - pos);
	if (want > s->cap) {
		uint8_t *nb = realloc(s->buf, want);

		if (nb == NULL) {
			s->err = ENOMEM;
			return NULL;
		}
		s->buf = nb;
		s->cap = want;
	}
	while (s->have < want) {
		ssize_t r = pread(s->fd, s->buf + s->have, want - s->have,
				  s->at + (int64_t)s->have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			s->err = r < 0 ? errno : ENODATA;
			s->have = 0;
			return NULL;
		}
		s->have += (size_t)r;
	}
	return s->buf;
}

/* ------------------------------------------------------------ output */

static bool plain(uint8_t c)
{
	/* the backslash too, so "\x41" in the output is always one byte */
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/* Bytes as printable ASCII with \xNN for the rest, straight to stdout. */
static void put_escaped(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && plain(p[j]))
			j++;
		fwrite(p + i, 1, j - i, stdout);
		if (j < n)
			printf("\\x%02x", p[j++]);
		i = j;
	}
}

/* The same escaping into esc_buf, as a JSON string. */
static json_t *json_escaped(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;

	if (n > (SIZE_MAX - 1) / 4)
		return json_string("");
	if (esc_cap < 4 * n + 1) {
		char *nb = realloc(esc_buf, 4 * n + 1);

		if (nb == NULL)
			return json_string("");
		esc_buf = nb;
		esc_cap = 4 * n + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (plain(p[i])) {
			esc_buf[len++] = (char)p[i];
			continue;
		}
		esc_buf[len++] = '\\';
		esc_buf[len++] = 'x';
		esc_buf[len++] = hex[p[i] >> 4];
		esc_buf[len++] = hex[p[i] & 15];
	}
	return json_stringn(esc_buf, len);
}

/* Text for JSON: as is when it is UTF-8 (file names), escaped if not. */
static json_t *json_text(const char *s)
{
	json_t *v = json_string(s);

	return v != NULL ? v : json_escaped((const uint8_t *)s, strlen(s));
}

static json_t *json_bytes(kp_bytes b)
{
	return b.len < 0 ? json_null() : json_escaped(b.ptr, (size_t)b.len);
}

/* Print a JSON value (on one line) and drop it. */
static void json_put(json_t *v)
{
	/* out of memory: a null keeps the document whole */
	if (v == NULL)
		v = json_null();
	json_dumpf(v, stdout, JSON_ENCODE_ANY);
	json_decref(v);
}

/* One element of the file's list (batches or entries). */
static void json_item(json_t *v)
{
	fputs(json_first_item ? "\n" : ",\n", stdout);
	json_first_item = false;
	json_put(v);
}

/* ------------------------------------------------------------ problems */

/* One FILE argument being dumped. */
struct fctx {
	const char *path;
	int64_t base;		/* from the name */
	bool base_known;
	int64_t errors;
	bool unreadable;	/* a read failed: exit 2 */
	json_t *problems;	/* --json */
};

/* Report what is wrong at byte pos of the file (-1: the whole file). */
static void problem(struct fctx *f, int64_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct fctx *f, int64_t pos, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->errors++;
	total_errors++;
	if (pos >= 0)
		fprintf(stderr, "kdump-log: %s: position %" PRId64 ": %s\n",
			f->path, pos, msg);
	else
		fprintf(stderr, "kdump-log: %s: %s\n", f->path, msg);
	if (f->problems != NULL) {
		json_t *p = json_object();

		json_object_set_new(p, "position",
				    pos >= 0 ? json_integer(pos) : json_null());
		json_object_set_new(p, "message", json_text(msg));
		json_array_append_new(f->problems, p);
	}
}

static void read_failed(struct fctx *f, const struct src *s, int64_t pos)
{
	f->unreadable = true;
	if (s->err == ENODATA)
		problem(f, pos, "the file shrank while being read (a broker "
			"truncating it?)");
	else
		problem(f, pos, "cannot read: %s", strerror(s->err));
}

/* ------------------------------------------------------------ batches */

/* A .log being walked. */
struct logstate {
	int64_t batches;
	int64_t records;
	bool have_prev;
	int64_t prev_last;	/* last offset of the previous batch */
};

static const char *bool_str(int b)
{
	return b ? "true" : "false";
}

static const char *codec_name(int codec)
{
	const char *n = kp_codec_name((enum kp_codec)codec);

	return n != NULL ? n : "unknown";
}

/* Producer sequences wrap to 0 after INT32_MAX; -1 means none. */
static int64_t seq_add(int32_t base, int64_t delta)
{
	int64_t s;

	if (base < 0)
		return -1;
	s = (int64_t)base + delta;
	if (s > INT32_MAX)
		s -= (int64_t)INT32_MAX + 1;
	return s;
}

static const char *v2_timestamp_type(const struct kp_batch_header *h)
{
	return (h->attributes & KP_ATTR_LOG_APPEND_TIME) ? "LogAppendTime"
							 : "CreateTime";
}

static void print_v2_record(const struct kp_batch_header *h,
			    const struct kp_record *rec, int32_t odelta,
			    json_t *jrecs)
{
	int64_t seq = seq_add(h->base_sequence, odelta);
	struct kp_record_header hh;
	struct kp_reader hr;

	kp_reader_init(&hr, rec->headers, rec->headers_len);
	if (opt.json) {
		json_t *j = json_object(), *keys = json_array();

		if (jrecs == NULL || j == NULL || keys == NULL) {
			json_decref(j);	/* out of memory: leave it out */
			json_decref(keys);
			return;
		}

		json_object_set_new(j, "offset", json_integer(rec->offset));
		json_object_set_new(j, "timestamp",
				    json_integer(rec->timestamp));
		json_object_set_new(j, "keySize", json_integer(rec->key.len));
		json_object_set_new(j, "valueSize",
				    json_integer(rec->value.len));
		json_object_set_new(j, "sequence", json_integer(seq));
		for (int32_t i = 0; i < rec->header_count &&
		     kp_record_header_next(&hr, &hh) == 0; i++)
			json_array_append_new(keys, json_escaped(
				(const uint8_t *)hh.key.ptr,
				(size_t)hh.key.len));
		json_object_set_new(j, "headerKeys", keys);
		if ((h->attributes & KP_ATTR_CONTROL) && rec->key.len >= 4) {
			int type = (int16_t)kp_be16(rec->key.ptr + 2);

			if ((type == KP_CONTROL_ABORT || type == KP_CONTROL_COMMIT) &&
			    rec->value.len >= 6) {
				json_object_set_new(j, "endTxnMarker", json_string(
					type == KP_CONTROL_COMMIT ? "COMMIT" : "ABORT"));
				json_object_set_new(j, "coordinatorEpoch", json_integer(
					(int32_t)kp_be32(rec->value.ptr + 2)));
			} else {
				json_object_set_new(j, "controlType", json_integer(type));
			}
		}
		if (opt.data) {
			json_object_set_new(j, "key", json_bytes(rec->key));
			json_object_set_new(j, "payload",
					    json_bytes(rec->value));
		}
		json_array_append_new(jrecs, j);
		return;
	}
	printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32
	       " valueSize: %" PRId32 " sequence: %" PRId64 " headerKeys: [",
	       rec->offset, v2_timestamp_type(h), rec->timestamp, rec->key.len,
	       rec->value.len, seq);
	for (int32_t i = 0; i < rec->header_count &&
	     kp_record_header_next(&hr, &hh) == 0; i++) {
		if (i > 0)
			putchar(',');
		put_escaped((const uint8_t *)hh.key.ptr, (size_t)hh.key.len);
	}
	putchar(']');
	/* a transaction marker's meaning, as Kafka's tool prints it */
	if ((h->attributes & KP_ATTR_CONTROL) && rec->key.len >= 4) {
		int type = (int16_t)kp_be16(rec->key.ptr + 2);

		if ((type == KP_CONTROL_ABORT || type == KP_CONTROL_COMMIT) &&
		    rec->value.len >= 6)
			printf(" endTxnMarker: %s coordinatorEpoch: %" PRId32,
			       type == KP_CONTROL_COMMIT ? "COMMIT" : "ABORT",
			       (int32_t)kp_be32(rec->value.ptr + 2));
		else
			printf(" controlType: UNKNOWN(%d)", type);
	}
	/* a null key or value prints nothing, as Kafka's tool does */
	if (opt.data && rec->key.len >= 0) {
		fputs(" key: ", stdout);
		put_escaped(rec->key.ptr, (size_t)rec->key.len);
	}
	if (opt.data && rec->value.len >= 0) {
		fputs(" payload: ", stdout);
		put_escaped(rec->value.ptr, (size_t)rec->value.len);
	}
	putchar('\n');
}

/* --verify's look at one record (prev: the one before it, if any). */
static void check_record(struct fctx *f, int64_t pos,
			 const struct kp_batch_header *h,
			 const struct kp_record *rec, int32_t odelta,
			 const int64_t *prev)
{
	if (odelta < 0 || odelta > h->last_offset_delta)
		problem(f, pos, "record offset %" PRId64 " is outside the "
			"batch's offsets %" PRId64 "..%" PRId64, rec->offset,
			h->base_offset,
			kp_batch_last_offset(h));
	else if (prev != NULL && rec->offset <= *prev)
		problem(f, pos, "record offset %" PRId64 " does not follow %"
			PRId64, rec->offset, *prev);
	if (!(h->attributes & KP_ATTR_LOG_APPEND_TIME) &&
	    rec->timestamp > h->max_timestamp)
		problem(f, pos, "record at offset %" PRId64 " has timestamp %"
			PRId64 ", above the batch's maxTimestamp %" PRId64,
			rec->offset, rec->timestamp, h->max_timestamp);
}

/* Read (and with --deep-iteration print) the records of a v2 batch. */
static void v2_records(struct fctx *f, struct logstate *ls, const uint8_t *p,
		       size_t size, int64_t pos,
		       const struct kp_batch_header *h, json_t *jbatch)
{
	int codec = h->attributes & KP_ATTR_CODEC_MASK;
	struct kp_record_iter it;
	struct kp_record rec;
	json_t *jrecs = NULL;
	int64_t prev = 0;
	int32_t i, odelta;

	if (kp_record_iter_init(&it, p, size, &scratch,
				MAX_DECOMPRESSED) != KP_BATCH_OK) {
		if (codec > KP_CODEC_ZSTD)
			problem(f, pos, "unknown compression codec %d: records "
				"not read", codec);
		else
			problem(f, pos, "%s data does not decompress (or to "
				"more than %u MiB): records not read",
				codec_name(codec), MAX_DECOMPRESSED >> 20);
		return;
	}
	if (jbatch != NULL && opt.deep) {
		jrecs = json_array();
		json_object_set_new(jbatch, "records", jrecs);
	}
	for (i = 0; i < h->record_count; i++) {
		if (kp_record_iter_next(&it, &rec) != 1) {
			problem(f, pos, "record %" PRId32 " of the %" PRId32
				" the header counts does not parse", i,
				h->record_count);
			return;
		}
		/* the record's own delta (an int32, so the difference is
		 * exact even where the offset wrapped) */
		odelta = (int32_t)((uint64_t)rec.offset -
				   (uint64_t)h->base_offset);
		ls->records++;
		if (opt.verify)
			check_record(f, pos, h, &rec, odelta,
				     i > 0 ? &prev : NULL);
		prev = rec.offset;
		if (opt.deep)
			print_v2_record(h, &rec, odelta, jrecs);
	}
	if (kp_reader_left(&it.r) != 0)
		problem(f, pos, "%zu bytes follow the batch's last record",
			kp_reader_left(&it.r));
}

static void dump_v2(struct fctx *f, struct logstate *ls, const uint8_t *p,
		    size_t size, int64_t pos)
{
	struct kp_batch_header h;
	int64_t last;
	bool crc_ok;
	json_t *jb = NULL;
	int codec;

	if (kp_batch_header_parse(p, size, &h) != KP_BATCH_OK) {
		problem(f, pos, "batch length %" PRId32 " is too short for a "
			"magic 2 batch header (at least %d)",
			(int32_t)kp_be32(p + KP_BATCH_OFF_LENGTH),
			KP_BATCH_HEADER_SIZE - KP_LOG_OVERHEAD);
		return;
	}
	ls->batches++;
	last = kp_batch_last_offset(&h);
	crc_ok = kp_batch_verify_crc(p, size) == KP_BATCH_OK;
	codec = h.attributes & KP_ATTR_CODEC_MASK;
	if (opt.json) {
		jb = json_pack("{sI sI sI sI sI sI sI sI sb sb sI ss sI sI sI"
			       " ss sI sb}",
			       "baseOffset", (json_int_t)h.base_offset,
			       "lastOffset", (json_int_t)last,
			       "count", (json_int_t)h.record_count,
			       "baseSequence", (json_int_t)h.base_sequence,
			       "lastSequence", (json_int_t)seq_add(
				       h.base_sequence, h.last_offset_delta),
			       "producerId", (json_int_t)h.producer_id,
			       "producerEpoch", (json_int_t)h.producer_epoch,
			       "partitionLeaderEpoch",
			       (json_int_t)h.partition_leader_epoch,
			       "isTransactional",
			       (h.attributes & KP_ATTR_TRANSACTIONAL) != 0,
			       "isControl",
			       (h.attributes & KP_ATTR_CONTROL) != 0,
			       "position", (json_int_t)pos,
			       "timestampType", v2_timestamp_type(&h),
			       "maxTimestamp", (json_int_t)h.max_timestamp,
			       "size", (json_int_t)size,
			       "magic", (json_int_t)h.magic,
			       "compresscodec", codec_name(codec),
			       "crc", (json_int_t)h.crc,
			       "isvalid", crc_ok);
	} else {
		printf("baseOffset: %" PRId64 " lastOffset: %" PRId64
		       " count: %" PRId32 " baseSequence: %" PRId32
		       " lastSequence: %" PRId64 " producerId: %" PRId64
		       " producerEpoch: %d partitionLeaderEpoch: %" PRId32
		       " isTransactional: %s isControl: %s position: %" PRId64
		       " %s: %" PRId64 " size: %zu magic: %d compresscodec: %s"
		       " crc: %" PRIu32 " isvalid: %s\n",
		       h.base_offset, last, h.record_count, h.base_sequence,
		       seq_add(h.base_sequence, h.last_offset_delta),
		       h.producer_id, h.producer_epoch,
		       h.partition_leader_epoch,
		       bool_str(h.attributes & KP_ATTR_TRANSACTIONAL),
		       bool_str(h.attributes & KP_ATTR_CONTROL),
		       pos, v2_timestamp_type(&h), h.max_timestamp, size,
		       h.magic, codec_name(codec), h.crc, bool_str(crc_ok));
	}
	if (!crc_ok)
		problem(f, pos, "CRC mismatch: the batch says %" PRIu32
			", its bytes give %" PRIu32, h.crc,
			kp_crc32c(0, p + KP_BATCH_OFF_ATTRIBUTES,
				  size - KP_BATCH_OFF_ATTRIBUTES));
	if (opt.verify) {
		if (h.last_offset_delta < 0)
			problem(f, pos, "lastOffsetDelta %" PRId32
				" is negative", h.last_offset_delta);
		else if (last < h.base_offset)
			problem(f, pos, "base offset %" PRId64 " plus "
				"lastOffsetDelta %" PRId32 " overflows",
				h.base_offset, h.last_offset_delta);
		else if (h.record_count < 0 ||
			 h.record_count > (int64_t)h.last_offset_delta + 1)
			problem(f, pos, "recordCount %" PRId32 " does not fit "
				"lastOffsetDelta %" PRId32, h.record_count,
				h.last_offset_delta);
		if (f->base_known && h.base_offset < f->base)
			problem(f, pos, "base offset %" PRId64 " is below the "
				"segment's base offset %" PRId64 " (its name)",
				h.base_offset, f->base);
		else if (f->base_known && h.last_offset_delta >= 0 &&
			 last >= h.base_offset && last - f->base > INT32_MAX)
			problem(f, pos, "last offset %" PRId64 " is too far "
				"past the segment's base offset %" PRId64
				" for a 32-bit index entry", last, f->base);
		if (ls->have_prev && h.base_offset <= ls->prev_last)
			problem(f, pos, "base offset %" PRId64 " does not "
				"follow the previous batch's last offset %"
				PRId64, h.base_offset, ls->prev_last);
	}
	if (opt.deep || opt.verify)
		v2_records(f, ls, p, size, pos, &h, jb);
	else if (h.record_count > 0)
		ls->records += h.record_count;
	ls->have_prev = true;
	ls->prev_last = h.last_offset_delta >= 0 ? last : h.base_offset;
	if (jb != NULL)
		json_item(jb);
}

/*
 * Whether kp_legacy_iter's offsets for this message mean anything: a
 * magic 1 wrapper's inner offsets are relative, and the iterator turns
 * them absolute by arithmetic that wraps on hostile values, so look at
 * them first (inflating the value once more; legacy data is rare).
 */
static bool legacy_offsets_sane(const uint8_t *p, size_t size)
{
	int64_t wrapper = (int64_t)kp_be64(p);
	struct kp_reader r;
	kp_bytes key, value;
	int codec = p[KP_BATCH_OFF_MAGIC + 1] & KP_ATTR_CODEC_MASK;

	if (p[KP_BATCH_OFF_MAGIC] != 1 || codec == KP_CODEC_NONE)
		return true;
	if (wrapper < 0 || wrapper > LEGACY_OFFSET_LIMIT)
		return false;
	/* key and value follow crc, magic, attributes and timestamp */
	kp_reader_init(&r, p + KP_LOG_OVERHEAD + 14,
		       size - KP_LOG_OVERHEAD - 14);
	if (kp_read_bytes(&r, false, true, &key) ||
	    kp_read_bytes(&r, false, true, &value) || value.len < 0)
		return true;	/* the iterator refuses it by itself */
	kp_wbuf_reset(&scratch);
	if (kp_decompress((enum kp_codec)codec, value.ptr, (size_t)value.len,
			  MAX_DECOMPRESSED, &scratch) != 0)
		return true;
	kp_reader_init(&r, scratch.data, scratch.len);
	while (kp_reader_left(&r) >= KP_LOG_OVERHEAD) {
		int64_t off;
		int32_t len;

		kp_read_i64(&r, &off);
		kp_read_i32(&r, &len);
		if (len < LEGACY_V0_MIN || (size_t)len > kp_reader_left(&r))
			break;	/* where the iterator stops too */
		if (off < -LEGACY_OFFSET_LIMIT || off > LEGACY_OFFSET_LIMIT)
			return false;
		kp_skip(&r, (size_t)len);
	}
	return true;
}

static void print_legacy_msg(const struct kp_legacy_msg *m, const char *tstype,
			     json_t *jrecs)
{
	if (opt.json) {
		json_t *j = json_pack("{sI sI sI sI}",
				      "offset", (json_int_t)m->offset,
				      "timestamp", (json_int_t)m->timestamp,
				      "keySize", (json_int_t)m->key.len,
				      "valueSize", (json_int_t)m->value.len);

		if (j != NULL && opt.data) {
			json_object_set_new(j, "key", json_bytes(m->key));
			json_object_set_new(j, "payload", json_bytes(m->value));
		}
		if (jrecs != NULL)
			json_array_append_new(jrecs, j);
		else
			json_decref(j);
		return;
	}
	printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32
	       " valueSize: %" PRId32, m->offset, tstype, m->timestamp,
	       m->key.len, m->value.len);
	if (opt.data && m->key.len >= 0) {
		fputs(" key: ", stdout);
		put_escaped(m->key.ptr, (size_t)m->key.len);
	}
	if (opt.data && m->value.len >= 0) {
		fputs(" payload: ", stdout);
		put_escaped(m->value.ptr, (size_t)m->value.len);
	}
	putchar('\n');
}

/*
 * A magic 0 or 1 message: a "batch" of one, or a compressed wrapper
 * whose value is a message set.  Its messages are always walked (that is
 * the only way to count them) and printed with --deep-iteration.
 */
static void dump_legacy(struct fctx *f, struct logstate *ls, const uint8_t *p,
			size_t size, int64_t pos)
{
	int magic = p[KP_BATCH_OFF_MAGIC], attrs = p[KP_BATCH_OFF_MAGIC + 1];
	int64_t offset = (int64_t)kp_be64(p), ts = -1, prev = 0;
	uint32_t crc = kp_be32(p + KP_LOG_OVERHEAD);
	const char *tstype = "NoTimestampType";
	int codec = attrs & KP_ATTR_CODEC_MASK;
	struct kp_legacy_iter it;
	struct kp_legacy_msg m;
	json_t *jb = NULL, *jrecs = NULL;
	bool crc_ok, first = true;
	int rc;

	if (magic == 1 && size < KP_LOG_OVERHEAD + LEGACY_V1_MIN) {
		problem(f, pos, "message length %zu is too short for magic 1 "
			"(at least %d)", size - KP_LOG_OVERHEAD, LEGACY_V1_MIN);
		return;
	}
	ls->batches++;
	if (magic == 1) {
		ts = (int64_t)kp_be64(p + KP_LOG_OVERHEAD + 6);
		tstype = (attrs & KP_ATTR_LOG_APPEND_TIME) ? "LogAppendTime"
							   : "CreateTime";
	}
	/* CRC-32 (IEEE) of a legacy message: zlib's, as kp_records uses */
	crc_ok = crc32(0L, p + KP_BATCH_OFF_MAGIC,
		       (uInt)(size - KP_BATCH_OFF_MAGIC)) == crc;
	if (opt.json) {
		jb = json_pack("{sI sI ss sI sI sI ss sI sb}",
			       "offset", (json_int_t)offset,
			       "position", (json_int_t)pos,
			       "timestampType", tstype,
			       "timestamp", (json_int_t)ts,
			       "size", (json_int_t)size,
			       "magic", (json_int_t)magic,
			       "compresscodec", codec_name(codec),
			       "crc", (json_int_t)crc,
			       "isvalid", crc_ok);
		if (jb != NULL && opt.deep) {
			jrecs = json_array();
			json_object_set_new(jb, "records", jrecs);
		}
	} else {
		printf("offset: %" PRId64 " position: %" PRId64 " %s: %" PRId64
		       " size: %zu magic: %d compresscodec: %s crc: %" PRIu32
		       " isvalid: %s\n", offset, pos, tstype, ts, size, magic,
		       codec_name(codec), crc, bool_str(crc_ok));
	}
	if (opt.verify) {
		if (f->base_known && offset < f->base)
			problem(f, pos, "offset %" PRId64 " is below the "
				"segment's base offset %" PRId64, offset,
				f->base);
		if (ls->have_prev && offset <= ls->prev_last)
			problem(f, pos, "offset %" PRId64 " does not follow "
				"the previous batch's last offset %" PRId64,
				offset, ls->prev_last);
	}
	if (!crc_ok) {
		/* the iterator would refuse it: nothing more to read */
		problem(f, pos, "CRC mismatch: the message says %" PRIu32
			", its bytes give %" PRIu32, crc,
			(uint32_t)crc32(0L, p + KP_BATCH_OFF_MAGIC,
					(uInt)(size - KP_BATCH_OFF_MAGIC)));
	} else if (!legacy_offsets_sane(p, size)) {
		problem(f, pos, "offsets of the compressed messages are out of "
			"range: messages not read");
	} else {
		kp_legacy_iter_init(&it, p, size, &scratch, MAX_DECOMPRESSED);
		while ((rc = kp_legacy_iter_next(&it, &m)) == 1) {
			ls->records++;
			if (opt.verify && !first && m.offset <= prev)
				problem(f, pos, "message offset %" PRId64
					" does not follow %" PRId64, m.offset,
					prev);
			if (opt.verify && m.offset > offset)
				problem(f, pos, "message offset %" PRId64
					" is above its wrapper's %" PRId64,
					m.offset, offset);
			prev = m.offset;
			first = false;
			if (opt.deep)
				print_legacy_msg(&m, tstype, jrecs);
		}
		if (rc < 0)
			problem(f, pos, "the messages do not decode (framing, "
				"compression or an inner CRC)");
	}
	ls->have_prev = true;
	ls->prev_last = offset;
	if (jb != NULL)
		json_item(jb);
}

static void dump_log(struct fctx *f, struct src *s)
{
	struct logstate ls = { 0 };
	bool limited = false;
	int64_t pos = 0;

	if (!f->base_known) {
		const uint8_t *p = src_get(s, 0, 8);

		f->base = p != NULL ? (int64_t)kp_be64(p) : 0;
	}
	if (opt.json)
		printf(", \"startingOffset\": %" PRId64 ", \"batches\": [",
		       f->base);
	else
		printf("Starting offset: %" PRId64 "\n", f->base);
	while (pos < s->size) {
		const uint8_t *p;
		int64_t size;
		int32_t blen;

		if (pos >= opt.max_bytes) {
			limited = true;
			break;
		}
		p = src_get(s, pos, KP_LOG_OVERHEAD);
		if (p == NULL) {
			if (s->err)
				read_failed(f, s, pos);
			else
				problem(f, pos, "torn batch at the end: %"
					PRId64 " bytes, fewer than the %d of "
					"an offset and a length",
					s->size - pos, KP_LOG_OVERHEAD);
			break;
		}
		blen = (int32_t)kp_be32(p + KP_BATCH_OFF_LENGTH);
		/* the smallest legacy message (kp_batch_size's rule) */
		if (blen < LEGACY_V0_MIN) {
			problem(f, pos, "impossible batch length %" PRId32
				"; the %" PRId64 " bytes from here are not "
				"read", blen, s->size - pos);
			break;
		}
		size = (int64_t)blen + KP_LOG_OVERHEAD;
		if (size > s->size - pos) {
			problem(f, pos, "torn batch at the end (or a corrupt "
				"length): it claims %" PRId64 " bytes, %" PRId64
				" are left", size, s->size - pos);
			break;
		}
		if (size > opt.max_bytes - pos) {
			limited = true;
			break;
		}
		p = src_get(s, pos, (size_t)size);
		if (p == NULL) {
			read_failed(f, s, pos);
			break;
		}
		switch (p[KP_BATCH_OFF_MAGIC]) {
		case 2:
			dump_v2(f, &ls, p, (size_t)size, pos);
			break;
		case 0:
		case 1:
			dump_legacy(f, &ls, p, (size_t)size, pos);
			break;
		default:
			/* the length looked sane: go on from the next one */
			problem(f, pos, "unknown magic %d; skipping its %"
				PRId64 " bytes", (int8_t)p[KP_BATCH_OFF_MAGIC],
				size);
			break;
		}
		pos += size;
	}
	if (opt.json) {
		json_t *sum = json_pack("{sI sI sI sI}",
					"batches", (json_int_t)ls.batches,
					"records", (json_int_t)ls.records,
					"bytesRead", (json_int_t)pos,
					"errors", (json_int_t)f->errors);

		if (sum != NULL && limited)
			json_object_set_new(sum, "maxBytes",
					    json_integer(opt.max_bytes));
		printf("%s], \"problems\": ", json_first_item ? "" : "\n");
		json_put(json_incref(f->problems));
		fputs(", \"summary\": ", stdout);
		json_put(sum);
		putchar('}');
	}
	fprintf(stderr, "kdump-log: %s: %" PRId64 " batches, %" PRId64
		" records, %" PRId64 " errors", f->path, ls.batches, ls.records,
		f->errors);
	if (limited)
		fprintf(stderr, " (stopped at --max-bytes %" PRId64 ")",
			opt.max_bytes);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ indexes */

/*
 * The sibling .log walked batch by batch alongside an index's entries
 * (both are ordered by position and offset), reading only headers.
 */
struct hwalk {
	struct src s;
	const char *name;	/* the .log's file name, for messages */
	int64_t pos;		/* of the next batch */
	bool have;		/* a current batch */
	int64_t bpos, bbase, blast, bmax_ts;
	int64_t prev_bpos;	/* the batch before, -1 */
	/* the largest maxTimestamp of the batches before the current one,
	 * and the last offset of the first batch that reached it, as
	 * log_segment.c keeps them for the time index */
	int64_t max_ts, max_ts_offset;
	const char *stop;	/* why the walk ended before the file did */
};

static void hwalk_next(struct hwalk *w)
{
	const uint8_t *p;
	int64_t size;
	int32_t blen;
	int magic;

	if (w->have) {
		if (w->bmax_ts > w->max_ts) {
			w->max_ts = w->bmax_ts;
			w->max_ts_offset = w->blast;
		}
		w->prev_bpos = w->bpos;
	}
	w->have = false;
	if (w->pos >= w->s.size)
		return;
	p = src_get(&w->s, w->pos, KP_LOG_OVERHEAD);
	if (p == NULL) {
		w->stop = w->s.err ? "a read error" : "a torn batch";
		return;
	}
	blen = (int32_t)kp_be32(p + KP_BATCH_OFF_LENGTH);
	size = (int64_t)blen + KP_LOG_OVERHEAD;
	if (blen < LEGACY_V0_MIN || size > w->s.size - w->pos) {
		w->stop = blen < LEGACY_V0_MIN ? "a corrupt batch"
					       : "a torn batch";
		return;
	}
	p = src_get(&w->s, w->pos, (size_t)(size < KP_BATCH_HEADER_SIZE
					    ? size : KP_BATCH_HEADER_SIZE));
	if (p == NULL) {
		w->stop = "a read error";
		return;
	}
	magic = p[KP_BATCH_OFF_MAGIC];
	w->bbase = (int64_t)kp_be64(p);
	if (magic == 2 && size >= KP_BATCH_HEADER_SIZE) {
		w->blast = wadd(w->bbase, (int32_t)kp_be32(
					p + KP_BATCH_OFF_LAST_OFFSET_DELTA));
		w->bmax_ts = (int64_t)kp_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP);
		/* dated by its records, as the broker does, when the header
		 * says "no timestamp" */
		if (kp_batch_max_timestamp_suspect(p) &&
		    (p = src_get(&w->s, w->pos, (size_t)size)) != NULL)
			w->bmax_ts = kp_batch_stored_max_timestamp(
				p, (size_t)size, &scratch, MAX_DECOMPRESSED);
	} else if (magic == 1 && size >= KP_LOG_OVERHEAD + LEGACY_V1_MIN) {
		/* a wrapper's offset is its last message's */
		w->blast = w->bbase;
		w->bmax_ts = (int64_t)kp_be64(p + KP_LOG_OVERHEAD + 6);
	} else if (magic == 0) {
		w->blast = w->bbase;
		w->bmax_ts = -1;
	} else {
		w->stop = "a corrupt batch";
		return;
	}
	w->bpos = w->pos;
	w->pos += size;
	w->have = true;
}

/* "entry 3 (offset 120 position 4242)" and the like. */
static void entry_problem(struct fctx *f, int64_t i, int esz, int64_t a,
			  int64_t b, const char *what)
{
	if (esz == OINDEX_ENTRY)
		problem(f, i * esz, "entry %" PRId64 " (offset %" PRId64
			" position %" PRId64 "): %s", i, a, b, what);
	else
		problem(f, i * esz, "entry %" PRId64 " (timestamp %" PRId64
			" offset %" PRId64 "): %s", i, a, b, what);
}

/*
 * An offset index entry means "the batch whose last offset is `off`
 * starts at `epos`" (kbroker/log_index.h): Kafka's meaning too.
 */
static void check_oentry(struct fctx *f, struct hwalk *w, int64_t i,
			 int64_t off, int64_t epos)
{
	char what[512];

	while (w->have && w->bpos < epos)
		hwalk_next(w);
	if (epos >= w->s.size)
		snprintf(what, sizeof(what), "the position is beyond the end "
			 "of %s (%" PRId64 " bytes)", w->name, w->s.size);
	else if (!w->have)
		snprintf(what, sizeof(what), "the position lies after %s "
			 "stops being readable (%s at %" PRId64 ")", w->name,
			 w->stop != NULL ? w->stop : "its end", w->pos);
	else if (w->bpos != epos && w->prev_bpos < 0)
		snprintf(what, sizeof(what), "the position is not the start "
			 "of a batch in %s (the first starts at %" PRId64 ")",
			 w->name, w->bpos);
	else if (w->bpos != epos)
		snprintf(what, sizeof(what), "the position is not the start "
			 "of a batch in %s (batches start at %" PRId64 " and %"
			 PRId64 ")", w->name, w->prev_bpos, w->bpos);
	else if (w->blast != off)
		snprintf(what, sizeof(what), "the batch there in %s has last "
			 "offset %" PRId64 " (offsets %" PRId64 "..%" PRId64
			 "); an entry names its batch's last offset", w->name,
			 w->blast, w->bbase, w->blast);
	else
		return;
	entry_problem(f, i, OINDEX_ENTRY, off, epos, what);
}

/*
 * A time index entry is what log_segment.c's index_batch() appends: the
 * largest batch maxTimestamp so far and the last offset of the first
 * batch that reached it.
 */
static void check_tentry(struct fctx *f, struct hwalk *w, int64_t i,
			 int64_t ts, int64_t off)
{
	char what[512];

	while (w->have && w->blast < off)
		hwalk_next(w);
	if (!w->have)
		snprintf(what, sizeof(what), "the offset is past the last "
			 "%sbatch of %s", w->stop != NULL ? "readable " : "",
			 w->name);
	else if (w->blast != off)
		snprintf(what, sizeof(what), "the offset is not the last "
			 "offset of a batch in %s (the batch at %" PRId64
			 " holds %" PRId64 "..%" PRId64 ")", w->name, w->bpos,
			 w->bbase, w->blast);
	else if (w->bmax_ts != ts)
		snprintf(what, sizeof(what), "the batch at %" PRId64 " in %s "
			 "has maxTimestamp %" PRId64, w->bpos, w->name,
			 w->bmax_ts);
	else if (w->max_ts >= ts)
		snprintf(what, sizeof(what), "an earlier batch (last offset %"
			 PRId64 ") already has maxTimestamp %" PRId64 "; the "
			 "entry must name the first batch to reach it",
			 w->max_ts_offset, w->max_ts);
	else
		return;
	entry_problem(f, i, TINDEX_ENTRY, ts, off, what);
}

static bool all_zero(const uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void dump_index(struct fctx *f, struct src *s, bool time,
		       const char *log_path)
{
	int esz = time ? TINDEX_ENTRY : OINDEX_ENTRY;
	int64_t n = s->size / esz, rest = s->size % esz, used = n, i;
	int64_t prev_a = -1, prev_b = -1, last_a = -1, last_b = -1;
	struct hwalk w = { .s = { .fd = -1 }, .prev_bpos = -1, .max_ts = -1 };
	bool walk = false;

	if (opt.verify) {
		int rc = src_open(&w.s, log_path);
		const char *slash = strrchr(log_path, '/');

		w.name = slash != NULL ? slash + 1 : log_path;
		if (rc < 0) {
			problem(f, -1, "cannot check the entries against "
				"%s: %s", log_path, strerror(-rc));
		} else {
			walk = true;
			w.max_ts_offset = f->base;
			hwalk_next(&w);
		}
	}
	if (opt.json)
		printf(", \"entries\": [");
	for (i = 0; i < n; i++) {
		const uint8_t *p = src_get(s, i * esz, (size_t)esz);
		int64_t a, b;
		bool ordered = true;

		if (p == NULL) {
			read_failed(f, s, i * esz);
			used = i;
			break;
		}
		/* The file of an active segment is preallocated: the first
		 * all-zero entry ends the used part, the very first one
		 * included, as log_index.c reads it.  (Kafka's tool takes a
		 * zero first entry as an entry, but no broker writes one:
		 * an offset entry comes after index.interval.bytes of
		 * batches, so its position is never 0.) */
		if (all_zero(p, esz)) {
			used = i;
			break;
		}
		if (time) {
			a = (int64_t)kp_be64(p);
			b = wadd(f->base, (int32_t)kp_be32(p + 8));
		} else {
			a = wadd(f->base, (int32_t)kp_be32(p));
			b = (int32_t)kp_be32(p + 4);
		}
		if (opt.json) {
			json_item(time ? json_pack("{sI sI}", "timestamp",
						   (json_int_t)a, "offset",
						   (json_int_t)b)
				       : json_pack("{sI sI}", "offset",
						   (json_int_t)a, "position",
						   (json_int_t)b));
		} else if (time) {
			printf("timestamp: %" PRId64 " offset: %" PRId64 "\n",
			       a, b);
		} else {
			printf("offset: %" PRId64 " position: %" PRId64 "\n",
			       a, b);
		}
		last_a = a;
		last_b = b;
		if (!opt.verify)
			continue;
		/* log_index.c's valid_prefix(): strictly increasing, except
		 * a time index's offsets, which may repeat */
		if (!time && (int32_t)kp_be32(p) < 0) {
			entry_problem(f, i, esz, a, b, "the relative offset is "
				      "negative");
			ordered = false;
		} else if (!time && i > 0 && a <= prev_a) {
			entry_problem(f, i, esz, a, b, "the offset does not "
				      "follow the previous entry's");
			ordered = false;
		}
		if (!time && (b < 0 || (i > 0 && b <= prev_b))) {
			entry_problem(f, i, esz, a, b, b < 0
				      ? "the position is negative"
				      : "the position does not follow the "
					"previous entry's");
			ordered = false;
		}
		/* (prev_a starts at -1: "no timestamp" is never indexed) */
		if (time && a <= prev_a)
			entry_problem(f, i, esz, a, b, i == 0
				      ? "the timestamp is not above -1"
				      : "the timestamp does not follow the "
					"previous entry's");
		if (time && (int32_t)kp_be32(p + 8) < 0) {
			entry_problem(f, i, esz, a, b, "the relative offset is "
				      "negative");
			ordered = false;
		} else if (time && i > 0 && b < prev_b) {
			entry_problem(f, i, esz, a, b, "the offset is below "
				      "the previous entry's");
			ordered = false;
		}
		/* an entry out of order is not looked up: the walk of the
		 * log only goes forward */
		if (walk && ordered && time)
			check_tentry(f, &w, i, a, b);
		else if (walk && ordered)
			check_oentry(f, &w, i, a, b);
		if (ordered) {
			prev_a = a;
			prev_b = b;
		}
	}
	if (opt.verify && !f->unreadable) {
		for (int64_t j = used + 1; j < n; j++) {
			const uint8_t *p = src_get(s, j * esz, (size_t)esz);

			if (p == NULL) {
				read_failed(f, s, j * esz);
				break;
			}
			if (!all_zero(p, esz)) {
				problem(f, j * esz, "entry %" PRId64 " is not "
					"zero, but comes after the end of the "
					"used entries (the zero entry %" PRId64
					"); the broker ignores it", j, used);
				break;
			}
		}
	}
	if (rest != 0)
		problem(f, n * esz, "%" PRId64 " bytes at the end are not a "
			"whole %d-byte entry", rest, esz);
	/*
	 * A trimmed time index belongs to a closed segment, and closing
	 * writes one more entry for the segment's largest timestamp (the
	 * slot log_index_full() keeps): without it a broker restarted
	 * cleanly would answer ListOffsets from a smaller maximum.
	 */
	if (walk && time && used == n && rest == 0) {
		while (w.have)
			hwalk_next(&w);
		if (w.stop == NULL && kp_ts_known(w.max_ts) && used == 0)
			problem(f, -1, "no entries, but %s has timestamps: "
				"closing a segment writes an entry for the "
				"largest (%" PRId64 " at offset %" PRId64 ")",
				w.name, w.max_ts, w.max_ts_offset);
		else if (w.stop == NULL && kp_ts_known(w.max_ts) &&
			 (last_a != w.max_ts || last_b != w.max_ts_offset))
			problem(f, (used - 1) * esz, "the last entry is not "
				"the segment's largest timestamp %" PRId64
				" at offset %" PRId64 " in %s, which the "
				"broker writes when it closes a segment",
				w.max_ts, w.max_ts_offset, w.name);
	}
	if (walk)
		src_close(&w.s);
	if (opt.json) {
		printf("%s], \"problems\": ", json_first_item ? "" : "\n");
		json_put(json_incref(f->problems));
		fputs(", \"summary\": ", stdout);
		json_put(json_pack("{sI sI}", "entries", (json_int_t)used,
				   "errors", (json_int_t)f->errors));
		putchar('}');
	}
	fprintf(stderr, "kdump-log: %s: %" PRId64 " entries, %" PRId64
		" errors\n", f->path, used, f->errors);
}

/* ------------------------------------------------- producer snapshots */

/* Kafka's DefaultRecordBatch.decrementSequence */
static int32_t seq_sub(int32_t seq, int32_t delta)
{
	return seq < delta ? INT32_MAX - (delta - seq) + 1 : seq - delta;
}

static int print_snap_entry(void *arg, const struct kp_pidsnap_entry *e)
{
	int64_t *n = arg;

	(*n)++;
	if (opt.json) {
		json_t *o = json_pack("{sI si si sI}", "producerId", (json_int_t)e->pid,
				      "producerEpoch", (int)e->epoch,
				      "coordinatorEpoch", (int)e->coord_epoch,
				      "lastTimestamp", (json_int_t)e->timestamp);

		json_object_set_new(o, "currentTxnFirstOffset",
				    e->txn_first_offset >= 0
				    ? json_integer(e->txn_first_offset) : json_null());
		if (e->last_offset >= 0) {
			json_object_set_new(o, "firstSequence",
					    json_integer(seq_sub(e->last_seq, e->offset_delta)));
			json_object_set_new(o, "lastSequence", json_integer(e->last_seq));
			json_object_set_new(o, "lastOffset", json_integer(e->last_offset));
			json_object_set_new(o, "offsetDelta", json_integer(e->offset_delta));
		}
		json_item(o);
		return 0;
	}
	/* Kafka's DumpLogSegments line (currentTxnFirstOffset a Scala Option) */
	printf("producerId: %" PRId64 " producerEpoch: %d coordinatorEpoch: %" PRId32
	       " currentTxnFirstOffset: ", e->pid, e->epoch, e->coord_epoch);
	if (e->txn_first_offset >= 0)
		printf("Some(%" PRId64 ") ", e->txn_first_offset);
	else
		fputs("None ", stdout);
	if (e->last_offset >= 0)
		printf("firstSequence: %" PRId32 " lastSequence: %" PRId32
		       " lastOffset: %" PRId64 " offsetDelta: %" PRId32
		       " timestamp: %" PRId64, seq_sub(e->last_seq, e->offset_delta),
		       e->last_seq, e->last_offset, e->offset_delta, e->timestamp);
	putchar('\n');
	return 0;
}

/* The snapshot is whole or refused (its CRC covers it all). */
#define SNAPSHOT_MAX (256 << 20)

static void dump_snapshot(struct fctx *f, struct src *s)
{
	const uint8_t *buf = NULL;
	int64_t n = 0;
	char err[256];

	if (opt.json)
		printf(", \"entries\": [");
	if (s->size > SNAPSHOT_MAX)
		problem(f, -1, "%" PRId64 " bytes: larger than any snapshot read "
			"here (%d)", s->size, SNAPSHOT_MAX);
	else if (s->size > 0 && (buf = src_get(s, 0, (size_t)s->size)) == NULL)
		read_failed(f, s, 0);
	else if (kp_pidsnap_decode(buf, (size_t)s->size, print_snap_entry, &n, err,
				   sizeof(err)) < 0)
		problem(f, -1, "%s", err);
	if (opt.json) {
		printf("%s], \"problems\": ", json_first_item ? "" : "\n");
		json_put(json_incref(f->problems));
		fputs(", \"summary\": ", stdout);
		json_put(json_pack("{sI sI}", "producers", (json_int_t)n,
				   "errors", (json_int_t)f->errors));
		putchar('}');
	}
	fprintf(stderr, "kdump-log: %s: %" PRId64 " producers, %" PRId64
		" errors\n", f->path, n, f->errors);
}

/* ------------------------------------------- aborted transactions index */

static void dump_txnindex(struct fctx *f, struct src *s)
{
	int64_t n = 0, prev = -1;

	if (opt.json)
		printf(", \"entries\": [");
	if (s->size % KP_TXNIDX_ENTRY != 0)
		problem(f, -1, "%" PRId64 " bytes: not a whole number of %d-byte "
			"entries", s->size, KP_TXNIDX_ENTRY);
	for (int64_t pos = 0; pos + KP_TXNIDX_ENTRY <= s->size; pos += KP_TXNIDX_ENTRY) {
		const uint8_t *b = src_get(s, pos, KP_TXNIDX_ENTRY);
		struct kp_aborted_txn e;

		if (b == NULL) {
			read_failed(f, s, pos);
			break;
		}
		if (kp_txnidx_get(b, &e) < 0) {
			problem(f, pos, "unknown entry version %d", (int16_t)kp_be16(b));
			break;
		}
		n++;
		if (opt.json)
			json_item(json_pack("{si sI sI sI sI}", "version", KP_TXNIDX_VERSION,
					    "producerId", (json_int_t)e.pid,
					    "firstOffset", (json_int_t)e.first_offset,
					    "lastOffset", (json_int_t)e.last_offset,
					    "lastStableOffset", (json_int_t)e.lso));
		else
			printf("version: %d producerId: %" PRId64 " firstOffset: %" PRId64
			       " lastOffset: %" PRId64 " lastStableOffset: %" PRId64 "\n",
			       KP_TXNIDX_VERSION, e.pid, e.first_offset, e.last_offset,
			       e.lso);
		if (opt.verify) {
			if (e.first_offset > e.last_offset)
				problem(f, pos, "first offset %" PRId64 " is past the "
					"last %" PRId64, e.first_offset, e.last_offset);
			if (e.last_offset <= prev)
				problem(f, pos, "last offset %" PRId64 " does not follow "
					"the previous entry's %" PRId64, e.last_offset, prev);
			if (f->base_known && e.last_offset < f->base)
				problem(f, pos, "last offset %" PRId64 " is below the "
					"segment's base offset %" PRId64, e.last_offset,
					f->base);
		}
		prev = e.last_offset;
	}
	if (opt.json) {
		printf("%s], \"problems\": ", json_first_item ? "" : "\n");
		json_put(json_incref(f->problems));
		fputs(", \"summary\": ", stdout);
		json_put(json_pack("{sI sI}", "abortedTransactions", (json_int_t)n,
				   "errors", (json_int_t)f->errors));
		putchar('}');
	}
	fprintf(stderr, "kdump-log: %s: %" PRId64 " aborted transactions, %" PRId64
		" errors\n", f->path, n, f->errors);
}

/* ------------------------------------------------------------ files */

enum kind { K_LOG, K_INDEX, K_TIMEINDEX, K_SNAPSHOT, K_TXNINDEX, K_OTHER };

/* Whether [dot, end) is exactly ext. */
static bool ext_is(const char *dot, const char *end, const char *ext)
{
	size_t n = strlen(ext);

	return (size_t)(end - dot) == n && memcmp(dot, ext, n) == 0;
}

/*
 * What a file is, from its name: "<base offset>.<ext>", perhaps with the
 * suffix a broker adds to files on their way out (".deleted") or being
 * swapped in (".cleaned", ".swap").  *why says why an other is skipped;
 * sibling gets the .log an index belongs to.
 */
static enum kind classify(const char *path, int64_t *base, bool *base_known,
			  const char **why, char *sibling, size_t sibling_len)
{
	static const char *const suffixes[] = {
		".deleted", ".cleaned", ".swap",
	};
	const char *name = strrchr(path, '/'), *suffix = "", *dot;
	size_t len, dir_len;
	enum kind k;

	name = name != NULL ? name + 1 : path;
	dir_len = (size_t)(name - path);
	len = strlen(name);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);

		if (len > sl && strcmp(name + len - sl, suffixes[i]) == 0) {
			suffix = suffixes[i];
			len -= sl;
			break;
		}
	}
	*why = "not a segment file (.log, .index, .timeindex, .txnindex) or "
	       "producer snapshot (.snapshot)";
	if (len == strlen("leader-epoch-checkpoint") &&
	    strncmp(name, "leader-epoch-checkpoint", len) == 0) {
		*why = "a leader epoch checkpoint, a text file to read "
		       "as it is";
		return K_OTHER;
	}
	if (len == strlen("partition.metadata") &&
	    strncmp(name, "partition.metadata", len) == 0) {
		*why = "the partition's topic id (KIP-516), a text file to read "
		       "as it is";
		return K_OTHER;
	}
	dot = memrchr(name, '.', len);
	if (dot == NULL)
		return K_OTHER;
	if (ext_is(dot, name + len, ".log")) {
		k = K_LOG;
	} else if (ext_is(dot, name + len, ".index")) {
		k = K_INDEX;
	} else if (ext_is(dot, name + len, ".timeindex")) {
		k = K_TIMEINDEX;
	} else if (ext_is(dot, name + len, ".snapshot")) {
		k = K_SNAPSHOT;
	} else if (ext_is(dot, name + len, ".txnindex")) {
		k = K_TXNINDEX;
	} else {
		return K_OTHER;
	}
	*base = 0;
	*base_known = dot > name;
	for (const char *c = name; c < dot && *base_known; c++) {
		int digit = *c - '0';

		if (digit < 0 || digit > 9 || *base > (INT64_MAX - digit) / 10)
			*base_known = false;
		else
			*base = *base * 10 + (*c - '0');
	}
	if (snprintf(sibling, sibling_len, "%.*s%.*s.log%s", (int)dir_len, path,
		     (int)(dot - name), name, suffix) >= (int)sibling_len)
		sibling[0] = 0;
	return k;
}

static void json_file_begin(const struct fctx *f, const char *type)
{
	fputs(json_first_file ? "\n" : ",\n", stdout);
	json_first_file = false;
	json_first_item = true;
	fputs("{\"file\": ", stdout);
	json_put(json_text(f->path));
	printf(", \"type\": \"%s\"", type);
}

/* Dump (and check) one file; returns its exit status. */
static int dump_file(const char *path)
{
	static const char *const types[] = { "log", "index", "timeindex",
					     "snapshot", "txnindex", "skipped" };
	struct fctx f = { .path = path };
	char sibling[PATH_MAX];
	const char *why;
	struct src s;
	enum kind k;
	int rc;

	k = classify(path, &f.base, &f.base_known, &why, sibling,
		     sizeof(sibling));
	rc = src_open(&s, path);
	if (rc < 0) {
		why = rc == -EINVAL ? "not a regular file" : strerror(-rc);
	} else if ((k == K_INDEX || k == K_TIMEINDEX) && !f.base_known) {
		/* an index's entries are relative to it */
		rc = -EINVAL;
		why = "its name does not start with the base offset "
		      "(<base offset>.index, <base offset>.timeindex)";
	}
	if (rc < 0 || k == K_OTHER) {
		if (rc < 0)
			fprintf(stderr, "kdump-log: %s: cannot read: %s\n",
				path, why);
		else
			fprintf(stderr, "kdump-log: %s: skipped: %s\n", path,
				why);
		if (opt.json) {
			json_file_begin(&f, rc < 0 ? "unreadable" : types[k]);
			fputs(rc < 0 ? ", \"error\": " : ", \"reason\": ",
			      stdout);
			json_put(json_text(why));
			putchar('}');
		}
		src_close(&s);
		return rc < 0 ? EXIT_USAGE : 0;
	}
	if (k == K_LOG && !f.base_known)
		fprintf(stderr, "kdump-log: %s: the name does not start with a "
			"base offset; taking the first batch's\n", path);
	if (opt.json) {
		f.problems = json_array();
		json_file_begin(&f, types[k]);
		fputs(", \"baseOffset\": ", stdout);
		json_put(f.base_known ? json_integer(f.base) : json_null());
	} else {
		printf("Dumping %s\n", path);
	}
	if (k == K_LOG)
		dump_log(&f, &s);
	else if (k == K_SNAPSHOT)
		dump_snapshot(&f, &s);
	else if (k == K_TXNINDEX)
		dump_txnindex(&f, &s);
	else
		dump_index(&f, &s, k == K_TIMEINDEX, sibling);
	src_close(&s);
	json_decref(f.problems);
	if (f.unreadable)
		return EXIT_USAGE;
	return f.errors > 0 ? EXIT_PROBLEMS : 0;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *out)
{
	fputs("Usage: kdump-log [--files] FILE[,FILE...]..."
	      " [--print-data-log]\n"
	      "                 [--deep-iteration] [--verify] [--json]"
	      " [--max-bytes N]\n"
	      "Print and check a partition's files: segment logs (.log),"
	      " offset\n"
	      "indexes (.index), time indexes (.timeindex), aborted transaction"
	      " indexes\n"
	      "(.txnindex) and producer state snapshots (.snapshot).\n"
	      "\n"
	      "  --files FILE[,FILE...]  files to read (plain arguments are "
	      "files too)\n"
	      "  --print-data-log        print each record's key and value\n"
	      "                          (implies --deep-iteration)\n"
	      "  --deep-iteration        print a line per record, not only per"
	      " batch\n"
	      "  --verify                check CRCs, sizes and offsets, and "
	      "each index\n"
	      "                          against its segment's .log\n"
	      "  --json                  print one JSON document instead of "
	      "text lines\n"
	      "  --max-bytes N           read only the batches within the first"
	      " N bytes\n"
	      "                          of each .log\n"
	      "  --help                  print this help and exit\n"
	      "  --version               print the version and exit\n"
	      "\n"
	      "Problems go to standard error, one line each, with a summary "
	      "line per file.\n"
	      "Exit status: 0 no problem, 1 problems found, 2 bad usage or a "
	      "file that\n"
	      "cannot be read.\n", out);
}

/* Append s, or with split each comma-separated part of it, to files. */
static void add_files(char ***files, size_t *n, size_t *cap, char *s,
		      bool split)
{
	char *part, *save = NULL;

	for (part = split ? strtok_r(s, ",", &save) : s; part != NULL;
	     part = split ? strtok_r(NULL, ",", &save) : NULL) {
		if (*n == *cap) {
			size_t ncap = *cap ? 2 * *cap : 16;
			char **nf = realloc(*files, ncap * sizeof(*nf));

			if (nf == NULL) {
				fputs("kdump-log: out of memory\n", stderr);
				exit(EXIT_USAGE);
			}
			*files = nf;
			*cap = ncap;
		}
		(*files)[(*n)++] = part;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "files", required_argument, NULL, 'f' },
		{ "print-data-log", no_argument, NULL, 'p' },
		{ "deep-iteration", no_argument, NULL, 'd' },
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char **files = NULL, *end;
	size_t nfiles = 0, cap = 0;
	int ch, status = 0;

	tool_name = "kdump-log";
	/* our own messages: getopt's would name the libtool wrapper */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			add_files(&files, &nfiles, &cap, optarg, true);
			break;
		case 'p':
			opt.data = true;
			opt.deep = true;
			break;
		case 'd':
			opt.deep = true;
			break;
		case 'v':
			opt.verify = true;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'm':
			errno = 0;
			opt.max_bytes = strtoll(optarg, &end, 10);
			if (errno != 0 || optarg[0] < '0' || optarg[0] > '9' ||
			    *end != 0)
				tool_usage_error("--max-bytes wants a number of "
					    "bytes, got '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kdump-log (%s) %s\n", PACKAGE_NAME,
			       PACKAGE_VERSION);
			return 0;
		case ':':
			tool_usage_error("%s wants an argument",
					 argv[optind - 1]);
		default:
			tool_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		add_files(&files, &nfiles, &cap, argv[i], false);
	if (nfiles == 0)
		tool_usage_error("no file to dump");
	kp_wbuf_init(&scratch);
	if (opt.json)
		fputs("{\"files\": [", stdout);
	for (size_t i = 0; i < nfiles; i++) {
		int rc = dump_file(files[i]);

		if (rc > status)
			status = rc;
	}
	if (opt.json)
		printf("\n], \"errors\": %" PRId64 "}\n", total_errors);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kdump-log: cannot write the output: %s\n",
			strerror(errno));
		status = EXIT_USAGE;
	}
	kp_wbuf_free(&scratch);
	free(esc_buf);
	free(files);
	return status;
}
