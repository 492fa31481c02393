/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_records.h - record batches (magic 2) and legacy message sets (magic 0/1).
 *
 * Layout of a v2 batch (61-byte header, big-endian):
 *   0 baseOffset i64 | 8 batchLength i32 (bytes after this field) |
 *  12 partitionLeaderEpoch i32 | 16 magic i8 | 17 crc u32 (CRC-32C of
 *  bytes [21, end)) | 21 attributes i16 | 23 lastOffsetDelta i32 |
 *  27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 |
 *  51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32 |
 *  61 records (compressed as a whole when attributes say so).
 *
 * baseOffset and partitionLeaderEpoch are outside the CRC, so a leader can
 * assign offsets and stamp its epoch without recomputing it.
 */
#ifndef KP_RECORDS_H
#define KP_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_errors.h"

#define KP_BATCH_HEADER_SIZE 61
/* a record or batch without a timestamp (Kafka's RecordBatch.NO_TIMESTAMP) */
#define KP_NO_TIMESTAMP (-1LL)
/* offset (8) + length (4): the part every magic shares */
#define KP_LOG_OVERHEAD 12

#define KP_BATCH_OFF_BASE_OFFSET 0
#define KP_BATCH_OFF_LENGTH 8
#define KP_BATCH_OFF_LEADER_EPOCH 12
#define KP_BATCH_OFF_MAGIC 16
#define KP_BATCH_OFF_CRC 17
#define KP_BATCH_OFF_ATTRIBUTES 21
#define KP_BATCH_OFF_LAST_OFFSET_DELTA 23
#define KP_BATCH_OFF_BASE_TIMESTAMP 27
#define KP_BATCH_OFF_MAX_TIMESTAMP 35
#define KP_BATCH_OFF_PRODUCER_ID 43
#define KP_BATCH_OFF_PRODUCER_EPOCH 51
#define KP_BATCH_OFF_BASE_SEQUENCE 53
#define KP_BATCH_OFF_RECORD_COUNT 57

/* attributes */
#define KP_ATTR_CODEC_MASK 0x07
#define KP_ATTR_LOG_APPEND_TIME 0x08
#define KP_ATTR_TRANSACTIONAL 0x10
#define KP_ATTR_CONTROL 0x20

enum kp_codec {
	KP_CODEC_NONE = 0,
	KP_CODEC_GZIP = 1,
	KP_CODEC_SNAPPY = 2,
	KP_CODEC_LZ4 = 3,
	KP_CODEC_ZSTD = 4,
};

struct kp_batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* Result codes of the batch functions (0 is success). */
enum kp_batch_status {
	KP_BATCH_OK = 0,
	KP_BATCH_SHORT = -1,	/* fewer bytes than the batch claims: a torn tail */
	KP_BATCH_CORRUPT = -2,	/* bad length, magic or fields */
	KP_BATCH_BAD_CRC = -3,
};

/*
 * Parse the v2 header at p (len bytes available, at least the 61 header
 * bytes).  Checks magic == 2 and batchLength >= 49 (header minus the
 * 12-byte log overhead); does not check the CRC.
 */
int kp_batch_header_parse(const uint8_t *p, size_t len,
			  struct kp_batch_header *h);

/*
 * Given bytes starting at a batch (any magic), tell its total size
 * (batchLength + 12) in *size.  KP_BATCH_SHORT when fewer than 12 bytes or
 * fewer than the whole batch are present (*size is still set when the
 * length field was readable); KP_BATCH_CORRUPT for an impossible length.
 */
int kp_batch_size(const uint8_t *p, size_t len, size_t *size);

/* Check the CRC of a whole v2 batch of len bytes (len = batchLength + 12). */
int kp_batch_verify_crc(const uint8_t *batch, size_t len);

/* Last offset of a v2 batch: baseOffset + lastOffsetDelta. */
static inline int64_t kp_batch_last_offset(const struct kp_batch_header *h)
{
	/* Wraps as Java's long arithmetic does on a hostile header, instead
	 * of being undefined. */
	return (int64_t)((uint64_t)h->base_offset +
			 (uint64_t)(int64_t)h->last_offset_delta);
}

/* In-place rewrites of a whole v2 batch in memory. */
void kp_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void kp_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/*
 * Set maxTimestamp and the timestamp type (the LogAppendTime bit set or
 * cleared), recomputing the CRC, as Kafka's setMaxTimestamp: a batch that
 * already says so is left alone.  True when the batch changed.
 */
bool kp_batch_set_max_timestamp(uint8_t *batch, size_t len, int64_t ts,
				bool log_append_time);

/* ------------------------------------------------------------ records */

