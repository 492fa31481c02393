/*
 * kp_records.c - record batch v2 parsing, iteration, validation and
 * building, and legacy (magic 0/1) message-set iteration; see kp_records.h.
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

int16_t kp_batch_validate(const uint8_t *batch, size_t len,
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
	rc = kp_record_iter_init(&it, batch, len, scratch, max_decompressed);
	if (rc != KP_BATCH_OK)
		return KP_ERR_CORRUPT_MESSAGE;
	info->max_timestamp = KP_NO_TIMESTAMP;
	info->ts_low = INT64_MAX;
	info->ts_high = INT64_MIN;
	info->records = 0;
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

static void write_records(struct kp_wbuf *w, const struct kp_record_in *recs,
			  int32_t n, int64_t base_ts)
{
	int32_t i, j;

	for (i = 0; i < n; i++) {
		const struct kp_record_in *r = &recs[i];
		int64_t tdelta = r->timestamp - base_ts;
		size_t body = 1 + kp_varlong_size(tdelta) + kp_varint_size(i) +
			      nullable_size(r->key) + nullable_size(r->value) +
			      kp_varint_size(r->nheaders);

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
}

int kp_batch_build(struct kp_wbuf *out, const struct kp_batch_params *p,
		   const struct kp_record_in *recs, int32_t n)
{
	size_t start = out->len;
	int64_t base_ts, max_ts;
	int16_t attr;
	uint8_t *h;
	int32_t i;

	if (n <= 0 || p->codec > KP_CODEC_ZSTD)
		return -1;
	base_ts = recs[0].timestamp;
	max_ts = KP_NO_TIMESTAMP;	/* as Kafka's builder */
	for (i = 0; i < n; i++)
		if (recs[i].timestamp > max_ts)
			max_ts = recs[i].timestamp;
	h = kp_wbuf_reserve(out, KP_BATCH_HEADER_SIZE);
	if (h == NULL)
		return -1;
	memset(h, 0, KP_BATCH_HEADER_SIZE);
	out->len += KP_BATCH_HEADER_SIZE;
	if (p->codec == KP_CODEC_NONE) {
		write_records(out, recs, n, base_ts);
	} else {
		struct kp_wbuf raw;
		int rc;

		kp_wbuf_init(&raw);
		write_records(&raw, recs, n, base_ts);
		rc = raw.err ? -1 : kp_compress(p->codec, raw.data, raw.len, out);
		kp_wbuf_free(&raw);
		if (rc != 0) {
			out->len = start;
			return -1;
		}
	}
	if (out->err)
		return -1;
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
	kp_put_be32(h + KP_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n - 1));
	kp_put_be64(h + KP_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
	kp_put_be64(h + KP_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
	kp_put_be64(h + KP_BATCH_OFF_PRODUCER_ID, (uint64_t)p->producer_id);
	kp_put_be16(h + KP_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)p->producer_epoch);
	kp_put_be32(h + KP_BATCH_OFF_BASE_SEQUENCE, (uint32_t)p->base_sequence);
	kp_put_be32(h + KP_BATCH_OFF_RECORD_COUNT, (uint32_t)n);
	kp_put_be32(h + KP_BATCH_OFF_CRC,
		    kp_crc32c(0, h + KP_BATCH_OFF_ATTRIBUTES,
			      out->len - start - KP_BATCH_OFF_ATTRIBUTES));
	return 0;
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
	uint32_t crc;
	const uint8_t *body;
	struct kp_reader b;

	if (kp_reader_left(r) < KP_LOG_OVERHEAD)
		return kp_reader_left(r) == 0 ? 0 : 0;
	if (kp_read_i64(r, &m->offset) || kp_read_i32(r, &size))
		return -1;
	if (size < 14)
		return -1;
	if ((size_t)size > kp_reader_left(r))
		return 0;
	kp_read_raw(r, (size_t)size, &body);
	kp_reader_init(&b, body, (size_t)size);
	if (kp_read_u32(&b, &crc) || kp_read_i8(&b, &m->magic) ||
	    kp_read_i8(&b, &m->attributes))
		return -1;
	if (crc32(0L, body + 4, (uInt)(size - 4)) != crc)
		return -1;
	if (m->magic != 0 && m->magic != 1)
		return -1;
	m->timestamp = -1;
	if (m->magic == 1 && kp_read_i64(&b, &m->timestamp))
		return -1;
	if (kp_read_bytes(&b, false, true, &m->key) ||
	    kp_read_bytes(&b, false, true, &m->value) || kp_reader_left(&b) != 0)
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
		if (kp_decompress((enum kp_codec)(m->attributes & KP_ATTR_CODEC_MASK),
				  m->value.ptr, (size_t)m->value.len,
				  it->max_decompressed, it->scratch) != 0)
			return -1;
		kp_reader_init(&it->inner, it->scratch->data, it->scratch->len);
		it->in_wrapper = true;
		it->wrapper_offset = m->offset;
		it->wrapper_magic = m->magic;
		it->wrapper_timestamp = m->timestamp;
		it->wrapper_log_append = (m->attributes & 0x08) != 0;
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
