/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_proto.h - frames and headers: what wraps every request and response.
 *
 * A frame is an int32 size followed by that many bytes.  A request starts
 * with a request header (v0: api_key, api_version, correlation_id; v1 adds
 * the nullable client_id, always a classic int16 string; v2 adds tagged
 * fields), a response with a response header (v0: correlation_id; v1 adds
 * tagged fields).  Which header version goes with which message version is
 * fixed by the API's flexible versions, with two exceptions kept here:
 * ApiVersions responses always use header v0, and ControlledShutdown v0
 * requests use request header v0.
 */
#ifndef KP_PROTO_H
#define KP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"

/* The size prefix of a frame. */
#define KP_FRAME_PREFIX 4

struct kp_req_header {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	kp_str client_id;		/* null in header v0 */
	struct kp_tagged_fields tagged;	/* header v2 only */
};

/* Header versions (0, 1 or 2 / 0 or 1) for an API key and version. */
int kp_request_header_version(int16_t api_key, int16_t api_version);
int kp_response_header_version(int16_t api_key, int16_t api_version);

/*
 * Decode a request header from the start of a frame body.  The header
 * version follows from api_key/api_version; for an unknown API key or a
 * version outside our schema the header is read as v1 (what every client
 * sends for non-flexible requests), so the caller can still answer with the
 * correlation id.  Returns 0 or -1 (truncated or malformed).
 */
int kp_req_header_decode(struct kp_reader *r, struct kp_arena *a,
			 struct kp_req_header *h);
void kp_req_header_encode(struct kp_wbuf *w, const struct kp_req_header *h);
int kp_resp_header_decode(struct kp_reader *r, int header_version,
			  struct kp_arena *a, int32_t *correlation_id);
void kp_resp_header_encode(struct kp_wbuf *w, int header_version,
			   int32_t correlation_id);

enum kp_frame_status {
	KP_FRAME_COMPLETE = 0,	/* *frame_len bytes (prefix included) are there */
	KP_FRAME_PARTIAL = 1,	/* need more bytes */
	KP_FRAME_INVALID = -1,	/* negative size, or larger than max_size */
};

/* Inspect buffered bytes for a complete frame of at most max_size bytes. */
int kp_frame_check(const uint8_t *p, size_t len, int32_t max_size,
		   size_t *frame_len);

/* Start a frame (reserves the size prefix); returns its position. */
size_t kp_frame_begin(struct kp_wbuf *w);
/* Patch the size prefix of the frame begun at pos. */
void kp_frame_end(struct kp_wbuf *w, size_t pos);

/*
 * Encode a whole request frame: size, header (client_id may be NULL), body.
 * Returns 0, or -1 for an unknown API or a version outside the schema.
 */
int kp_request_frame(struct kp_wbuf *w, int16_t api_key, int16_t api_version,
		     int32_t correlation_id, const char *client_id,
		     const void *req);
/* Encode a whole response frame: size, response header, body. */
int kp_response_frame(struct kp_wbuf *w, int16_t api_key, int16_t api_version,
		      int32_t correlation_id, const void *resp);

#endif /* KP_PROTO_H */
