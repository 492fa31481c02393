/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_buf.h - bounds-checked reading and growable writing of Kafka primitives.
 *
 * A reader walks a (pointer, length) pair and never reads past its end: every
 * primitive checks what remains first.  Errors are sticky: after the first
 * failure every further read fails too, so a decoder may check once at the end
 * (or at its single fail: label).  Strings and bytes are returned as slices
 * into the input; nothing here allocates.
 *
 * A writer is a growable byte buffer that can also hold references to bytes
 * kept elsewhere (a file range of a log segment, a shared batch): the encoder
 * writes the length prefix and records an "external" piece in place of the
 * bytes, so a Fetch response goes to the socket as send + sendfile without
 * copying record data.  Big-endian everywhere, as the protocol is.
 */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string slice; len == -1 is the null string.  Not NUL-terminated. */
typedef struct kp_str {
	const char *ptr;
	int32_t len;
} kp_str;

/* A byte slice; len == -1 is null. */
typedef struct kp_bytes {
	const uint8_t *ptr;
	int32_t len;
} kp_bytes;

/*
 * Record data.  Either bytes in memory (ptr) or, when ext is non-NULL, an
 * opaque reference the writer keeps as an external piece of len bytes
 * (see struct kp_wbuf).  len == -1 is null.
 */
typedef struct kp_records {
	const uint8_t *ptr;
	int32_t len;
	const void *ext;
} kp_records;

typedef struct kp_uuid {
	uint8_t b[16];
} kp_uuid;

#define KP_STR_NULL ((kp_str){ NULL, -1 })
#define KP_BYTES_NULL ((kp_bytes){ NULL, -1 })
/* A slice of a C string literal or NUL-terminated string (NULL gives null). */
kp_str kp_str_c(const char *s);
bool kp_str_eq(kp_str a, kp_str b);
bool kp_str_eqc(kp_str a, const char *c);
/* Copy into a NUL-terminated heap string (NULL for a null string). */
char *kp_str_dup(kp_str s);

/* ------------------------------------------------------------------ reader */

struct kp_reader {
	const uint8_t *p;
	const uint8_t *end;
	int err;		/* 0, or -1 once anything failed */
};

static inline void kp_reader_init(struct kp_reader *r, const void *p, size_t len)
{
	r->p = p;
	/* NULL + 0 is undefined in C; an empty input may come as NULL. */
	r->end = p != NULL ? (const uint8_t *)p + len : NULL;
	r->err = 0;
}

static inline size_t kp_reader_left(const struct kp_reader *r)
{
	return (size_t)(r->end - r->p);
}

int kp_read_i8(struct kp_reader *r, int8_t *v);
int kp_read_bool(struct kp_reader *r, bool *v);
int kp_read_i16(struct kp_reader *r, int16_t *v);
int kp_read_u16(struct kp_reader *r, uint16_t *v);
int kp_read_i32(struct kp_reader *r, int32_t *v);
int kp_read_u32(struct kp_reader *r, uint32_t *v);
int kp_read_i64(struct kp_reader *r, int64_t *v);
int kp_read_f64(struct kp_reader *r, double *v);
int kp_read_uuid(struct kp_reader *r, kp_uuid *v);
/* Unsigned base-128 varint, at most 5 bytes for 32 bits. */
int kp_read_uvarint(struct kp_reader *r, uint32_t *v);
/* Unsigned base-128 varlong, at most 10 bytes. */
int kp_read_uvarlong(struct kp_reader *r, uint64_t *v);
/* Zig-zag signed varint / varlong, as record batches use them. */
int kp_read_varint(struct kp_reader *r, int32_t *v);
int kp_read_varlong(struct kp_reader *r, int64_t *v);
/* Take n raw bytes as a slice. */
int kp_read_raw(struct kp_reader *r, size_t n, const uint8_t **out);
int kp_skip(struct kp_reader *r, size_t n);

/* int16-length string (classic) or uvarint(len+1) string (compact). */
int kp_read_string(struct kp_reader *r, bool compact, bool nullable, kp_str *v);
/* int32-length bytes (classic) or uvarint(len+1) bytes (compact). */
int kp_read_bytes(struct kp_reader *r, bool compact, bool nullable, kp_bytes *v);
/*
 * Array length: int32 (classic) or uvarint(n+1) (compact).  -1 is null and
 * accepted only when nullable.  A count that cannot fit in what remains,
 * given that each element takes at least min_elem bytes, is an error, so no
 * caller allocates for elements that are not there.
 */
