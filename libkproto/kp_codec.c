/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_codec.c - interprets the generated descriptor tables (kp_msgs.c) to
 * decode, encode, size, initialise and compare protocol messages.
 *
 * The wire rules, per field and version:
 *   - a field exists only in [vmin, vmax]; an absent field keeps its default;
 *   - in flexible versions strings, bytes, records and arrays use the compact
 *     forms (uvarint length + 1, 0 meaning null), unless the field is marked
 *     noflex (RequestHeader's client_id);
 *   - a field with a tag is written in the struct's tagged section (flexible
 *     versions only) and only when it differs from its default;
 *   - every struct of a flexible version ends with its tagged section:
 *     uvarint count, then per field uvarint tag, uvarint size, the value.
 * Decoding checks every length against what remains before using it.
 */
#include "config.h"

#include <string.h>

#include "kp_codec.h"
#include "kp_msgs.h"

static inline bool present(const struct kp_field_desc *f, int16_t v)
{
	return v >= f->vmin && v <= f->vmax;
}

static inline bool nullable(const struct kp_field_desc *f, int16_t v)
{
	return v >= f->nmin && v <= f->nmax;
}

static inline void *at(void *obj, uint32_t off)
{
	return (char *)obj + off;
}

static inline const void *cat(const void *obj, uint32_t off)
{
	return (const char *)obj + off;
}

const struct kp_api_desc *kp_api_get(int16_t key)
{
	if (key < 0 || key > KP_API_KEY_MAX)
		return NULL;
	return kp_apis[key];
}

/* Size in bytes of one element of a primitive type, as stored in C. */
static size_t elem_size(const struct kp_field_desc *f)
{
	switch (f->type) {
	case KP_FT_BOOL: return sizeof(bool);
	case KP_FT_INT8: return sizeof(int8_t);
	case KP_FT_INT16: return sizeof(int16_t);
	case KP_FT_UINT16: return sizeof(uint16_t);
	case KP_FT_INT32: return sizeof(int32_t);
	case KP_FT_UINT32: return sizeof(uint32_t);
	case KP_FT_INT64: return sizeof(int64_t);
	case KP_FT_FLOAT64: return sizeof(double);
	case KP_FT_UUID: return sizeof(kp_uuid);
	case KP_FT_STRING: return sizeof(kp_str);
	case KP_FT_BYTES: return sizeof(kp_bytes);
	case KP_FT_RECORDS: return sizeof(kp_records);
	case KP_FT_STRUCT: return f->sub->size;
	}
	return 0;
}

static size_t struct_min(const struct kp_struct_desc *d, int16_t v, bool flex,
			 int depth);

/*
 * The fewest bytes one element can take on the wire at version v (for
 * count checks): a struct's is the sum of its fields' (an array field
 * counts its length prefix only), so a frame cannot claim more elements
 * than it could hold and make the decoder allocate count x struct size
 * from a small body (a 10 MB CreateTopics claiming ten million topics).
 */
static size_t wire_min(const struct kp_field_desc *f, int16_t v, bool flex,
		       int depth)
{
	bool compact = flex && !f->noflex;

	switch (f->type) {
	case KP_FT_BOOL: case KP_FT_INT8: return 1;
	case KP_FT_INT16: case KP_FT_UINT16: return 2;
	case KP_FT_INT32: case KP_FT_UINT32: return 4;
	case KP_FT_INT64: case KP_FT_FLOAT64: return 8;
	case KP_FT_UUID: return 16;
	case KP_FT_STRING: return compact ? 1 : 2;
	case KP_FT_BYTES: case KP_FT_RECORDS: return compact ? 1 : 4;
	case KP_FT_STRUCT: return struct_min(f->sub, v, flex, depth + 1);
	}
	return 1;
}

