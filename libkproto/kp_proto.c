/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_proto.c - frames and request/response headers; see kp_proto.h.
 */
#include "config.h"

#include "kp_msgs.h"
#include "kp_proto.h"

int kp_request_header_version(int16_t api_key, int16_t api_version)
{
	const struct kp_api_desc *api = kp_api_get(api_key);

	/* As Kafka: ControlledShutdown v0 predates the client id. */
	if (api_key == KP_API_CONTROLLED_SHUTDOWN && api_version == 0)
		return 0;
	if (api != NULL && api_version >= api->min && api_version <= api->max &&
	    kp_api_flexible(api, api_version))
		return 2;
	return 1;
}

int kp_response_header_version(int16_t api_key, int16_t api_version)
{
	const struct kp_api_desc *api = kp_api_get(api_key);

	/* ApiVersions responses never carry header tagged fields (KIP-511),
	 * so a client can read them whatever version it asked for. */
	if (api_key == KP_API_API_VERSIONS)
		return 0;
	if (api != NULL && api_version >= api->min && api_version <= api->max &&
	    kp_api_flexible(api, api_version))
		return 1;
	return 0;
}

static int tagged_skip_or_keep(struct kp_reader *r, struct kp_arena *a,
			       struct kp_tagged_fields *tf)
{
	uint32_t n, i;

	tf->items = NULL;
	tf->count = 0;
	if (kp_read_uvarint(r, &n))
		return -1;
	if (n > kp_reader_left(r) / 2) {
		r->err = -1;
		return -1;
	}
	if (n == 0)
		return 0;
	tf->items = kp_arena_calloc(a, n, sizeof(*tf->items));
	if (tf->items == NULL) {
		r->err = -1;
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint32_t tag, size;
		const uint8_t *data;

		if (kp_read_uvarint(r, &tag) || kp_read_uvarint(r, &size) ||
		    kp_read_raw(r, size, &data))
			return -1;
		tf->items[i].tag = tag;
		tf->items[i].data = (kp_bytes){ data, (int32_t)size };
		tf->count++;
	}
	return 0;
}

static void tagged_write(struct kp_wbuf *w, const struct kp_tagged_fields *tf)
{
	int32_t i;

	kp_write_uvarint(w, tf->count > 0 ? (uint32_t)tf->count : 0);
	for (i = 0; i < tf->count; i++) {
		kp_write_uvarint(w, tf->items[i].tag);
		kp_write_uvarint(w, (uint32_t)tf->items[i].data.len);
		kp_write_raw(w, tf->items[i].data.ptr,
			     (size_t)tf->items[i].data.len);
	}
}

int kp_req_header_decode(struct kp_reader *r, struct kp_arena *a,
			 struct kp_req_header *h)
{
	int hv;

	h->client_id = KP_STR_NULL;
	h->tagged.items = NULL;
	h->tagged.count = 0;
	if (kp_read_i16(r, &h->api_key) || kp_read_i16(r, &h->api_version) ||
	    kp_read_i32(r, &h->correlation_id))
		return -1;
	hv = kp_request_header_version(h->api_key, h->api_version);
	if (hv >= 1 && kp_read_string(r, false, true, &h->client_id))
		return -1;
	if (hv >= 2 && tagged_skip_or_keep(r, a, &h->tagged))
		return -1;
	return 0;
}

void kp_req_header_encode(struct kp_wbuf *w, const struct kp_req_header *h)
{
	int hv = kp_request_header_version(h->api_key, h->api_version);

	kp_write_i16(w, h->api_key);
	kp_write_i16(w, h->api_version);
	kp_write_i32(w, h->correlation_id);
	if (hv >= 1)
		kp_write_string(w, false, h->client_id);
	if (hv >= 2)
		tagged_write(w, &h->tagged);
}

int kp_resp_header_decode(struct kp_reader *r, int header_version,
			  struct kp_arena *a, int32_t *correlation_id)
{
	struct kp_tagged_fields tf;

	if (kp_read_i32(r, correlation_id))
		return -1;
	if (header_version >= 1 && tagged_skip_or_keep(r, a, &tf))
		return -1;
	return 0;
}

void kp_resp_header_encode(struct kp_wbuf *w, int header_version,
			   int32_t correlation_id)
{
	kp_write_i32(w, correlation_id);
	if (header_version >= 1)
		kp_write_uvarint(w, 0);
}

int kp_frame_check(const uint8_t *p, size_t len, int32_t max_size,
		   size_t *frame_len)
{
	int32_t size;

	if (len < KP_FRAME_PREFIX)
		return KP_FRAME_PARTIAL;
	size = (int32_t)kp_be32(p);
	if (size < 0 || size > max_size)
		return KP_FRAME_INVALID;
	*frame_len = (size_t)size + KP_FRAME_PREFIX;
	if (len < *frame_len)
		return KP_FRAME_PARTIAL;
	return KP_FRAME_COMPLETE;
}

size_t kp_frame_begin(struct kp_wbuf *w)
{
	size_t pos = w->len;

	kp_write_i32(w, 0);
	return pos;
}

void kp_frame_end(struct kp_wbuf *w, size_t pos)
{
	size_t body = kp_wbuf_total(w) - pos - KP_FRAME_PREFIX;
	size_t i;

	/* External pieces placed before pos belong to earlier frames. */
	for (i = 0; i < w->next; i++)
		if (w->ext[i].at <= pos)
			body -= w->ext[i].len;
	kp_wbuf_put_i32_at(w, pos, (int32_t)body);
}

int kp_request_frame(struct kp_wbuf *w, int16_t api_key, int16_t api_version,
		     int32_t correlation_id, const char *client_id,
		     const void *req)
{
	const struct kp_api_desc *api = kp_api_get(api_key);
	struct kp_req_header h = { 0 };
	size_t pos;

	if (api == NULL || api_version < api->min || api_version > api->max)
		return -1;
	h.api_key = api_key;
	h.api_version = api_version;
	h.correlation_id = correlation_id;
	h.client_id = kp_str_c(client_id);
	pos = kp_frame_begin(w);
	kp_req_header_encode(w, &h);
	kp_request_encode(api, api_version, req, w);
	kp_frame_end(w, pos);
	return w->err;
}

int kp_response_frame(struct kp_wbuf *w, int16_t api_key, int16_t api_version,
		      int32_t correlation_id, const void *resp)
{
	const struct kp_api_desc *api = kp_api_get(api_key);
	size_t pos;

	if (api == NULL || api_version < api->min || api_version > api->max)
		return -1;
	pos = kp_frame_begin(w);
	kp_resp_header_encode(w,
			      kp_response_header_version(api_key, api_version),
			      correlation_id);
	kp_response_encode(api, api_version, resp, w);
	kp_frame_end(w, pos);
	return w->err;
}
