/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_buf.c - bounds-checked readers and growable writers for the Kafka
 * protocol's primitive types.  See kp_buf.h for the contract.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kp_buf.h"

kp_str kp_str_c(const char *s)
{
	if (s == NULL)
		return KP_STR_NULL;
	return (kp_str){ s, (int32_t)strlen(s) };
}

bool kp_str_eq(kp_str a, kp_str b)
{
	if (a.len != b.len)
		return false;
	return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

bool kp_str_eqc(kp_str a, const char *c)
{
	return kp_str_eq(a, kp_str_c(c));
}

char *kp_str_dup(kp_str s)
{
	char *d;

	if (s.len < 0)
		return NULL;
	d = malloc((size_t)s.len + 1);
	if (d == NULL)
		return NULL;
	if (s.len > 0)
		memcpy(d, s.ptr, (size_t)s.len);
	d[s.len] = '\0';
	return d;
}

/* ------------------------------------------------------------------ reader */

static inline int fail(struct kp_reader *r)
{
	r->err = -1;
	return -1;
}

/* Check that n bytes remain (and no earlier error). */
static inline int need(struct kp_reader *r, size_t n)
{
	if (r->err || (size_t)(r->end - r->p) < n)
		return fail(r);
	return 0;
}

int kp_read_i8(struct kp_reader *r, int8_t *v)
{
	if (need(r, 1))
		return -1;
	*v = (int8_t)*r->p++;
	return 0;
}

int kp_read_bool(struct kp_reader *r, bool *v)
{
	if (need(r, 1))
		return -1;
	*v = *r->p++ != 0;
	return 0;
}

int kp_read_i16(struct kp_reader *r, int16_t *v)
{
	if (need(r, 2))
		return -1;
	*v = (int16_t)kp_be16(r->p);
	r->p += 2;
	return 0;
}

int kp_read_u16(struct kp_reader *r, uint16_t *v)
{
	if (need(r, 2))
		return -1;
	*v = kp_be16(r->p);
	r->p += 2;
	return 0;
}

int kp_read_i32(struct kp_reader *r, int32_t *v)
{
	if (need(r, 4))
		return -1;
	*v = (int32_t)kp_be32(r->p);
	r->p += 4;
	return 0;
}

int kp_read_u32(struct kp_reader *r, uint32_t *v)
{
	if (need(r, 4))
		return -1;
	*v = kp_be32(r->p);
	r->p += 4;
	return 0;
}

int kp_read_i64(struct kp_reader *r, int64_t *v)
{
	if (need(r, 8))
		return -1;
	*v = (int64_t)kp_be64(r->p);
	r->p += 8;
	return 0;
}

int kp_read_f64(struct kp_reader *r, double *v)
{
	uint64_t u;

	if (need(r, 8))
		return -1;
	u = kp_be64(r->p);
	memcpy(v, &u, sizeof(*v));
	r->p += 8;
	return 0;
}

int kp_read_uuid(struct kp_reader *r, kp_uuid *v)
{
	if (need(r, 16))
		return -1;
	memcpy(v->b, r->p, 16);
	r->p += 16;
	return 0;
}

int kp_read_uvarlong(struct kp_reader *r, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift;

	if (r->err)
		return -1;
	for (shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (r->p >= r->end)
			return fail(r);
		b = *r->p++;
		/* The tenth byte may only carry the top bit. */
		if (shift == 63 && b > 1)
			return fail(r);
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return fail(r);
}

int kp_read_uvarint(struct kp_reader *r, uint32_t *v)
{
	uint32_t x = 0;
	unsigned shift;

	if (r->err)
		return -1;
	for (shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (r->p >= r->end)
			return fail(r);
		b = *r->p++;
		/* The fifth byte may only carry the top four bits. */
		if (shift == 28 && b > 0x0f)
			return fail(r);
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return fail(r);
}

int kp_read_varint(struct kp_reader *r, int32_t *v)
{
	uint32_t u;

	if (kp_read_uvarint(r, &u))
		return -1;
	*v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

int kp_read_varlong(struct kp_reader *r, int64_t *v)
{
	uint64_t u;

	if (kp_read_uvarlong(r, &u))
		return -1;
	*v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

int kp_read_raw(struct kp_reader *r, size_t n, const uint8_t **out)
{
	if (need(r, n))
		return -1;
	*out = r->p;
	r->p += n;
	return 0;
}

int kp_skip(struct kp_reader *r, size_t n)
{
	if (need(r, n))
		return -1;
	r->p += n;
	return 0;
}

/* Read a length that is int16/int32 (classic) or uvarint(len+1) (compact). */
static int read_len(struct kp_reader *r, bool compact, bool wide, int32_t *len)
{
	if (compact) {
		uint32_t u;

		if (kp_read_uvarint(r, &u))
			return -1;
		if (u > (uint32_t)INT32_MAX)
			return fail(r);
		*len = (int32_t)u - 1;
	} else if (wide) {
		if (kp_read_i32(r, len))
			return -1;
	} else {
		int16_t s;

		if (kp_read_i16(r, &s))
			return -1;
		*len = s;
	}
	return 0;
}

int kp_read_string(struct kp_reader *r, bool compact, bool nullable, kp_str *v)
{
	int32_t len;

	if (read_len(r, compact, false, &len))
		return -1;
	if (len < 0) {
		if (len != -1 || !nullable)
			return fail(r);
		*v = KP_STR_NULL;
		return 0;
	}
	if (need(r, (size_t)len))
		return -1;
	v->ptr = (const char *)r->p;
	v->len = len;
	r->p += len;
	return 0;
}

int kp_read_bytes(struct kp_reader *r, bool compact, bool nullable, kp_bytes *v)
{
	int32_t len;

	if (read_len(r, compact, true, &len))
		return -1;
	if (len < 0) {
		if (len != -1 || !nullable)
			return fail(r);
		*v = KP_BYTES_NULL;
		return 0;
	}
	if (need(r, (size_t)len))
		return -1;
	v->ptr = r->p;
	v->len = len;
	r->p += len;
	return 0;
}

int kp_read_array_len(struct kp_reader *r, bool compact, bool nullable,
		      size_t min_elem, int32_t *n)
{
	int32_t len;

	if (read_len(r, compact, true, &len))
		return -1;
	if (len < 0) {
		if (len != -1 || !nullable)
			return fail(r);
		*n = -1;
		return 0;
	}
	if (min_elem == 0)
		min_elem = 1;
	if ((size_t)len > kp_reader_left(r) / min_elem)
		return fail(r);
	*n = len;
	return 0;
}

/* ------------------------------------------------------------------ writer */

void kp_wbuf_init(struct kp_wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void kp_wbuf_init_counter(struct kp_wbuf *w)
{
	memset(w, 0, sizeof(*w));
	w->count_only = true;
}

void kp_wbuf_free(struct kp_wbuf *w)
{
	free(w->data);
	free(w->ext);
	memset(w, 0, sizeof(*w));
}

void kp_wbuf_reset(struct kp_wbuf *w)
{
	w->len = 0;
	w->next = 0;
	w->ext_bytes = 0;
	w->err = 0;
}

int kp_buf_make_room(uint8_t **buf, size_t *cap, size_t len, size_t room)
{
	size_t ncap;
	uint8_t *nb;

	if (*cap - len >= room)
		return 0;
	ncap = *cap ? *cap * 2 : 2 * room;
	while (ncap - len < room)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

uint8_t *kp_wbuf_reserve(struct kp_wbuf *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->count_only)
		return n <= sizeof(w->scratch) ? w->scratch : NULL;
	if (w->cap - w->len < n) {
		size_t ncap = w->cap ? w->cap : 256;
		uint8_t *nd;

		while (ncap - w->len < n) {
			if (ncap > SIZE_MAX / 2) {
				w->err = -1;
				return NULL;
			}
			ncap *= 2;
		}
		nd = realloc(w->data, ncap);
		if (nd == NULL) {
			w->err = -1;
			return NULL;
		}
		w->data = nd;
		w->cap = ncap;
	}
	return w->data + w->len;
}

void kp_write_raw(struct kp_wbuf *w, const void *p, size_t n)
{
	uint8_t *d;

	if (n == 0)
		return;
	if (w->count_only) {
		w->len += n;
		return;
	}
	d = kp_wbuf_reserve(w, n);
	if (d == NULL)
		return;
	memcpy(d, p, n);
	w->len += n;
}

void kp_write_i8(struct kp_wbuf *w, int8_t v)
{
	uint8_t *d = kp_wbuf_reserve(w, 1);

	if (d == NULL)
		return;
	d[0] = (uint8_t)v;
	w->len += 1;
}

void kp_write_bool(struct kp_wbuf *w, bool v)
{
	kp_write_i8(w, v ? 1 : 0);
}

void kp_write_i16(struct kp_wbuf *w, int16_t v)
{
	kp_write_u16(w, (uint16_t)v);
}

void kp_write_u16(struct kp_wbuf *w, uint16_t v)
{
	uint8_t *d = kp_wbuf_reserve(w, 2);

	if (d == NULL)
		return;
	kp_put_be16(d, v);
	w->len += 2;
}

void kp_write_i32(struct kp_wbuf *w, int32_t v)
{
	kp_write_u32(w, (uint32_t)v);
}

void kp_write_u32(struct kp_wbuf *w, uint32_t v)
{
	uint8_t *d = kp_wbuf_reserve(w, 4);

	if (d == NULL)
		return;
	kp_put_be32(d, v);
	w->len += 4;
}

void kp_write_i64(struct kp_wbuf *w, int64_t v)
{
	uint8_t *d = kp_wbuf_reserve(w, 8);

	if (d == NULL)
		return;
	kp_put_be64(d, (uint64_t)v);
	w->len += 8;
}

void kp_write_f64(struct kp_wbuf *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	kp_write_i64(w, (int64_t)u);
}

void kp_write_uuid(struct kp_wbuf *w, const kp_uuid *v)
{
	kp_write_raw(w, v->b, 16);
}

void kp_write_uvarlong(struct kp_wbuf *w, uint64_t v)
{
	uint8_t *d = kp_wbuf_reserve(w, 10);
	size_t n = 0;

	if (d == NULL)
		return;
	while (v >= 0x80) {
		d[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	d[n++] = (uint8_t)v;
	w->len += n;
}

void kp_write_uvarint(struct kp_wbuf *w, uint32_t v)
{
	kp_write_uvarlong(w, v);
}

void kp_write_varint(struct kp_wbuf *w, int32_t v)
{
	kp_write_uvarlong(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void kp_write_varlong(struct kp_wbuf *w, int64_t v)
{
	kp_write_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void write_len(struct kp_wbuf *w, bool compact, bool wide, int32_t len)
{
	if (compact)
		kp_write_uvarint(w, (uint32_t)(len + 1));
	else if (wide)
		kp_write_i32(w, len);
	else
		kp_write_i16(w, (int16_t)len);
}

void kp_write_string(struct kp_wbuf *w, bool compact, kp_str v)
{
	if (v.ptr == NULL && v.len == 0)
		v.len = 0;
	write_len(w, compact, false, v.len < 0 ? -1 : v.len);
	if (v.len > 0)
		kp_write_raw(w, v.ptr, (size_t)v.len);
}

void kp_write_bytes(struct kp_wbuf *w, bool compact, kp_bytes v)
{
	write_len(w, compact, true, v.len < 0 ? -1 : v.len);
	if (v.len > 0)
		kp_write_raw(w, v.ptr, (size_t)v.len);
}

void kp_write_records(struct kp_wbuf *w, bool compact, kp_records v)
{
	write_len(w, compact, true, v.len < 0 ? -1 : v.len);
	if (v.len <= 0)
		return;
	if (v.ext != NULL)
		kp_wbuf_add_ext(w, v.ext, (size_t)v.len);
	else
		kp_write_raw(w, v.ptr, (size_t)v.len);
}

void kp_write_array_len(struct kp_wbuf *w, bool compact, int32_t n)
{
	write_len(w, compact, true, n < 0 ? -1 : n);
}

void kp_wbuf_add_ext(struct kp_wbuf *w, const void *ref, size_t len)
{
	if (w->err)
		return;
	if (w->count_only) {
		w->ext_bytes += len;
		return;
	}
	if (w->next == w->ext_cap) {
		size_t ncap = w->ext_cap ? w->ext_cap * 2 : 8;
		struct kp_wext *ne = realloc(w->ext, ncap * sizeof(*ne));

		if (ne == NULL) {
			w->err = -1;
			return;
		}
		w->ext = ne;
		w->ext_cap = ncap;
	}
	w->ext[w->next].at = w->len;
	w->ext[w->next].len = len;
	w->ext[w->next].ref = ref;
	w->next++;
	w->ext_bytes += len;
}

void kp_wbuf_put_i32_at(struct kp_wbuf *w, size_t pos, int32_t v)
{
	if (w->err || w->count_only || pos + 4 > w->len)
		return;
	kp_put_be32(w->data + pos, (uint32_t)v);
}

size_t kp_uvarlong_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t kp_uvarint_size(uint32_t v)
{
	return kp_uvarlong_size(v);
}

size_t kp_varint_size(int32_t v)
{
	return kp_uvarlong_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

size_t kp_varlong_size(int64_t v)
{
	return kp_uvarlong_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