static size_t struct_min(const struct kp_struct_desc *d, int16_t v, bool flex,
			 int depth)
{
	size_t n = flex ? 1 : 0;	/* the tagged-field count */
	uint16_t i;

	if (depth > 16)		/* the schemas nest a few levels */
		return n > 0 ? n : 1;
	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (!present(f, v) || f->tag >= 0)
			continue;
		if (f->array)
			n += flex && !f->noflex ? 1 : 4;
		else
			n += wire_min(f, v, flex, depth);
	}
	return n > 0 ? n : 1;
}

/* ------------------------------------------------------------- defaults */

static void init_value(const struct kp_field_desc *f, void *p)
{
	switch (f->type) {
	case KP_FT_BOOL: *(bool *)p = f->def_int != 0; break;
	case KP_FT_INT8: *(int8_t *)p = (int8_t)f->def_int; break;
	case KP_FT_INT16: *(int16_t *)p = (int16_t)f->def_int; break;
	case KP_FT_UINT16: *(uint16_t *)p = (uint16_t)f->def_int; break;
	case KP_FT_INT32: *(int32_t *)p = (int32_t)f->def_int; break;
	case KP_FT_UINT32: *(uint32_t *)p = (uint32_t)f->def_int; break;
	case KP_FT_INT64: *(int64_t *)p = f->def_int; break;
	case KP_FT_FLOAT64: *(double *)p = f->def_f; break;
	case KP_FT_UUID: memset(p, 0, sizeof(kp_uuid)); break;
	case KP_FT_STRING:
		if (f->def_null)
			*(kp_str *)p = KP_STR_NULL;
		else if (f->def_str != NULL)
			*(kp_str *)p = kp_str_c(f->def_str);
		else
			*(kp_str *)p = (kp_str){ "", 0 };
		break;
	case KP_FT_BYTES:
		*(kp_bytes *)p = f->def_null ? KP_BYTES_NULL : (kp_bytes){ NULL, 0 };
		break;
	case KP_FT_RECORDS:
		*(kp_records *)p = (kp_records){ NULL, f->def_null ? -1 : 0, NULL };
		break;
	case KP_FT_STRUCT:
		kp_struct_init(f->sub, p);
		break;
	}
}

void kp_struct_init(const struct kp_struct_desc *d, void *obj)
{
	uint16_t i;

	memset(obj, 0, d->size);
	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (f->array) {
			*(void **)at(obj, f->off) = NULL;
			*(int32_t *)at(obj, f->cnt_off) = f->def_null ? -1 : 0;
		} else {
			init_value(f, at(obj, f->off));
		}
	}
}

/* --------------------------------------------------------------- decode */

static int decode_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			 struct kp_reader *r, struct kp_arena *a, void *obj);

static int decode_value(const struct kp_field_desc *f, int16_t v, bool flex,
			bool null_ok, struct kp_reader *r, struct kp_arena *a,
			void *p)
{
	bool compact = flex && !f->noflex;

	switch (f->type) {
	case KP_FT_BOOL: return kp_read_bool(r, p);
	case KP_FT_INT8: return kp_read_i8(r, p);
	case KP_FT_INT16: return kp_read_i16(r, p);
	case KP_FT_UINT16: return kp_read_u16(r, p);
	case KP_FT_INT32: return kp_read_i32(r, p);
	case KP_FT_UINT32: return kp_read_u32(r, p);
	case KP_FT_INT64: return kp_read_i64(r, p);
	case KP_FT_FLOAT64: return kp_read_f64(r, p);
	case KP_FT_UUID: return kp_read_uuid(r, p);
	case KP_FT_STRING: return kp_read_string(r, compact, null_ok, p);
	case KP_FT_BYTES: return kp_read_bytes(r, compact, null_ok, p);
	case KP_FT_RECORDS: {
		kp_bytes b;
		kp_records *rec = p;

		if (kp_read_bytes(r, compact, null_ok, &b))
			return -1;
		rec->ptr = b.ptr;
		rec->len = b.len;
		rec->ext = NULL;
		return 0;
	}
	case KP_FT_STRUCT:
		return decode_struct(f->sub, v, flex, r, a, p);
	}
	return -1;
}

