/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_codec.h - the table-driven codec for every Kafka message.
 *
 * gen_msgs.py turns the schema files into descriptor tables (one
 * struct kp_struct_desc per C struct, one struct kp_api_desc per API); the
 * functions here interpret them, so one definition gives encode, decode,
 * size, defaults and comparison for every version.  Flexible versions
 * (compact strings/arrays/bytes, tagged fields) are handled generally:
 * unknown tagged fields are kept on decode and written back on encode.
 *
 * Decoding is zero-copy for strings, bytes and records (slices into the
 * input, which must outlive the result); arrays come from the arena.
 */
#ifndef KP_CODEC_H
#define KP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

enum kp_ftype {
	KP_FT_BOOL,
	KP_FT_INT8,
	KP_FT_INT16,
	KP_FT_UINT16,
	KP_FT_INT32,
	KP_FT_UINT32,
	KP_FT_INT64,
	KP_FT_FLOAT64,
	KP_FT_UUID,
	KP_FT_STRING,
	KP_FT_BYTES,
	KP_FT_RECORDS,
	KP_FT_STRUCT,
};

#define KP_VERSION_MAX 32767

struct kp_tagged {
	uint32_t tag;
	kp_bytes data;
};

struct kp_tagged_fields {
	struct kp_tagged *items;
	int32_t count;
};

struct kp_struct_desc;

struct kp_field_desc {
	const char *name;
	uint8_t type;		/* enum kp_ftype */
	uint8_t array;		/* an array of type */
	uint8_t noflex;		/* classic encoding even in flexible versions */
	uint8_t def_null;	/* default is null */
	int16_t vmin, vmax;	/* versions in which the field exists */
	int16_t nmin, nmax;	/* versions in which it may be null */
	int32_t tag;		/* tagged field number, or -1 */
	uint32_t off;		/* offset of the value (or array pointer) */
	uint32_t cnt_off;	/* offset of the int32 array count */
	const struct kp_struct_desc *sub;
	int64_t def_int;
	double def_f;
	const char *def_str;
};

struct kp_struct_desc {
	const char *name;
	uint32_t size;
	uint16_t nfields;
	const struct kp_field_desc *fields;
	uint32_t tagged_off;
};

struct kp_api_desc {
	int16_t key;
	const char *name;
	int16_t min, max;	/* versions the schema defines */
	int16_t flex_min;	/* first flexible version, KP_VERSION_MAX if none */
	const struct kp_struct_desc *req;
	const struct kp_struct_desc *resp;
};

static inline bool kp_api_flexible(const struct kp_api_desc *api, int16_t v)
{
	return v >= api->flex_min;
}

/* Look an API up by key; NULL when unknown. */
const struct kp_api_desc *kp_api_get(int16_t key);

/* Set every field of *obj to its default (what an absent field decodes to). */
void kp_struct_init(const struct kp_struct_desc *d, void *obj);

/*
 * Decode one struct at version from r into *obj (which is initialised
 * first).  Returns 0, or -1 on malformed input or when the arena's cap is
 * reached; never reads past the reader's end.
 */
int kp_decode(const struct kp_struct_desc *d, int16_t version, bool flexible,
	      struct kp_reader *r, struct kp_arena *a, void *obj);

/* Encode *obj at version.  Errors (allocation) are left in w->err. */
void kp_encode(const struct kp_struct_desc *d, int16_t version, bool flexible,
	       const void *obj, struct kp_wbuf *w);

/* Bytes kp_encode() would produce. */
size_t kp_encoded_size(const struct kp_struct_desc *d, int16_t version,
		       bool flexible, const void *obj);

/* Compare the fields that exist at version (unknown tagged fields too). */
bool kp_struct_equal(const struct kp_struct_desc *d, int16_t version,
		     bool flexible, const void *a, const void *b);

/* Convenience wrappers for a whole request or response body. */
int kp_request_decode(const struct kp_api_desc *api, int16_t version,
		      struct kp_reader *r, struct kp_arena *a, void *obj);
int kp_response_decode(const struct kp_api_desc *api, int16_t version,
		       struct kp_reader *r, struct kp_arena *a, void *obj);
void kp_request_encode(const struct kp_api_desc *api, int16_t version,
		       const void *obj, struct kp_wbuf *w);
void kp_response_encode(const struct kp_api_desc *api, int16_t version,
			const void *obj, struct kp_wbuf *w);

#endif /* KP_CODEC_H */