/* One record of a v2 batch; key/value len -1 is null. */
struct kp_record {
	int8_t attributes;
	int64_t timestamp;	/* absolute (LogAppendTime: the batch's) */
	int64_t offset;		/* absolute */
	kp_bytes key;
	kp_bytes value;
	int32_t header_count;
	const uint8_t *headers;	/* raw header bytes, see kp_record_header_next */
	size_t headers_len;
};

struct kp_record_header {
	kp_str key;
	kp_bytes value;		/* len -1: null */
};

/*
 * Iterates the records of one v2 batch.  A compressed batch is
 * decompressed once into scratch (reset first; at most max_decompressed
 * bytes); an uncompressed one is read in place.  Nothing is allocated per
 * record.
 */
struct kp_record_iter {
	struct kp_batch_header h;
	struct kp_reader r;
	int32_t index;
};

/* 0, or a negative kp_batch_status. */
int kp_record_iter_init(struct kp_record_iter *it, const uint8_t *batch,
			size_t len, struct kp_wbuf *scratch,
			size_t max_decompressed);
/*
 * 1 and the next record, 0 at a clean end (exactly recordCount records
 * using exactly all bytes), or -1 on malformed data.
 */
int kp_record_iter_next(struct kp_record_iter *it, struct kp_record *rec);
/* Walk a record's headers: init a reader over rec->headers, call
 * header_count times; 0 or -1. */
int kp_record_header_next(struct kp_reader *r, struct kp_record_header *h);

/* --------------------------------------------------------- validation */

struct kp_batch_info {
	struct kp_batch_header h;
	/* Kafka's batch max timestamp: the largest record timestamp, never
	 * below KP_NO_TIMESTAMP (what the leader writes into a CreateTime
	 * batch's header, whatever the producer put there) */
	int64_t max_timestamp;
	/* smallest and largest record timestamp other than KP_NO_TIMESTAMP
	 * (for message.timestamp.difference.max.ms); ts_low > ts_high when
	 * no record has one */
	int64_t ts_low, ts_high;
	int32_t records;
	int32_t null_keys;	/* records without a key (compacted topics) */
};

/*
 * Validate a whole v2 batch from a producer as a Kafka 2.8 leader does:
 * size and magic, CRC, lastOffsetDelta + 1 == recordCount > 0, offset
 * deltas 0..n-1, well-formed records (decompressed when compressed), no
 * control batch, producerId >= 0 implies baseSequence >= 0.  Returns 0 or a
 * Kafka error code: CORRUPT_MESSAGE (2) for bad sizes, CRCs or
 * undecodable data, INVALID_RECORD (87) for rule violations,
 * UNSUPPORTED_COMPRESSION_TYPE (76) for an unknown codec.  An uncompressed
 * batch is walked in place by a dedicated loop (no reader, no struct
 * kp_record per record) that makes the iterator's checks in its order:
 * both paths give the same answer and the same info.
 */
kp_err_t kp_batch_validate(const uint8_t *batch, size_t len,
			   struct kp_wbuf *scratch, size_t max_decompressed,
			   struct kp_batch_info *info);

/*
 * Whether a stored batch or segment maximum timestamp can date its data
 * (time retention, segment.ms, the time index).  Kafka reads a negative
 * one as "none" and falls back to the file's modification time.  0 counts
 * as none too: librdkafka writes it as the header maximum of batches whose
 * records carry no timestamp, and logs written before the leader
 * recomputed that maximum from the records hold such headers; 1970 must
 * never make data look ancient.
 */
static inline bool kp_ts_known(int64_t ts)
{
	return ts > 0;
}

/*
 * A CreateTime batch whose header maximum is not kp_ts_known: its records
 * may have timestamps all the same (from a producer that wrote -1 there).
 * batch holds at least the first KP_BATCH_OFF_PRODUCER_ID bytes.
 */
bool kp_batch_max_timestamp_suspect(const uint8_t *batch);

/*
 * The maximum timestamp a whole stored v2 batch is dated by: its header's,
 * or its records' (kp_batch_record_max_timestamp) when the header is
 * suspect and the records can be read.
 */
int64_t kp_batch_stored_max_timestamp(const uint8_t *batch, size_t len,
				      struct kp_wbuf *scratch,
				      size_t max_decompressed);

/*
 * The largest timestamp of a v2 batch's records (KP_NO_TIMESTAMP when none
 * has one), read from the records rather than trusted from the header:
 * producers have written 0 or -1 there over records with other values.
 * 0, or a negative kp_batch_status (scratch as for kp_record_iter_init).
 */
int kp_batch_record_max_timestamp(const uint8_t *batch, size_t len,
				  struct kp_wbuf *scratch,
				  size_t max_decompressed, int64_t *max_ts);

/* ------------------------------------------------------------ building */