static int decode_field(const struct kp_field_desc *f, int16_t v, bool flex,
			struct kp_reader *r, struct kp_arena *a, void *obj)
{
	bool compact = flex && !f->noflex;
	int32_t n, i;
	size_t es;
	char *items;

	if (!f->array)
		return decode_value(f, v, flex, nullable(f, v), r, a,
				    at(obj, f->off));
	if (kp_read_array_len(r, compact, nullable(f, v), wire_min(f, v, flex, 0),
			      &n))
		return -1;
	*(int32_t *)at(obj, f->cnt_off) = n;
	*(void **)at(obj, f->off) = NULL;
	if (n <= 0)
		return 0;
	es = elem_size(f);
	items = kp_arena_calloc(a, (size_t)n, es);
	if (items == NULL) {
		r->err = -1;
		return -1;
	}
	*(void **)at(obj, f->off) = items;
	for (i = 0; i < n; i++) {
		void *p = items + (size_t)i * es;

		if (f->type == KP_FT_STRUCT)
			kp_struct_init(f->sub, p);
		/* Elements of an array are never null themselves. */
		if (decode_value(f, v, flex, false, r, a, p))
			return -1;
	}
	return 0;
}

static const struct kp_field_desc *find_tag(const struct kp_struct_desc *d,
					    int16_t v, uint32_t tag)
{
	uint16_t i;

	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (f->tag >= 0 && (uint32_t)f->tag == tag && present(f, v))
			return f;
	}
	return NULL;
}

static int decode_tagged(const struct kp_struct_desc *d, int16_t v,
			 struct kp_reader *r, struct kp_arena *a, void *obj)
{
	struct kp_tagged_fields *tf = at(obj, d->tagged_off);
	uint32_t n, i, last = 0;

	if (kp_read_uvarint(r, &n))
		return -1;
	/* Each tagged field takes at least two bytes (tag and size). */
	if (n > kp_reader_left(r) / 2) {
		r->err = -1;
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint32_t tag, size;
		const uint8_t *data;
		const struct kp_field_desc *f;

		if (kp_read_uvarint(r, &tag) || kp_read_uvarint(r, &size) ||
		    kp_read_raw(r, size, &data))
			return -1;
		/* KIP-482: tags appear in strictly increasing order; a repeated
		 * or out-of-order tag is malformed (and could not be written
		 * back the same way). */
		if (i > 0 && tag <= last) {
			r->err = -1;
			return -1;
		}
		last = tag;
		f = find_tag(d, v, tag);
		if (f != NULL) {
			struct kp_reader sub;

			kp_reader_init(&sub, data, size);
			if (decode_field(f, v, true, &sub, a, obj)) {
				r->err = -1;
				return -1;
			}
			continue;
		}
		/* Unknown to us: keep it so it survives a round trip. */
		if (tf->items == NULL) {
			tf->items = kp_arena_calloc(a, n, sizeof(*tf->items));
			if (tf->items == NULL) {
				r->err = -1;
				return -1;
			}
		}
		tf->items[tf->count].tag = tag;
		tf->items[tf->count].data = (kp_bytes){ data, (int32_t)size };
		tf->count++;
	}
	return 0;
}

static int decode_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			 struct kp_reader *r, struct kp_arena *a, void *obj)
{
	uint16_t i;

	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (!present(f, v) || f->tag >= 0)
			continue;
		if (decode_field(f, v, flex, r, a, obj))
			return -1;
	}
	if (flex && decode_tagged(d, v, r, a, obj))
		return -1;
	return r->err;
}

int kp_decode(const struct kp_struct_desc *d, int16_t version, bool flexible,
	      struct kp_reader *r, struct kp_arena *a, void *obj)
{
	kp_struct_init(d, obj);
	return decode_struct(d, version, flexible, r, a, obj);
}

/* --------------------------------------------------------------- encode */

static void encode_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			  const void *obj, struct kp_wbuf *w);

