/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_records.c - record batch v2 parsing, iteration, validation and
 * building, and legacy (magic 0/1) message sets: iteration, conversion to
 * v2 for Produce v0-2 and from v2 for Fetch v0-3; see kp_records.h.
 *
 * Everything reads from (pointer, length) pairs and checks each length
 * against what remains before using it; a record must consume exactly the
 * length it declares.  Nothing is allocated per record: compressed data is
 * inflated once into a caller-owned, reusable scratch buffer.
 */
#include "config.h"

#include <string.h>
#include <zlib.h>

#include "kp_compress.h"
#include "kp_crc32c.h"
#include "kp_errors.h"
#include "kp_records.h"

/* Smallest batchLength: the header after the 12-byte log overhead. */
#define MIN_BATCH_LENGTH (KP_BATCH_HEADER_SIZE - KP_LOG_OVERHEAD)

int kp_batch_size(const uint8_t *p, size_t len, size_t *size)
{
	int32_t blen;

	if (len < KP_LOG_OVERHEAD)
		return KP_BATCH_SHORT;
	blen = (int32_t)kp_be32(p + KP_BATCH_OFF_LENGTH);
	/* A legacy message is at least 14 bytes after the overhead. */
	if (blen < 14)
		return KP_BATCH_CORRUPT;
	*size = (size_t)blen + KP_LOG_OVERHEAD;
	if (len < *size)
		return KP_BATCH_SHORT;
	return KP_BATCH_OK;
}

int kp_batch_header_parse(const uint8_t *p, size_t len,
			  struct kp_batch_header *h)
{
	if (len < KP_BATCH_HEADER_SIZE)
		return KP_BATCH_SHORT;
	h->base_offset = (int64_t)kp_be64(p + KP_BATCH_OFF_BASE_OFFSET);
	h->batch_length = (int32_t)kp_be32(p + KP_BATCH_OFF_LENGTH);
	h->partition_leader_epoch = (int32_t)kp_be32(p + KP_BATCH_OFF_LEADER_EPOCH);
	h->magic = (int8_t)p[KP_BATCH_OFF_MAGIC];
	h->crc = kp_be32(p + KP_BATCH_OFF_CRC);
	h->attributes = (int16_t)kp_be16(p + KP_BATCH_OFF_ATTRIBUTES);
	h->last_offset_delta = (int32_t)kp_be32(p + KP_BATCH_OFF_LAST_OFFSET_DELTA);
	h->base_timestamp = (int64_t)kp_be64(p + KP_BATCH_OFF_BASE_TIMESTAMP);
	h->max_timestamp = (int64_t)kp_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP);
	h->producer_id = (int64_t)kp_be64(p + KP_BATCH_OFF_PRODUCER_ID);
	h->producer_epoch = (int16_t)kp_be16(p + KP_BATCH_OFF_PRODUCER_EPOCH);
	h->base_sequence = (int32_t)kp_be32(p + KP_BATCH_OFF_BASE_SEQUENCE);
	h->record_count = (int32_t)kp_be32(p + KP_BATCH_OFF_RECORD_COUNT);
	if (h->magic != 2 || h->batch_length < MIN_BATCH_LENGTH)
		return KP_BATCH_CORRUPT;
	return KP_BATCH_OK;
}

int kp_batch_verify_crc(const uint8_t *batch, size_t len)
{
	uint32_t want;

	if (len < KP_BATCH_HEADER_SIZE)
		return KP_BATCH_SHORT;
	want = kp_be32(batch + KP_BATCH_OFF_CRC);
	if (kp_crc32c(0, batch + KP_BATCH_OFF_ATTRIBUTES,
		      len - KP_BATCH_OFF_ATTRIBUTES) != want)
		return KP_BATCH_BAD_CRC;
	return KP_BATCH_OK;
}