int kp_read_array_len(struct kp_reader *r, bool compact, bool nullable,
		      size_t min_elem, int32_t *n);

/* ------------------------------------------------------------------ writer */

struct kp_wext {
	size_t at;		/* position in data before which it goes */
	size_t len;
	const void *ref;
};

struct kp_wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	struct kp_wext *ext;	/* external pieces, in order */
	size_t next;
	size_t ext_cap;
	size_t ext_bytes;	/* sum of ext[].len */
	int err;		/* sticky: -1 after an allocation failure */
	bool count_only;	/* only count: nothing is stored */
	uint8_t scratch[16];	/* where counted writes of primitives go */
};

void kp_wbuf_init(struct kp_wbuf *w);
/* A writer that only measures: len grows, nothing is stored or allocated. */
void kp_wbuf_init_counter(struct kp_wbuf *w);
void kp_wbuf_free(struct kp_wbuf *w);
void kp_wbuf_reset(struct kp_wbuf *w);
/* Make room for n more bytes; returns a pointer to them or NULL. */
uint8_t *kp_wbuf_reserve(struct kp_wbuf *w, size_t n);
/*
 * For a plain receive buffer *buf of *cap bytes holding len: make at least
 * room free bytes after len, doubling the buffer (from 2 * room when
 * empty).  Returns 0, or -1 when out of memory (the buffer is unchanged).
 */
int kp_buf_make_room(uint8_t **buf, size_t *cap, size_t len, size_t room);
/* Total encoded length, memory plus external pieces. */
static inline size_t kp_wbuf_total(const struct kp_wbuf *w)
{
	return w->len + w->ext_bytes;
}

void kp_write_raw(struct kp_wbuf *w, const void *p, size_t n);
void kp_write_i8(struct kp_wbuf *w, int8_t v);
void kp_write_bool(struct kp_wbuf *w, bool v);
void kp_write_i16(struct kp_wbuf *w, int16_t v);
void kp_write_u16(struct kp_wbuf *w, uint16_t v);
void kp_write_i32(struct kp_wbuf *w, int32_t v);
void kp_write_u32(struct kp_wbuf *w, uint32_t v);
void kp_write_i64(struct kp_wbuf *w, int64_t v);
void kp_write_f64(struct kp_wbuf *w, double v);
void kp_write_uuid(struct kp_wbuf *w, const kp_uuid *v);
void kp_write_uvarint(struct kp_wbuf *w, uint32_t v);
void kp_write_uvarlong(struct kp_wbuf *w, uint64_t v);
void kp_write_varint(struct kp_wbuf *w, int32_t v);
void kp_write_varlong(struct kp_wbuf *w, int64_t v);
void kp_write_string(struct kp_wbuf *w, bool compact, kp_str v);
void kp_write_bytes(struct kp_wbuf *w, bool compact, kp_bytes v);
/* Records: copied from ptr, or kept as an external piece when ext is set. */
void kp_write_records(struct kp_wbuf *w, bool compact, kp_records v);
void kp_write_array_len(struct kp_wbuf *w, bool compact, int32_t n);
/* Append an external piece of len bytes identified by ref. */
void kp_wbuf_add_ext(struct kp_wbuf *w, const void *ref, size_t len);
/* Overwrite 4 bytes at pos (e.g. a frame length written last). */
void kp_wbuf_put_i32_at(struct kp_wbuf *w, size_t pos, int32_t v);

/* Sizes of encodings, for size computations without writing. */
size_t kp_uvarint_size(uint32_t v);
size_t kp_uvarlong_size(uint64_t v);
size_t kp_varint_size(int32_t v);
size_t kp_varlong_size(int64_t v);

/* Big-endian load/store helpers for fixed layouts (batch headers, indexes). */
static inline uint16_t kp_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t kp_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t kp_be64(const uint8_t *p)
{
	return ((uint64_t)kp_be32(p) << 32) | kp_be32(p + 4);
}
static inline void kp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void kp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void kp_put_be64(uint8_t *p, uint64_t v)
{
	kp_put_be32(p, (uint32_t)(v >> 32));
	kp_put_be32(p + 4, (uint32_t)v);
}

#endif /* KP_BUF_H */