struct kp_record_in {
	kp_bytes key;		/* len -1: null */
	kp_bytes value;
	int64_t timestamp;
	const struct kp_record_header *headers;
	int32_t nheaders;
};

struct kp_batch_params {
	enum kp_codec codec;
	int64_t base_offset;
	int32_t leader_epoch;		/* -1 from producers */
	int64_t producer_id;		/* -1: none */
	int16_t producer_epoch;
	int32_t base_sequence;
	bool transactional;
	bool control;
	bool log_append_time;		/* timestamp type bit */
};

/* Default parameters: no codec, offset 0, epoch -1, no producer. */
void kp_batch_params_init(struct kp_batch_params *p);
/* Append a complete v2 batch of n >= 1 records to out; 0 or -1. */
int kp_batch_build(struct kp_wbuf *out, const struct kp_batch_params *p,
		   const struct kp_record_in *recs, int32_t n);

/*
 * The same one record at a time, with no array of records: begin writes
 * a blank header at the end of out; each add appends a record (offset
 * delta = the records before it; the first record's timestamp is the base
 * timestamp); end compresses (codec != none: the records wait in raw,
 * reset by begin) and fills the header and CRC.  end returns 0, or -1 with
 * out back as it was (no record, a codec or memory failure); abort puts
 * out back without finishing.
 */
struct kp_batch_writer {
	struct kp_wbuf *out;
	struct kp_wbuf *raw;
	struct kp_batch_params p;
	size_t start;
	int32_t n;
	int64_t base_ts, max_ts;
};

void kp_batch_writer_begin(struct kp_batch_writer *bw, struct kp_wbuf *out,
			   struct kp_wbuf *raw, const struct kp_batch_params *p);
int kp_batch_writer_add(struct kp_batch_writer *bw, const struct kp_record_in *r);
int kp_batch_writer_end(struct kp_batch_writer *bw);
void kp_batch_writer_abort(struct kp_batch_writer *bw);

/*
 * Rewrite one v2 batch keeping only the records keep() accepts, as Kafka's
 * log cleaner does: base offset, lastOffsetDelta, timestamps, producer
 * fields and attributes unchanged (so offsets and producer state read the
 * same), the kept records copied byte for byte (their deltas stay valid)
 * and recompressed with the batch's codec, length, record count and CRC
 * recomputed.  A batch that keeps everything is copied unchanged.  Appends
 * to out; returns the number of records kept (0: nothing appended) or -1
 * on malformed input or an encoding failure (out unchanged).  scratch as
 * for kp_record_iter_init.
 */
typedef bool (*kp_record_keep_fn)(const struct kp_record *rec, void *arg);
int kp_batch_filter(const uint8_t *batch, size_t len, struct kp_wbuf *scratch,
		    size_t max_decompressed, kp_record_keep_fn keep, void *arg,
		    struct kp_wbuf *out);

/* ------------------------------------------------- legacy (magic 0/1) */

struct kp_legacy_msg {
	int64_t offset;
	int8_t magic;
	int8_t attributes;
	int64_t timestamp;	/* -1 for magic 0 */
	kp_bytes key;
	kp_bytes value;
};

/*
 * Iterates a message set of magic 0/1 messages, descending one level into
 * compressed wrapper messages (inner offsets made absolute as Kafka does for
 * magic 1).  The CRC-32 of every message is checked.
 */
struct kp_legacy_iter {
	struct kp_reader outer;
	struct kp_reader inner;
	bool in_wrapper;
	int64_t wrapper_offset;
	int64_t inner_base;	/* absolute offset of relative offset 0 */
	int8_t wrapper_magic;
	int64_t wrapper_timestamp;
	bool wrapper_log_append;
	struct kp_wbuf *scratch;
	size_t max_decompressed;
};

void kp_legacy_iter_init(struct kp_legacy_iter *it, const uint8_t *set,
			 size_t len, struct kp_wbuf *scratch,
			 size_t max_decompressed);
/* 1 and a message, 0 at the end, -1 on malformed data or a bad CRC. */
int kp_legacy_iter_next(struct kp_legacy_iter *it, struct kp_legacy_msg *m);

/* ----------------------------------- Produce v0-2: legacy sets to v2 */

/* What kp_message_set_analyze found. */
struct kp_set_info {
	size_t valid;		/* bytes of whole entries */
	int32_t entries;	/* magic 0/1 messages or v2 batches */
	int8_t magic;		/* the first entry's; -1 when there is none */
	enum kp_codec codec;	/* the last compressed entry's, or none */
};