void kp_batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
	kp_put_be64(batch + KP_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void kp_batch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
	kp_put_be32(batch + KP_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

bool kp_batch_set_max_timestamp(uint8_t *batch, size_t len, int64_t ts,
				bool log_append_time)
{
	uint16_t attr = kp_be16(batch + KP_BATCH_OFF_ATTRIBUTES), nattr;

	nattr = log_append_time ? (uint16_t)(attr | KP_ATTR_LOG_APPEND_TIME)
				: (uint16_t)(attr & ~KP_ATTR_LOG_APPEND_TIME);
	/* as Kafka's setMaxTimestamp: a batch already right keeps its CRC */
	if (nattr == attr &&
	    (int64_t)kp_be64(batch + KP_BATCH_OFF_MAX_TIMESTAMP) == ts)
		return false;
	kp_put_be16(batch + KP_BATCH_OFF_ATTRIBUTES, nattr);
	kp_put_be64(batch + KP_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
	kp_put_be32(batch + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, batch + KP_BATCH_OFF_ATTRIBUTES,
			      len - KP_BATCH_OFF_ATTRIBUTES));
	return true;
}

int kp_batch_record_max_timestamp(const uint8_t *batch, size_t len,
				  struct kp_wbuf *scratch,
				  size_t max_decompressed, int64_t *max_ts)
{
	struct kp_record_iter it;
	struct kp_record rec;
	int rc = kp_record_iter_init(&it, batch, len, scratch, max_decompressed);

	if (rc != KP_BATCH_OK)
		return rc;
	*max_ts = KP_NO_TIMESTAMP;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1)
		if (rec.timestamp > *max_ts)
			*max_ts = rec.timestamp;
	return rc == 0 ? KP_BATCH_OK : KP_BATCH_CORRUPT;
}

bool kp_batch_max_timestamp_suspect(const uint8_t *batch)
{
	return !(kp_be16(batch + KP_BATCH_OFF_ATTRIBUTES) & KP_ATTR_LOG_APPEND_TIME) &&
	       !kp_ts_known((int64_t)kp_be64(batch + KP_BATCH_OFF_MAX_TIMESTAMP));
}

int64_t kp_batch_stored_max_timestamp(const uint8_t *batch, size_t len,
				      struct kp_wbuf *scratch,
				      size_t max_decompressed)
{
	int64_t ts = (int64_t)kp_be64(batch + KP_BATCH_OFF_MAX_TIMESTAMP), rec;

	if (kp_batch_max_timestamp_suspect(batch) &&
	    kp_batch_record_max_timestamp(batch, len, scratch, max_decompressed,
					  &rec) == KP_BATCH_OK)
		return rec;
	return ts;
}

/* -------------------------------------------------------------- records */

int kp_record_iter_init(struct kp_record_iter *it, const uint8_t *batch,
			size_t len, struct kp_wbuf *scratch,
			size_t max_decompressed)
{
	int rc = kp_batch_header_parse(batch, len, &it->h);
	size_t size = (size_t)it->h.batch_length + KP_LOG_OVERHEAD;
	int codec;

	if (rc != KP_BATCH_OK)
		return rc;
	if (len < size)
		return KP_BATCH_SHORT;
	it->index = 0;
	codec = it->h.attributes & KP_ATTR_CODEC_MASK;
	if (codec == KP_CODEC_NONE) {
		kp_reader_init(&it->r, batch + KP_BATCH_HEADER_SIZE,
			       size - KP_BATCH_HEADER_SIZE);
		return KP_BATCH_OK;
	}
	if (scratch == NULL || codec > KP_CODEC_ZSTD)
		return KP_BATCH_CORRUPT;
	kp_wbuf_reset(scratch);
	if (kp_decompress((enum kp_codec)codec, batch + KP_BATCH_HEADER_SIZE,
			  size - KP_BATCH_HEADER_SIZE, max_decompressed,
			  scratch) != 0)
		return KP_BATCH_CORRUPT;
	kp_reader_init(&it->r, scratch->data, scratch->len);
	return KP_BATCH_OK;
}

static int read_nullable(struct kp_reader *r, kp_bytes *b)
{
	int32_t n;
	const uint8_t *p;

	if (kp_read_varint(r, &n))
		return -1;
	if (n < -1)
		return -1;
	if (n == -1) {
		*b = KP_BYTES_NULL;
		return 0;
	}
	if (kp_read_raw(r, (size_t)n, &p))
		return -1;
	*b = (kp_bytes){ p, n };
	return 0;
}

int kp_record_header_next(struct kp_reader *r, struct kp_record_header *h)
{
	int32_t n;
	const uint8_t *p;

	if (kp_read_varint(r, &n) || n < 0 || kp_read_raw(r, (size_t)n, &p))
		return -1;
	h->key = (kp_str){ (const char *)p, n };
	return read_nullable(r, &h->value);
}

int kp_record_iter_next(struct kp_record_iter *it, struct kp_record *rec)
{
	struct kp_reader rr, hr;
	int32_t len, odelta, i;
	int64_t tdelta;
	const uint8_t *body;

	if (it->index >= it->h.record_count)
		return kp_reader_left(&it->r) == 0 && it->r.err == 0 ? 0 : -1;
	if (kp_read_varint(&it->r, &len) || len < 0 ||
	    kp_read_raw(&it->r, (size_t)len, &body))
		return -1;
	kp_reader_init(&rr, body, (size_t)len);
	if (kp_read_i8(&rr, &rec->attributes) ||
	    kp_read_varlong(&rr, &tdelta) || kp_read_varint(&rr, &odelta) ||
	    read_nullable(&rr, &rec->key) || read_nullable(&rr, &rec->value) ||
	    kp_read_varint(&rr, &rec->header_count) || rec->header_count < 0)
		return -1;
	rec->headers = rr.p;
	rec->headers_len = kp_reader_left(&rr);
	/* Walk the headers once so a bad one fails here, not in the caller. */
	kp_reader_init(&hr, rec->headers, rec->headers_len);
	for (i = 0; i < rec->header_count; i++) {
		struct kp_record_header h;

		if (kp_record_header_next(&hr, &h))
			return -1;
	}
	if (kp_reader_left(&hr) != 0)
		return -1;
	/* Wrapping, as Java's longs: a hostile batch is not undefined. */
	rec->offset = (int64_t)((uint64_t)it->h.base_offset +
				(uint64_t)(int64_t)odelta);
	if (it->h.attributes & KP_ATTR_LOG_APPEND_TIME)
		rec->timestamp = it->h.max_timestamp;
	else
		rec->timestamp = (int64_t)((uint64_t)it->h.base_timestamp +
					   (uint64_t)(int64_t)tdelta);
	it->index++;
	return 1;
}

/* ----------------------------------------------------------- validation */

/*
 * The fast walk over an uncompressed batch's records, for the produce path
 * at small records: the checks kp_record_iter_next() and the loop of
 * kp_batch_validate() make, in the same order and with the same outcome,
 * on two bare pointers instead of readers and struct kp_record (a record of
 * 100 bytes cost more to walk through those than to checksum).  Varints
 * follow kp_read_uvarint()'s rules: at most 5 bytes (10 for a varlong),
 * the last carrying only the bits that fit; one-byte values first.
 */
static inline int walk_uvarint(const uint8_t **pp, const uint8_t *end,
			       uint32_t *v)
{
	const uint8_t *p = *pp;
	uint32_t x = 0;
	unsigned shift;

	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	for (shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (p >= end)
			return -1;
		b = *p++;
		if (shift == 28 && b > 0x0f)
			return -1;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

static inline int walk_varint(const uint8_t **pp, const uint8_t *end,
			      int32_t *v)
{
	uint32_t u;

	if (walk_uvarint(pp, end, &u))
		return -1;
	*v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

static inline int walk_varlong(const uint8_t **pp, const uint8_t *end,
			       int64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;
	unsigned shift;

	if (p < end && *p < 0x80) {
		x = *p;
		*pp = p + 1;
		*v = (int64_t)((x >> 1) ^ (~(x & 1) + 1));
		return 0;
	}
	for (shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (p >= end)
			return -1;
		b = *p++;
		if (shift == 63 && b > 1)
			return -1;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = (int64_t)((x >> 1) ^ (~(x & 1) + 1));
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* A nullable key or value (or header value): length -1 or n >= 0 and n
 * bytes; *is_null says which. */
static inline int walk_nullable(const uint8_t **pp, const uint8_t *end,
				bool *is_null)
{
	int32_t n;

	if (walk_varint(pp, end, &n) || n < -1)
		return -1;
	*is_null = n == -1;
	if (n > 0) {
		if ((size_t)(end - *pp) < (size_t)n)
			return -1;
		*pp += n;
	}
	return 0;
}

/*
 * Walk the records of an uncompressed batch (h parsed, [p, end) the bytes
 * after the header): every record's length within what remains, its
 * fields exactly filling that length, headers well formed, offset deltas
 * 0..n-1, exactly recordCount records and nothing after them; fills the
 * timestamp and key fields of info.  0, or the Kafka error
 * kp_batch_validate() gave for the first bad record through the iterator:
 * CORRUPT_MESSAGE for malformed data, INVALID_RECORD for an offset delta
 * out of order (checked after the record parsed).
 */
static kp_err_t walk_plain(const uint8_t *p, const uint8_t *end,
			   struct kp_batch_info *info)
{
	const struct kp_batch_header *h = &info->h;
	bool append_time = (h->attributes & KP_ATTR_LOG_APPEND_TIME) != 0;
	int64_t max_ts = KP_NO_TIMESTAMP, lo = INT64_MAX, hi = INT64_MIN;
	int32_t i, null_keys = 0;

	for (i = 0; i < h->record_count; i++) {
		const uint8_t *r, *rend;
		int32_t len, odelta, nh;
		int64_t tdelta, ts;
		bool null_key, null_value;

		if (walk_varint(&p, end, &len) || len < 0 ||
		    (size_t)(end - p) < (size_t)len)
			return KP_ERR_CORRUPT_MESSAGE;
		r = p;
		rend = p + len;
		p = rend;
		/* attributes (int8), timestampDelta, offsetDelta, key, value,
		 * header count */
		if (r >= rend)
			return KP_ERR_CORRUPT_MESSAGE;
		r++;
		if (walk_varlong(&r, rend, &tdelta) ||
		    walk_varint(&r, rend, &odelta) ||
		    walk_nullable(&r, rend, &null_key) ||
		    walk_nullable(&r, rend, &null_value) ||
		    walk_varint(&r, rend, &nh) || nh < 0)
			return KP_ERR_CORRUPT_MESSAGE;
		for (int32_t k = 0; k < nh; k++) {
			int32_t klen;

			if (walk_varint(&r, rend, &klen) || klen < 0 ||
			    (size_t)(rend - r) < (size_t)klen)
				return KP_ERR_CORRUPT_MESSAGE;
			r += klen;
			if (walk_nullable(&r, rend, &null_value))
				return KP_ERR_CORRUPT_MESSAGE;
		}
		if (r != rend)
			return KP_ERR_CORRUPT_MESSAGE;
		/* offset = baseOffset + delta wraps as Java's longs: the
		 * record's place in the batch is the delta itself */
		if (odelta != i)
			return KP_ERR_INVALID_RECORD;
		ts = append_time ? h->max_timestamp
				 : (int64_t)((uint64_t)h->base_timestamp +
					     (uint64_t)tdelta);
		if (ts > max_ts)
			max_ts = ts;
		if (ts != KP_NO_TIMESTAMP) {
			if (ts < lo)
				lo = ts;
			if (ts > hi)
				hi = ts;
		}
		null_keys += null_key;
	}
	if (p != end)
		return KP_ERR_CORRUPT_MESSAGE;
	info->max_timestamp = max_ts;
	info->ts_low = lo;
	info->ts_high = hi;
	info->records = i;
	info->null_keys = null_keys;
	return 0;
}

kp_err_t kp_batch_validate(const uint8_t *batch, size_t len,
			   struct kp_wbuf *scratch, size_t max_decompressed,
			   struct kp_batch_info *info)
{
	struct kp_record_iter it;
	struct kp_record rec;
	size_t size;
	int rc, codec;

	if (kp_batch_size(batch, len, &size) != KP_BATCH_OK || size != len)
		return KP_ERR_CORRUPT_MESSAGE;
	if (len < KP_BATCH_HEADER_SIZE || batch[KP_BATCH_OFF_MAGIC] != 2)
		return KP_ERR_INVALID_RECORD;
	if (kp_batch_header_parse(batch, len, &info->h) != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	if (kp_batch_verify_crc(batch, len) != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	codec = info->h.attributes & KP_ATTR_CODEC_MASK;
	if (codec > KP_CODEC_ZSTD)
		return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (info->h.record_count <= 0 ||
	    (int64_t)info->h.last_offset_delta + 1 != info->h.record_count)
		return KP_ERR_INVALID_RECORD;
	if (info->h.attributes & KP_ATTR_CONTROL)
		return KP_ERR_INVALID_RECORD;
	if (info->h.producer_id >= 0 && info->h.base_sequence < 0)
		return KP_ERR_INVALID_RECORD;
	if (codec == KP_CODEC_NONE)
		return walk_plain(batch + KP_BATCH_HEADER_SIZE, batch + len, info);
	rc = kp_record_iter_init(&it, batch, len, scratch, max_decompressed);
	if (rc != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	info->max_timestamp = KP_NO_TIMESTAMP;
	info->ts_low = INT64_MAX;
	info->ts_high = INT64_MIN;
	info->records = 0;
	info->null_keys = 0;
	while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
		if (rec.offset - info->h.base_offset != info->records)
			return KP_ERR_INVALID_RECORD;
		if (rec.timestamp > info->max_timestamp)
			info->max_timestamp = rec.timestamp;
		if (rec.timestamp != KP_NO_TIMESTAMP) {
			if (rec.timestamp < info->ts_low)
				info->ts_low = rec.timestamp;
			if (rec.timestamp > info->ts_high)
				info->ts_high = rec.timestamp;
		}
		if (rec.key.len < 0)
			info->null_keys++;
		info->records++;
	}
	if (rc != 0)
		return KP_ERR_CORRUPT_MESSAGE;
	return 0;
}

/* ------------------------------------------------------------- building */

void kp_batch_params_init(struct kp_batch_params *p)
{
	memset(p, 0, sizeof(*p));
	p->codec = KP_CODEC_NONE;
	p->leader_epoch = -1;
	p->producer_id = -1;
	p->producer_epoch = -1;
	p->base_sequence = -1;
}

static size_t nullable_size(kp_bytes b)
{
	if (b.len < 0)
		return kp_varint_size(-1);
	return kp_varint_size(b.len) + (size_t)b.len;
}

static void write_nullable(struct kp_wbuf *w, kp_bytes b)
{
	if (b.len < 0) {
		kp_write_varint(w, -1);
		return;
	}
	kp_write_varint(w, b.len);
	kp_write_raw(w, b.ptr, (size_t)b.len);
}

/* One record with offset delta i, its timestamp relative to base_ts. */
static void write_record(struct kp_wbuf *w, const struct kp_record_in *r,
			 int32_t i, int64_t base_ts)
{
	/* wrapping, as Java's longs: a hostile timestamp is not undefined */
	int64_t tdelta = (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts);
	size_t body = 1 + kp_varlong_size(tdelta) + kp_varint_size(i) +
		      nullable_size(r->key) + nullable_size(r->value) +
		      kp_varint_size(r->nheaders);
	int32_t j;

	for (j = 0; j < r->nheaders; j++) {
		const struct kp_record_header *h = &r->headers[j];

		body += kp_varint_size(h->key.len) + (size_t)h->key.len +
			nullable_size(h->value);
	}
	kp_write_varint(w, (int32_t)body);
	kp_write_i8(w, 0);
	kp_write_varlong(w, tdelta);
	kp_write_varint(w, i);
	write_nullable(w, r->key);
	write_nullable(w, r->value);
	kp_write_varint(w, r->nheaders);
	for (j = 0; j < r->nheaders; j++) {
		const struct kp_record_header *h = &r->headers[j];

		kp_write_varint(w, h->key.len);
		kp_write_raw(w, h->key.ptr, (size_t)h->key.len);
		write_nullable(w, h->value);
	}
}

void kp_batch_writer_begin(struct kp_batch_writer *bw, struct kp_wbuf *out,
			   struct kp_wbuf *raw, const struct kp_batch_params *p)
{
	uint8_t *h;

	bw->out = out;
	bw->raw = raw;
	bw->p = *p;
	bw->start = out->len;
	bw->n = 0;
	bw->base_ts = KP_NO_TIMESTAMP;
	bw->max_ts = KP_NO_TIMESTAMP;
	h = kp_wbuf_reserve(out, KP_BATCH_HEADER_SIZE);
	if (h != NULL) {
		memset(h, 0, KP_BATCH_HEADER_SIZE);
		out->len += KP_BATCH_HEADER_SIZE;
	}
	if (p->codec != KP_CODEC_NONE && raw != NULL)
		kp_wbuf_reset(raw);
}

int kp_batch_writer_add(struct kp_batch_writer *bw, const struct kp_record_in *r)
{
	struct kp_wbuf *w = bw->p.codec == KP_CODEC_NONE ? bw->out : bw->raw;

	if (w == NULL || bw->n == INT32_MAX)
		return -1;
	if (bw->n == 0)
		bw->base_ts = r->timestamp;
	/* from KP_NO_TIMESTAMP, as Kafka's builder */
	if (r->timestamp > bw->max_ts)
		bw->max_ts = r->timestamp;
	write_record(w, r, bw->n, bw->base_ts);
	bw->n++;
	return w->err ? -1 : 0;
}

void kp_batch_writer_abort(struct kp_batch_writer *bw)
{
	if (bw->out->len > bw->start)
		bw->out->len = bw->start;
}

int kp_batch_writer_end(struct kp_batch_writer *bw)
{
	const struct kp_batch_params *p = &bw->p;
	struct kp_wbuf *out = bw->out;
	size_t start = bw->start;
	int16_t attr;
	uint8_t *h;

	if (bw->n <= 0 || p->codec > KP_CODEC_ZSTD || out->err ||
	    (p->codec != KP_CODEC_NONE &&
	     (bw->raw == NULL || bw->raw->err ||
	      kp_compress(p->codec, bw->raw->data, bw->raw->len, out) != 0)) ||
	    out->err || out->len - start - KP_LOG_OVERHEAD > INT32_MAX) {
		kp_batch_writer_abort(bw);
		return -1;
	}
	attr = (int16_t)p->codec;
	if (p->log_append_time)
		attr |= KP_ATTR_LOG_APPEND_TIME;
	if (p->transactional)
		attr |= KP_ATTR_TRANSACTIONAL;
	if (p->control)
		attr |= KP_ATTR_CONTROL;
	h = out->data + start;
	kp_put_be64(h + KP_BATCH_OFF_BASE_OFFSET, (uint64_t)p->base_offset);
	kp_put_be32(h + KP_BATCH_OFF_LENGTH,
		    (uint32_t)(out->len - start - KP_LOG_OVERHEAD));
	kp_put_be32(h + KP_BATCH_OFF_LEADER_EPOCH, (uint32_t)p->leader_epoch);
	h[KP_BATCH_OFF_MAGIC] = 2;
	kp_put_be16(h + KP_BATCH_OFF_ATTRIBUTES, (uint16_t)attr);
	kp_put_be32(h + KP_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(bw->n - 1));
	kp_put_be64(h + KP_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)bw->base_ts);
	kp_put_be64(h + KP_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)bw->max_ts);
	kp_put_be64(h + KP_BATCH_OFF_PRODUCER_ID, (uint64_t)p->producer_id);
	kp_put_be16(h + KP_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)p->producer_epoch);
	kp_put_be32(h + KP_BATCH_OFF_BASE_SEQUENCE, (uint32_t)p->base_sequence);
	kp_put_be32(h + KP_BATCH_OFF_RECORD_COUNT, (uint32_t)bw->n);
	kp_put_be32(h + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, h + KP_BATCH_OFF_ATTRIBUTES,
			      out->len - start - KP_BATCH_OFF_ATTRIBUTES));
	return 0;
}

int kp_batch_build(struct kp_wbuf *out, const struct kp_batch_params *p,
		   const struct kp_record_in *recs, int32_t n)
{
	struct kp_batch_writer bw;
	struct kp_wbuf raw;
	int rc = 0;

	if (n <= 0 || p->codec > KP_CODEC_ZSTD)
		return -1;
	kp_wbuf_init(&raw);
	kp_batch_writer_begin(&bw, out, &raw, p);
	for (int32_t i = 0; i < n && rc == 0; i++)
		rc = kp_batch_writer_add(&bw, &recs[i]);
	if (rc == 0)
		rc = kp_batch_writer_end(&bw);
	else
		kp_batch_writer_abort(&bw);
	kp_wbuf_free(&raw);
	return rc;
}

int kp_batch_filter(const uint8_t *batch, size_t len, struct kp_wbuf *scratch,
		    size_t max_decompressed, kp_record_keep_fn keep, void *arg,
		    struct kp_wbuf *out)
{
	struct kp_record_iter it;
	struct kp_record rec;
	struct kp_wbuf raw;
	size_t size, start = out->len;
	int32_t kept = 0, total = 0;
	int codec, rc;
	uint8_t *h;

	if (kp_record_iter_init(&it, batch, len, scratch, max_decompressed) != KP_BATCH_OK)
		return -1;
	size = (size_t)it.h.batch_length + KP_LOG_OVERHEAD;
	codec = it.h.attributes & KP_ATTR_CODEC_MASK;
	kp_wbuf_init(&raw);
	for (;;) {
		const uint8_t *from = it.r.p;

		rc = kp_record_iter_next(&it, &rec);
		if (rc <= 0)
			break;
		total++;
		if (keep(&rec, arg)) {
			kp_write_raw(&raw, from, (size_t)(it.r.p - from));
			kept++;
		}
	}
	if (rc < 0 || raw.err) {
		kp_wbuf_free(&raw);
		return -1;
	}
	if (kept == total) {
		kp_wbuf_free(&raw);
		kp_write_raw(out, batch, size);
		return out->err ? -1 : kept;
	}
	if (kept == 0) {
		kp_wbuf_free(&raw);
		return 0;
	}
	kp_write_raw(out, batch, KP_BATCH_HEADER_SIZE);
	if (codec == KP_CODEC_NONE)
		kp_write_raw(out, raw.data, raw.len);
	else
		rc = kp_compress((enum kp_codec)codec, raw.data, raw.len, out);
	kp_wbuf_free(&raw);
	if (rc != 0 || out->err) {
		out->len = start;
		return -1;
	}
	h = out->data + start;
	kp_put_be32(h + KP_BATCH_OFF_LENGTH,
		    (uint32_t)(out->len - start - KP_LOG_OVERHEAD));
	kp_put_be32(h + KP_BATCH_OFF_RECORD_COUNT, (uint32_t)kept);
	kp_put_be32(h + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, h + KP_BATCH_OFF_ATTRIBUTES,
			      out->len - start - KP_BATCH_OFF_ATTRIBUTES));
	return kept;
}

/* -------------------------------------------------------------- legacy */

/*
 * A legacy message: offset i64, size i32 (bytes after it), crc u32
 * (CRC-32 of everything after it), magic i8, attributes i8, timestamp i64
 * (magic 1 only), key and value as int32-length bytes (-1: null).
 */
#define LEGACY_OVERHEAD_V0 14	/* crc to value length, empty key and value */
#define LEGACY_OVERHEAD_V1 22	/* and the timestamp */
#define LEGACY_OFF_MAGIC 16	/* from the start of the entry */
#define LEGACY_OFF_ATTRIBUTES 17
#define LEGACY_ATTR_LOG_APPEND_TIME 0x08

/*
 * The body (size bytes after the size field) of a magic 0/1 message:
 * structure only, the CRC is the caller's.  0, or -1 when too short, of
 * another magic, or when the key and value do not use exactly its size.
 */
static int legacy_parse(const uint8_t *body, size_t size, struct kp_legacy_msg *m)
{
	struct kp_reader b;
	uint32_t crc;

	kp_reader_init(&b, body, size);
	if (kp_read_u32(&b, &crc) || kp_read_i8(&b, &m->magic) ||
	    kp_read_i8(&b, &m->attributes))
		return -1;
	if (m->magic != 0 && m->magic != 1)
		return -1;
	m->timestamp = -1;
	if (m->magic == 1 && kp_read_i64(&b, &m->timestamp))
		return -1;
	if (kp_read_bytes(&b, false, true, &m->key) ||
	    kp_read_bytes(&b, false, true, &m->value) || kp_reader_left(&b) != 0)
		return -1;
	return 0;
}

static bool legacy_crc_ok(const uint8_t *body, size_t size)
{
	return size >= 4 && size <= INT32_MAX &&
	       crc32(0L, body + 4, (uInt)(size - 4)) == kp_be32(body);
}

void kp_legacy_iter_init(struct kp_legacy_iter *it, const uint8_t *set,
			 size_t len, struct kp_wbuf *scratch,
			 size_t max_decompressed)
{
	memset(it, 0, sizeof(*it));
	kp_reader_init(&it->outer, set, len);
	it->scratch = scratch;
	it->max_decompressed = max_decompressed;
}

/*
 * Read one message from r.  Returns 1, 0 at the end (no bytes or a
 * partial trailing message, which Kafka's readers skip), -1 when corrupt.
 */
static int legacy_read(struct kp_reader *r, struct kp_legacy_msg *m)
{
	int32_t size;
	const uint8_t *body;

	if (kp_reader_left(r) < KP_LOG_OVERHEAD)
		return 0;
	if (kp_read_i64(r, &m->offset) || kp_read_i32(r, &size))
		return -1;
	if (size < LEGACY_OVERHEAD_V0)
		return -1;
	if ((size_t)size > kp_reader_left(r))
		return 0;
	kp_read_raw(r, (size_t)size, &body);
	if (!legacy_crc_ok(body, (size_t)size) ||
	    legacy_parse(body, (size_t)size, m) != 0)
		return -1;
	return 1;
}

int kp_legacy_iter_next(struct kp_legacy_iter *it, struct kp_legacy_msg *m)
{
	int rc;

	for (;;) {
		if (it->in_wrapper) {
			rc = legacy_read(&it->inner, m);
			if (rc < 0)
				return -1;
			if (rc == 1) {
				if (m->attributes & KP_ATTR_CODEC_MASK)
					return -1;	/* nested compression */
				if (it->wrapper_magic == 1) {
					m->offset = (int64_t)((uint64_t)it->inner_base +
							      (uint64_t)m->offset);
					if (it->wrapper_log_append)
						m->timestamp = it->wrapper_timestamp;
				}
				return 1;
			}
			it->in_wrapper = false;
		}
		rc = legacy_read(&it->outer, m);
		if (rc <= 0)
			return rc;
		if ((m->attributes & KP_ATTR_CODEC_MASK) == 0)
			return 1;
		/* A wrapper: inflate its value and walk the inner set. */
		if (it->scratch == NULL || m->value.len < 0)
			return -1;
		kp_wbuf_reset(it->scratch);
		if (kp_decompress_legacy((enum kp_codec)(m->attributes & KP_ATTR_CODEC_MASK),
					 m->magic, m->value.ptr, (size_t)m->value.len,
					 it->max_decompressed, it->scratch) != 0)
			return -1;
		kp_reader_init(&it->inner, it->scratch->data, it->scratch->len);
		it->in_wrapper = true;
		it->wrapper_offset = m->offset;
		it->wrapper_magic = m->magic;
		it->wrapper_timestamp = m->timestamp;
		it->wrapper_log_append = (m->attributes & LEGACY_ATTR_LOG_APPEND_TIME) != 0;
		if (m->magic == 1) {
			/* Inner offsets are relative; the wrapper carries the
			 * last one's absolute offset. */
			struct kp_reader scan = it->inner;
			struct kp_legacy_msg x;
			int64_t last = -1;

			while ((rc = legacy_read(&scan, &x)) == 1)
				last = x.offset;
			if (rc < 0 || last < 0)
				return -1;
			it->inner_base = (int64_t)((uint64_t)it->wrapper_offset -
						   (uint64_t)last);
		}
	}
}

/* ----------------------------------------------- Produce v0-2 to v2 */

kp_err_t kp_message_set_analyze(const uint8_t *set, size_t len,
			        int64_t max_entry_bytes, struct kp_set_info *info)
{
	size_t pos = 0;

	memset(info, 0, sizeof(*info));
	info->magic = -1;
	info->codec = KP_CODEC_NONE;
	/* as Kafka's ByteBufferLogInputStream, then analyzeAndValidateRecords */
	while (len - pos >= KP_LOG_OVERHEAD) {
		const uint8_t *e = set + pos;
		int32_t size = (int32_t)kp_be32(e + KP_BATCH_OFF_LENGTH);
		int8_t magic;
		int codec;

		if (size < LEGACY_OVERHEAD_V0)
			return KP_ERR_CORRUPT_MESSAGE;
		if (len - pos < LEGACY_OFF_MAGIC + 1)
			break;
		magic = (int8_t)e[LEGACY_OFF_MAGIC];
		if (magic < 0 || magic > 2)
			return KP_ERR_CORRUPT_MESSAGE;
		if (len - pos - KP_LOG_OVERHEAD < (size_t)size)
			break;		/* a partial entry: trimmed */
		if ((int64_t)size + KP_LOG_OVERHEAD > max_entry_bytes)
			return KP_ERR_MESSAGE_TOO_LARGE;
		if (magic == 2) {
			if ((size_t)size + KP_LOG_OVERHEAD < KP_BATCH_HEADER_SIZE ||
			    kp_batch_verify_crc(e, (size_t)size + KP_LOG_OVERHEAD) != KP_BATCH_OK)
				return KP_ERR_CORRUPT_MESSAGE;
			codec = (int)(kp_be16(e + KP_BATCH_OFF_ATTRIBUTES) & KP_ATTR_CODEC_MASK);
		} else {
			if (!legacy_crc_ok(e + KP_LOG_OVERHEAD, (size_t)size))
				return KP_ERR_CORRUPT_MESSAGE;
			codec = e[LEGACY_OFF_ATTRIBUTES] & KP_ATTR_CODEC_MASK;
		}
		if (codec > KP_CODEC_ZSTD)
			return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
		if (codec != KP_CODEC_NONE)
			info->codec = (enum kp_codec)codec;
		if (info->entries == 0)
			info->magic = magic;
		info->entries++;
		pos += (size_t)size + KP_LOG_OVERHEAD;
	}
	info->valid = pos;
	return 0;
}

/* |a - b| without overflow. */
static uint64_t distance(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* LogValidator's validateKey, then validateTimestamp. */
static kp_err_t legacy_check(const struct kp_legacy_rules *ru, kp_bytes key,
			     int64_t ts, bool batch_log_append_time)
{
	if (ru->compacted && key.len < 0)
		return KP_ERR_INVALID_RECORD;
	if (!ru->log_append_time && ts != -1 && ru->timestamp_diff_max_ms >= 0 &&
	    distance(ts, ru->now_ms) > (uint64_t)ru->timestamp_diff_max_ms)
		return KP_ERR_INVALID_TIMESTAMP;
	if (batch_log_append_time)
		return KP_ERR_INVALID_TIMESTAMP;
	return 0;
}

/* Uncompressed messages: one record each (convertAndAssignOffsetsNonCompressed). */
static kp_err_t legacy_plain_to_v2(const uint8_t *set, const struct kp_set_info *info,
				   const struct kp_legacy_rules *ru,
				   struct kp_batch_writer *bw, int32_t *records)
{
	size_t pos = 0;

	while (pos < info->valid) {
		const uint8_t *e = set + pos;
		size_t size = kp_be32(e + KP_BATCH_OFF_LENGTH);
		struct kp_legacy_msg m;
		struct kp_record_in rec = { 0 };
		int16_t err;

		/* every batch has the first one's magic (validateBatch) */
		if ((int8_t)e[LEGACY_OFF_MAGIC] != info->magic)
			return KP_ERR_INVALID_RECORD;
		if (legacy_parse(e + KP_LOG_OVERHEAD, size, &m) != 0)
			return KP_ERR_CORRUPT_MESSAGE;
		err = legacy_check(ru, m.key, m.timestamp, m.magic == 1 &&
				   (m.attributes & LEGACY_ATTR_LOG_APPEND_TIME));
		if (err != 0)
			return err;
		rec.key = m.key;
		rec.value = m.value;
		rec.timestamp = m.timestamp;
		if (kp_batch_writer_add(bw, &rec) != 0)
			return KP_ERR_CORRUPT_MESSAGE;
		(*records)++;
		pos += KP_LOG_OVERHEAD + size;
	}
	return 0;
}

/*
 * One compressed wrapper (validateMessagesAndAssignOffsetsCompressed with
 * the legacy DeepRecordsIterator): its inner messages become the records.
 */
static kp_err_t legacy_wrapper_to_v2(const uint8_t *set, const struct kp_set_info *info,
				     const struct kp_legacy_rules *ru,
				     struct kp_wbuf *scratch, size_t max_decompressed,
				     struct kp_batch_writer *bw, int32_t *records)
{
	struct kp_legacy_msg w;
	struct kp_reader r;
	size_t size = kp_be32(set + KP_BATCH_OFF_LENGTH);
	int64_t wrapper_offset = (int64_t)kp_be64(set), last = 0;
	int32_t n = 0;
	bool lat, bad_record = false, bad_ts = false;
	int codec;

	if (info->entries != 1)
		return KP_ERR_INVALID_RECORD;	/* "more than one batch" */
	if (legacy_parse(set + KP_LOG_OVERHEAD, size, &w) != 0)
		return KP_ERR_CORRUPT_MESSAGE;
	codec = w.attributes & KP_ATTR_CODEC_MASK;
	lat = w.magic == 1 && (w.attributes & LEGACY_ATTR_LOG_APPEND_TIME);
	if (codec == KP_CODEC_ZSTD || w.value.len < 0)
		return KP_ERR_INVALID_RECORD;
	kp_wbuf_reset(scratch);
	if (kp_decompress_legacy((enum kp_codec)codec, w.magic, w.value.ptr,
				 (size_t)w.value.len, max_decompressed, scratch) != 0)
		return KP_ERR_CORRUPT_MESSAGE;
	/* first the whole inner set's framing, as Kafka reads it all first */
	kp_reader_init(&r, scratch->data, scratch->len);
	while (kp_reader_left(&r) >= KP_LOG_OVERHEAD) {
		int64_t off;
		int32_t isize;

		kp_read_i64(&r, &off);
		kp_read_i32(&r, &isize);
		if (isize < LEGACY_OVERHEAD_V0)
			return KP_ERR_CORRUPT_MESSAGE;
		if ((size_t)isize > kp_reader_left(&r))
			break;
		kp_skip(&r, (size_t)isize);
		last = off;
		n++;
	}
	if (n == 0)
		return KP_ERR_INVALID_RECORD;
	if (w.magic == 1 && wrapper_offset != 0 && wrapper_offset < last)
		return KP_ERR_INVALID_RECORD;
	kp_reader_init(&r, scratch->data, scratch->len);
	for (int32_t i = 0; i < n; i++) {
		const uint8_t *body;
		int64_t off;
		int32_t isize;
		struct kp_legacy_msg m;
		struct kp_record_in rec = { 0 };
		int16_t err;

		kp_read_i64(&r, &off);
		kp_read_i32(&r, &isize);
		kp_read_raw(&r, (size_t)isize, &body);
		if (body[5] & KP_ATTR_CODEC_MASK)
			return KP_ERR_INVALID_RECORD;	/* nested compression */
		if ((int8_t)body[4] != w.magic) {
			bad_record = true;	/* collected, as Kafka */
			continue;
		}
		if (!legacy_crc_ok(body, (size_t)isize))
			return KP_ERR_CORRUPT_MESSAGE;
		if (legacy_parse(body, (size_t)isize, &m) != 0)
			return KP_ERR_CORRUPT_MESSAGE;
		if (lat)
			m.timestamp = w.timestamp;
		err = legacy_check(ru, m.key, m.timestamp, lat);
		if (err == KP_ERR_INVALID_TIMESTAMP)
			bad_ts = true;
		else if (err != 0)
			bad_record = true;
		if (bad_ts || bad_record)
			continue;
		rec.key = m.key;
		rec.value = m.value;
		rec.timestamp = m.timestamp;
		if (kp_batch_writer_add(bw, &rec) != 0)
			return KP_ERR_CORRUPT_MESSAGE;
		(*records)++;
	}
	if (bad_ts)
		return KP_ERR_INVALID_TIMESTAMP;
	if (bad_record)
		return KP_ERR_INVALID_RECORD;
	return 0;
}

kp_err_t kp_legacy_to_v2(const uint8_t *set, const struct kp_set_info *info,
			 const struct kp_legacy_rules *rules,
			 struct kp_wbuf *scratch, struct kp_wbuf *raw,
			 size_t max_decompressed, struct kp_wbuf *out,
			 int32_t *records)
{
	struct kp_batch_writer bw;
	struct kp_batch_params bp;
	int16_t err;

	*records = 0;
	if (info->entries <= 0 || (info->magic != 0 && info->magic != 1))
		return KP_ERR_INVALID_RECORD;
	kp_batch_params_init(&bp);
	/* compression.type=producer: the producer's codec stays */
	bp.codec = info->codec;
	kp_batch_writer_begin(&bw, out, raw, &bp);
	if (info->codec == KP_CODEC_NONE)
		err = legacy_plain_to_v2(set, info, rules, &bw, records);
	else
		err = legacy_wrapper_to_v2(set, info, rules, scratch,
					   max_decompressed, &bw, records);
	if (err == 0 && kp_batch_writer_end(&bw) != 0)
		err = KP_ERR_CORRUPT_MESSAGE;
	if (err != 0) {
		kp_batch_writer_abort(&bw);
		*records = 0;
	}
	return err;
}

/* -------------------------------------------- Fetch v0-3 down-conversion */

/* Append a magic 0/1 message (offset as given: absolute or relative). */
static void legacy_write(struct kp_wbuf *w, int64_t offset, int8_t magic,
			 int8_t attr, int64_t ts, kp_bytes key, kp_bytes value)
{
	size_t size = (size_t)(magic ? LEGACY_OVERHEAD_V1 : LEGACY_OVERHEAD_V0) +
		      (size_t)(key.len > 0 ? key.len : 0) +
		      (size_t)(value.len > 0 ? value.len : 0);
	size_t at;

	if (size > INT32_MAX) {
		w->err = -1;
		return;
	}
	kp_write_i64(w, offset);
	kp_write_i32(w, (int32_t)size);
	at = w->len;
	kp_write_u32(w, 0);
	kp_write_i8(w, magic);
	kp_write_i8(w, attr);
	if (magic == 1)
		kp_write_i64(w, ts);
	kp_write_bytes(w, false, key);
	kp_write_bytes(w, false, value);
	if (w->err == 0 && !w->count_only)
		kp_put_be32(w->data + at, (uint32_t)crc32(0L, w->data + at + 4,
							   (uInt)(size - 4)));
}

int kp_batch_down_convert(const uint8_t *batch, size_t len, int8_t to_magic,
			  int64_t first_offset, struct kp_wbuf *scratch,
			  struct kp_wbuf *raw, size_t max_decompressed,
			  struct kp_wbuf *out)
{
	struct kp_batch_header h;
	struct kp_record_iter it;
	struct kp_record rec;
	size_t size, start = out->len, at, vat;
	int64_t base = 0, last = 0, max_ts = -1;
	int32_t n = 0;
	int8_t attr = 0, wattr;
	int codec, rc;

	if ((to_magic != 0 && to_magic != 1) ||
	    kp_batch_size(batch, len, &size) != KP_BATCH_OK || size != len ||
	    kp_batch_header_parse(batch, len, &h) != KP_BATCH_OK)
		return -1;
	/* RecordsUtil.downConvert: no control batches below magic 2 */
	if (h.attributes & KP_ATTR_CONTROL)
		return 0;
	codec = h.attributes & KP_ATTR_CODEC_MASK;
	if (codec == KP_CODEC_ZSTD)
		return KP_DOWNCONV_ZSTD;
	if (codec > KP_CODEC_ZSTD)
		return -1;
	if (to_magic == 1 && (h.attributes & KP_ATTR_LOG_APPEND_TIME))
		attr = LEGACY_ATTR_LOG_APPEND_TIME;
	if (kp_record_iter_init(&it, batch, len, scratch, max_decompressed) != KP_BATCH_OK)
		return -1;
	if (codec == KP_CODEC_NONE) {
		/* a message per record, those before the fetch offset left
		 * out (older librdkafka relies on it) */
		while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
			if (rec.offset < first_offset)
				continue;
			legacy_write(out, rec.offset, to_magic, attr, rec.timestamp,
				     rec.key, rec.value);
			n++;
		}
		if (rc < 0 || out->err) {
			out->len = start;
			return -1;
		}
		return n;
	}
	/* one wrapper holding every record; inner offsets relative to the
	 * first record for magic 1, absolute for magic 0 */
	kp_wbuf_reset(raw);
	while ((rc = kp_record_iter_next(&it, &rec)) == 1) {
		if (n == 0)
			base = rec.offset;
		last = rec.offset;
		if (rec.timestamp > max_ts)
			max_ts = rec.timestamp;
		legacy_write(raw, to_magic == 1 ? (int64_t)((uint64_t)rec.offset -
							     (uint64_t)base)
						: rec.offset,
			     to_magic, attr, rec.timestamp, rec.key, rec.value);
		n++;
	}
	if (rc < 0 || raw->err)
		return -1;
	if (n == 0)
		return 0;
	wattr = (int8_t)(attr | codec);
	kp_write_i64(out, last);
	kp_write_i32(out, 0);
	at = out->len;
	kp_write_u32(out, 0);
	kp_write_i8(out, to_magic);
	kp_write_i8(out, wattr);
	if (to_magic == 1)
		kp_write_i64(out, attr ? h.max_timestamp : max_ts);
	kp_write_i32(out, -1);		/* no key */
	kp_write_i32(out, 0);
	vat = out->len;
	if (out->err || kp_compress_legacy((enum kp_codec)codec, to_magic, raw->data,
					   raw->len, out) != 0 ||
	    out->err || out->len - at > INT32_MAX) {
		out->len = start;
		return -1;
	}
	kp_put_be32(out->data + vat - 4, (uint32_t)(out->len - vat));
	kp_put_be32(out->data + at - 4, (uint32_t)(out->len - at));
	kp_put_be32(out->data + at, (uint32_t)crc32(0L, out->data + at + 4,
						     (uInt)(out->len - at - 4)));
	return n;
}

size_t kp_message_set_prefix(const uint8_t *set, size_t len, size_t cap)
{
	size_t pos = 0, size;

	if (cap > len)
		cap = len;
	while (pos < cap && kp_batch_size(set + pos, len - pos, &size) == KP_BATCH_OK &&
	       size <= cap - pos)
		pos += size;
	return pos;
}
