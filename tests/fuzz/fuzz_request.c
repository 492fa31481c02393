/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_request.c - libFuzzer target for the broker's request decoder.
 *
 * The input is a frame body as a broker reads it after the size prefix:
 * request header, then the request at the header's version.  For known
 * APIs and versions the body is decoded with a capped arena, exactly as the
 * broker does.  When decoding succeeds, the result must encode and decode
 * again to an equal value: the codec may reject, but never misread.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_codec.h"
#include "kp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_arena a;
	struct kp_reader r;
	struct kp_req_header h;
	const struct kp_api_desc *api;
	void *req, *again;

	kp_arena_init(&a, 1 << 22);
	kp_reader_init(&r, data, size);
	if (kp_req_header_decode(&r, &a, &h) != 0)
		goto out;
	api = kp_api_get(h.api_key);
	if (api == NULL || h.api_version < api->min || h.api_version > api->max)
		goto out;
	req = kp_arena_alloc(&a, api->req->size);
	if (req == NULL ||
	    kp_request_decode(api, h.api_version, &r, &a, req) != 0)
		goto out;
	{
		struct kp_wbuf w;
		struct kp_reader r2;
		bool flex = kp_api_flexible(api, h.api_version);

		kp_wbuf_init(&w);
		kp_request_encode(api, h.api_version, req, &w);
		if (w.err)
			abort();
		if (kp_encoded_size(api->req, h.api_version, flex, req) != w.len)
			abort();
		again = kp_arena_alloc(&a, api->req->size);
		kp_reader_init(&r2, w.data, w.len);
		if (again == NULL)
			goto done;
		if (kp_request_decode(api, h.api_version, &r2, &a, again) != 0)
			abort();
		if (!kp_struct_equal(api->req, h.api_version, flex, req, again))
			abort();
done:
		kp_wbuf_free(&w);
	}
out:
	kp_arena_free(&a);
	return 0;
}