/*
 * The first pass a Kafka 2.8 leader makes over a Produce request's
 * records (its batch iterator, then Log.analyzeAndValidateRecords), which
 * Produce v0-2 need since they may carry magic 0, 1 or 2: entries follow
 * one another as offset i64, size i32 (>= 14) and a magic 0..2, else
 * CORRUPT_MESSAGE; a partial entry at the end is dropped (info->valid
 * stops before it); every whole entry must be at most max_entry_bytes
 * including its 12-byte offset and size (MESSAGE_TOO_LARGE) and pass its
 * CRC (CRC-32 for magic 0/1, CRC-32C for v2: CORRUPT_MESSAGE); codec ids
 * above 4 are UNSUPPORTED_COMPRESSION_TYPE.  Returns 0 or the error.
 */
kp_err_t kp_message_set_analyze(const uint8_t *set, size_t len,
			        int64_t max_entry_bytes, struct kp_set_info *info);

/* The topic's settings LogValidator applies to each record. */
struct kp_legacy_rules {
	int64_t now_ms;			/* the broker's clock */
	int64_t timestamp_diff_max_ms;	/* message.timestamp.difference.max.ms */
	bool log_append_time;		/* message.timestamp.type=LogAppendTime */
	bool compacted;			/* cleanup.policy has compact */
};

/*
 * Validate an analyzed set of magic 0/1 messages (info->magic 0 or 1) as
 * Kafka 2.8's LogValidator does for a log in message format v2, and
 * convert it into one v2 batch appended to out: keys, values (null kept)
 * and timestamps (magic 0: -1) as sent, no headers, offsets 0..n-1 for the
 * leader to place, producer fields none, the producer's codec
 * (compression.type=producer).
 *
 * Uncompressed sets: every message is a record; each must have the first
 * one's magic (INVALID_RECORD).  A compressed wrapper must be the only
 * entry (INVALID_RECORD), not zstd, with a value (INVALID_RECORD); its
 * value inflates (magic 0 lz4: the old header checksum is accepted) to
 * inner messages that must exist (INVALID_RECORD), have a size >= 14 and
 * good CRCs (CORRUPT_MESSAGE), not be compressed (INVALID_RECORD) and have
 * the wrapper's magic (INVALID_RECORD); a magic 1 wrapper's offset is 0 or
 * at least the last inner offset (INVALID_RECORD); inner magic 1
 * timestamps are the wrapper's when it says LogAppendTime.  Each record:
 * a compacted topic needs its key (INVALID_RECORD); with CreateTime a
 * timestamp other than -1 farther than timestamp_diff_max_ms from now, or
 * a producer claiming LogAppendTime, is INVALID_TIMESTAMP.  Record errors
 * of a wrapper are collected: INVALID_TIMESTAMP when any is, else
 * INVALID_RECORD.  Malformed key or value lengths and undecodable
 * compressed data are CORRUPT_MESSAGE.
 *
 * scratch receives the inflated inner set, raw the v2 records before
 * compression; both are reused.  Returns 0 (*records set) or the error
 * (out unchanged).
 */
kp_err_t kp_legacy_to_v2(const uint8_t *set, const struct kp_set_info *info,
			 const struct kp_legacy_rules *rules,
			 struct kp_wbuf *scratch, struct kp_wbuf *raw,
			 size_t max_decompressed, struct kp_wbuf *out,
			 int32_t *records);

/* ------------------------------- Fetch v0-3: v2 down to magic 0/1 */

#define KP_DOWNCONV_ZSTD (-2)

/*
 * Down-convert one whole v2 batch for a consumer that fetched with an old
 * version (Fetch v0-1: magic 0, v2-3: magic 1), as Kafka 2.8's
 * RecordsUtil.downConvert: a control batch gives nothing; an uncompressed
 * batch a message per record at or after first_offset; a compressed one a
 * single wrapper message (offset of its last record, no key, the batch's
 * codec; magic 1: inner offsets relative to its first record, the largest
 * record timestamp) holding every record.  Headers are dropped; magic 1
 * keeps timestamps, LogAppendTime batches give the batch's time and the
 * attribute bit to every message; magic 0 has no timestamps.  Magic 0 lz4
 * frames get Kafka 0.8's header checksum.  Appends to out; scratch
 * (inflated records) and raw (an inner set) are reused.  Returns the
 * records written (0: nothing), KP_DOWNCONV_ZSTD (zstd has no magic 0/1
 * form: nothing written), or -1 on a malformed batch (out unchanged).
 */
int kp_batch_down_convert(const uint8_t *batch, size_t len, int8_t to_magic,
			  int64_t first_offset, struct kp_wbuf *scratch,
			  struct kp_wbuf *raw, size_t max_decompressed,
			  struct kp_wbuf *out);

/* The longest prefix of whole entries (any magic) of set within cap bytes. */
size_t kp_message_set_prefix(const uint8_t *set, size_t len, size_t cap);

#endif /* KP_RECORDS_H */