static void encode_value(const struct kp_field_desc *f, int16_t v, bool flex,
			 bool null_ok, const void *p, struct kp_wbuf *w)
{
	bool compact = flex && !f->noflex;

	switch (f->type) {
	case KP_FT_BOOL: kp_write_bool(w, *(const bool *)p); break;
	case KP_FT_INT8: kp_write_i8(w, *(const int8_t *)p); break;
	case KP_FT_INT16: kp_write_i16(w, *(const int16_t *)p); break;
	case KP_FT_UINT16: kp_write_u16(w, *(const uint16_t *)p); break;
	case KP_FT_INT32: kp_write_i32(w, *(const int32_t *)p); break;
	case KP_FT_UINT32: kp_write_u32(w, *(const uint32_t *)p); break;
	case KP_FT_INT64: kp_write_i64(w, *(const int64_t *)p); break;
	case KP_FT_FLOAT64: kp_write_f64(w, *(const double *)p); break;
	case KP_FT_UUID: kp_write_uuid(w, p); break;
	case KP_FT_STRING: {
		kp_str s = *(const kp_str *)p;

		/* A null where the version cannot carry one goes as "". */
		if (s.len < 0 && !null_ok)
			s = (kp_str){ "", 0 };
		kp_write_string(w, compact, s);
		break;
	}
	case KP_FT_BYTES: {
		kp_bytes b = *(const kp_bytes *)p;

		if (b.len < 0 && !null_ok)
			b = (kp_bytes){ NULL, 0 };
		kp_write_bytes(w, compact, b);
		break;
	}
	case KP_FT_RECORDS: {
		kp_records rec = *(const kp_records *)p;

		if (rec.len < 0 && !null_ok)
			rec.len = 0;
		kp_write_records(w, compact, rec);
		break;
	}
	case KP_FT_STRUCT:
		encode_struct(f->sub, v, flex, p, w);
		break;
	}
}

static void encode_field(const struct kp_field_desc *f, int16_t v, bool flex,
			 const void *obj, struct kp_wbuf *w)
{
	bool compact = flex && !f->noflex;
	int32_t n, i;
	size_t es;
	const char *items;

	if (!f->array) {
		encode_value(f, v, flex, nullable(f, v), cat(obj, f->off), w);
		return;
	}
	n = *(const int32_t *)cat(obj, f->cnt_off);
	items = *(const char *const *)cat(obj, f->off);
	if (n < 0 && !nullable(f, v))
		n = 0;
	if (n > 0 && items == NULL)
		n = 0;
	kp_write_array_len(w, compact, n);
	es = elem_size(f);
	for (i = 0; i < n; i++)
		encode_value(f, v, flex, false, items + (size_t)i * es, w);
}

static bool struct_is_default(const struct kp_struct_desc *d, const void *obj);

/* Whether a field holds its default (tagged fields are then left out). */
static bool is_default(const struct kp_field_desc *f, const void *obj)
{
	const void *p = cat(obj, f->off);

	if (f->array) {
		int32_t n = *(const int32_t *)cat(obj, f->cnt_off);

		return f->def_null ? n < 0 : n == 0;
	}
	switch (f->type) {
	case KP_FT_BOOL: return *(const bool *)p == (f->def_int != 0);
	case KP_FT_INT8: return *(const int8_t *)p == (int8_t)f->def_int;
	case KP_FT_INT16: return *(const int16_t *)p == (int16_t)f->def_int;
	case KP_FT_UINT16: return *(const uint16_t *)p == (uint16_t)f->def_int;
	case KP_FT_INT32: return *(const int32_t *)p == (int32_t)f->def_int;
	case KP_FT_UINT32: return *(const uint32_t *)p == (uint32_t)f->def_int;
	case KP_FT_INT64: return *(const int64_t *)p == f->def_int;
	case KP_FT_FLOAT64: return *(const double *)p == f->def_f;
	case KP_FT_UUID: {
		static const kp_uuid zero;

		return memcmp(p, &zero, sizeof(zero)) == 0;
	}
	case KP_FT_STRING: {
		kp_str s = *(const kp_str *)p;

		if (f->def_null)
			return s.len < 0;
		return kp_str_eq(s, kp_str_c(f->def_str ? f->def_str : ""));
	}
	case KP_FT_BYTES: {
		int32_t len = ((const kp_bytes *)p)->len;

		return f->def_null ? len < 0 : len == 0;
	}
	case KP_FT_RECORDS: {
		int32_t len = ((const kp_records *)p)->len;

		return f->def_null ? len < 0 : len == 0;
	}
	case KP_FT_STRUCT:
		return struct_is_default(f->sub, p);
	}
	return false;
}

