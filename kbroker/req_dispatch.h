/* SPDX-License-Identifier: Apache-2.0 */
/*
 * req_dispatch.h - the table of APIs kbroker serves: which versions, and
 * which handler.  The same table builds the ApiVersions answer, so what we
 * advertise is exactly what we dispatch (and it is the same on every
 * broker, as KafkaJS assumes).
 */
#ifndef REQ_DISPATCH_H
#define REQ_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"

struct net_req;

typedef void (*req_handler_fn)(struct net_req *r);

struct req_api {
	int16_t key;
	int16_t min, max;	/* served; within the schema's range */
	bool advertised;	/* listed in ApiVersions */
	req_handler_fn fn;
};

extern const struct req_api req_apis[];
extern const int req_napis;

/*
 * Route a request whose header is decoded; body is the rest of the frame.
 * Unknown API keys, unsupported versions and undecodable bodies close the
 * connection, as Kafka does, except ApiVersions, which answers
 * UNSUPPORTED_VERSION in a v0 body (KIP-511).
 */
void req_dispatch(struct net_req *r, struct kp_reader *body);

#endif /* REQ_DISPATCH_H */