static bool struct_is_default(const struct kp_struct_desc *d, const void *obj)
{
	const struct kp_tagged_fields *tf = cat(obj, d->tagged_off);
	uint16_t i;

	if (tf->count > 0)
		return false;
	for (i = 0; i < d->nfields; i++)
		if (!is_default(&d->fields[i], obj))
			return false;
	return true;
}

static void encode_tagged(const struct kp_struct_desc *d, int16_t v,
			  const void *obj, struct kp_wbuf *w)
{
	const struct kp_tagged_fields *tf = cat(obj, d->tagged_off);
	uint32_t n = 0, last = 0;
	bool first = true;
	uint16_t i;
	int32_t j;

	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (f->tag >= 0 && present(f, v) && !is_default(f, obj))
			n++;
	}
	for (j = 0; j < tf->count; j++)
		if (find_tag(d, v, tf->items[j].tag) == NULL)
			n++;
	kp_write_uvarint(w, n);
	if (n == 0)
		return;
	/* Write in ascending tag order, known and unknown merged. */
	for (;;) {
		/* No sentinel: UINT32_MAX is itself a valid tag. */
		uint32_t best = 0;
		bool found = false;
		const struct kp_field_desc *bf = NULL;
		const struct kp_tagged *bu = NULL;

		for (i = 0; i < d->nfields; i++) {
			const struct kp_field_desc *f = &d->fields[i];
			uint32_t t = (uint32_t)f->tag;

			if (f->tag < 0 || !present(f, v) || is_default(f, obj))
				continue;
			if ((first || t > last) && (!found || t < best)) {
				best = t;
				found = true;
				bf = f;
				bu = NULL;
			}
		}
		for (j = 0; j < tf->count; j++) {
			uint32_t t = tf->items[j].tag;

			if (find_tag(d, v, t) != NULL)
				continue;
			if ((first || t > last) && (!found || t < best)) {
				best = t;
				found = true;
				bf = NULL;
				bu = &tf->items[j];
			}
		}
		if (!found)
			break;
		kp_write_uvarint(w, best);
		if (bf != NULL) {
			struct kp_wbuf cw;

			kp_wbuf_init_counter(&cw);
			encode_field(bf, v, true, obj, &cw);
			kp_write_uvarint(w, (uint32_t)kp_wbuf_total(&cw));
			encode_field(bf, v, true, obj, w);
		} else {
			kp_write_uvarint(w, (uint32_t)bu->data.len);
			kp_write_raw(w, bu->data.ptr, (size_t)bu->data.len);
		}
		first = false;
		last = best;
	}
}

static void encode_struct(const struct kp_struct_desc *d, int16_t v, bool flex,
			  const void *obj, struct kp_wbuf *w)
{
	uint16_t i;

	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (!present(f, v) || f->tag >= 0)
			continue;
		encode_field(f, v, flex, obj, w);
	}
	if (flex)
		encode_tagged(d, v, obj, w);
}

void kp_encode(const struct kp_struct_desc *d, int16_t version, bool flexible,
	       const void *obj, struct kp_wbuf *w)
{
	encode_struct(d, version, flexible, obj, w);
}

size_t kp_encoded_size(const struct kp_struct_desc *d, int16_t version,
		       bool flexible, const void *obj)
{
	struct kp_wbuf w;

	kp_wbuf_init_counter(&w);
	encode_struct(d, version, flexible, obj, &w);
	return kp_wbuf_total(&w);
}

/* -------------------------------------------------------------- compare */

static bool value_equal(const struct kp_field_desc *f, int16_t v, bool flex,
			const void *a, const void *b)
{
	switch (f->type) {
	case KP_FT_BOOL: return *(const bool *)a == *(const bool *)b;
	case KP_FT_INT8: return *(const int8_t *)a == *(const int8_t *)b;
	case KP_FT_INT16: return *(const int16_t *)a == *(const int16_t *)b;
	case KP_FT_UINT16: return *(const uint16_t *)a == *(const uint16_t *)b;
	case KP_FT_INT32: return *(const int32_t *)a == *(const int32_t *)b;
	case KP_FT_UINT32: return *(const uint32_t *)a == *(const uint32_t *)b;
	case KP_FT_INT64: return *(const int64_t *)a == *(const int64_t *)b;
	case KP_FT_FLOAT64:
		return memcmp(a, b, sizeof(double)) == 0;
	case KP_FT_UUID: return memcmp(a, b, sizeof(kp_uuid)) == 0;
	case KP_FT_STRING:
		return kp_str_eq(*(const kp_str *)a, *(const kp_str *)b);
	case KP_FT_BYTES: case KP_FT_RECORDS: {
		const kp_bytes *x = a, *y = b;

		if (x->len != y->len)
			return false;
		return x->len <= 0 || memcmp(x->ptr, y->ptr, (size_t)x->len) == 0;
	}
	case KP_FT_STRUCT:
		return kp_struct_equal(f->sub, v, flex, a, b);
	}
	return false;
}

bool kp_struct_equal(const struct kp_struct_desc *d, int16_t version,
		     bool flexible, const void *a, const void *b)
{
	uint16_t i;

	for (i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (!present(f, version))
			continue;
		if (f->array) {
			int32_t na = *(const int32_t *)cat(a, f->cnt_off);
			int32_t nb = *(const int32_t *)cat(b, f->cnt_off);
			const char *ia = *(const char *const *)cat(a, f->off);
			const char *ib = *(const char *const *)cat(b, f->off);
			size_t es = elem_size(f);
			int32_t j;

			if (na != nb)
				return false;
			for (j = 0; j < na; j++)
				if (!value_equal(f, version, flexible,
						 ia + (size_t)j * es,
						 ib + (size_t)j * es))
					return false;
		} else if (!value_equal(f, version, flexible, cat(a, f->off),
					cat(b, f->off))) {
			return false;
		}
	}
	if (flexible) {
		const struct kp_tagged_fields *ta = cat(a, d->tagged_off);
		const struct kp_tagged_fields *tb = cat(b, d->tagged_off);
		int32_t j;

		if (ta->count != tb->count)
			return false;
		for (j = 0; j < ta->count; j++) {
			if (ta->items[j].tag != tb->items[j].tag ||
			    ta->items[j].data.len != tb->items[j].data.len ||
			    memcmp(ta->items[j].data.ptr, tb->items[j].data.ptr,
				   (size_t)ta->items[j].data.len) != 0)
				return false;
		}
	}
	return true;
}

/* --------------------------------------------------------- conveniences */

int kp_request_decode(const struct kp_api_desc *api, int16_t version,
		      struct kp_reader *r, struct kp_arena *a, void *obj)
{
	if (version < api->min || version > api->max)
		return -1;
	return kp_decode(api->req, version, kp_api_flexible(api, version), r,
			 a, obj);
}

int kp_response_decode(const struct kp_api_desc *api, int16_t version,
		       struct kp_reader *r, struct kp_arena *a, void *obj)
{
	if (version < api->min || version > api->max)
		return -1;
	return kp_decode(api->resp, version, kp_api_flexible(api, version), r,
			 a, obj);
}

void kp_request_encode(const struct kp_api_desc *api, int16_t version,
		       const void *obj, struct kp_wbuf *w)
{
	kp_encode(api->req, version, kp_api_flexible(api, version), obj, w);
}

void kp_response_encode(const struct kp_api_desc *api, int16_t version,
			const void *obj, struct kp_wbuf *w)
{
	kp_encode(api->resp, version, kp_api_flexible(api, version), obj, w);
}
