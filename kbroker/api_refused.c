/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_refused.c - the API keys kbroker answers with an error, never with a
 * closed connection.
 *
 * Three kinds:
 *
 *  - what a ZooKeeper-mode Kafka 2.8 broker answers the same way in the
 *    setup skald runs (no authorizer, never the controller), advertised
 *    as Kafka advertises them: the delegation-token APIs (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED
 *    on a plaintext channel, checked before whether tokens are enabled),
 *    ControlledShutdown and AlterIsr (NOT_CONTROLLER: the kcontroller
 *    daemon is the controller), UpdateFeatures (INVALID_REQUEST, the
 *    answer of a controller without feature versioning);
 *
 *  - features later work builds (DescribeProducers): not advertised, answered with
 *    UNSUPPORTED_VERSION in every error slot the response has (per
 *    partition, per resource, or top level).  35 is not retriable and every
 *    client reports it as "the broker does not support this" (Java's
 *    UnsupportedVersionException, librdkafka's "Broker: Unsupported
 *    version"), where a coordinator error would make clients retry forever;
 *
 *  - the KRaft-only keys (Vote, Begin/EndQuorumEpoch, DescribeQuorum,
 *    Envelope, FetchSnapshot, Broker{Registration,Heartbeat},
 *    UnregisterBroker), which a ZooKeeper-mode Kafka 2.8 broker does not
 *    enable and closes the connection for: not advertised, answered with
 *    UNSUPPORTED_VERSION in the top-level error so that a client that reuses
 *    the connection is not hurt.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "kp_errors.h"
#include "kp_msgs.h"
#include "log_dir.h"
#include "api.h"
#include "net.h"


#define COUNT(n) ((n) > 0 ? (n) : 0)

/* n zeroed elements of size sz from r's arena (one more, so n may be 0). */
static void *alloc_n(struct net_req *r, int32_t n, size_t sz)
{
	return kp_arena_calloc(&r->arena, (size_t)COUNT(n) + 1, sz);
}

static kp_str unsupported_msg(struct net_req *r)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s is not supported by this broker",
			 r->api->name);
	char *s = kp_arena_strndup(&r->arena, buf, (size_t)n);

	return s != NULL ? (kp_str){ s, n } : kp_str_c("not supported");
}

static void oom(struct net_req *r)
{
	net_req_fail(r, "out of memory");
}

/* ------------------------------------- disabled by configuration in Kafka */

void api_controlled_shutdown(struct net_req *r)
{
	struct kp_controlled_shutdown_resp resp;

	/* what Kafka's controller logic answers on a broker that is not the
	 * active controller; brokers send it to the kcontroller daemon */
	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_NOT_CONTROLLER;
	net_reply(r, &resp);
}

void api_alter_isr(struct net_req *r)
{
	struct kp_alter_isr_resp resp;

	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_NOT_CONTROLLER;
	net_reply(r, &resp);
}

void api_update_features(struct net_req *r)
{
	struct kp_update_features_resp resp;

	/* clients send it to Metadata's controller, a broker here; skald has
	 * no finalized features, which Kafka's controller answers so */
	kp_struct_init(r->api->resp, &resp);
	resp.error_code = KP_ERR_INVALID_REQUEST;
	resp.error_message = kp_str_c("Feature versioning system is disabled.");
	net_reply(r, &resp);
}

/* Create, Renew, Expire and DescribeDelegationToken on a plaintext
 * connection: refused before Kafka looks at whether tokens are enabled. */
void api_delegation_token(struct net_req *r)
{
	const int16_t err = KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;

	switch (r->h.api_key) {
	case KP_API_CREATE_DELEGATION_TOKEN: {
		struct kp_create_delegation_token_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = err;
		/* the connection's principal: anonymous on plaintext */
		resp.principal_type = kp_str_c("User");
		resp.principal_name = kp_str_c("ANONYMOUS");
		resp.issue_timestamp_ms = -1;
		resp.expiry_timestamp_ms = -1;
		resp.max_timestamp_ms = -1;
		resp.hmac = (kp_bytes){ NULL, 0 };
		net_reply(r, &resp);
		return;
	}
	case KP_API_RENEW_DELEGATION_TOKEN: {
		struct kp_renew_delegation_token_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = err;
		resp.expiry_timestamp_ms = -1;
		net_reply(r, &resp);
		return;
	}
	case KP_API_EXPIRE_DELEGATION_TOKEN: {
		struct kp_expire_delegation_token_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = err;
		resp.expiry_timestamp_ms = -1;
		net_reply(r, &resp);
		return;
	}
	default: {
		struct kp_describe_delegation_token_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = err;
		net_reply(r, &resp);
		return;
	}
	}
}

/* --------------------------------------------- features not built yet */

void api_describe_producers(struct net_req *r)
{
	const struct kp_describe_producers_req *req = r->body;
	struct kp_describe_producers_resp resp;
	struct kp_describe_producers_resp_topic_response *ts =
		alloc_n(r, req->topics_count, sizeof(*ts));
	kp_str msg = unsupported_msg(r);

	if (ts == NULL) {
		oom(r);
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < COUNT(req->topics_count); i++) {
		const struct kp_describe_producers_req_topic_request *in = &req->topics[i];
		int32_t np = COUNT(in->partition_indexes_count);
		struct kp_describe_producers_resp_partition_response *ps =
			alloc_n(r, np, sizeof(*ps));

		if (ps == NULL) {
			oom(r);
			return;
		}
		kp_struct_init(&kp_describe_producers_resp_topic_response_desc, &ts[i]);
		ts[i].name = in->name;
		for (int32_t j = 0; j < np; j++) {
			kp_struct_init(&kp_describe_producers_resp_partition_response_desc, &ps[j]);
			ps[j].partition_index = in->partition_indexes[j];
			ps[j].error_code = KP_ERR_UNSUPPORTED_VERSION;
			ps[j].error_message = msg;
		}
		ts[i].partitions = ps;
		ts[i].partitions_count = np;
	}
	resp.topics = ts;
	resp.topics_count = COUNT(req->topics_count);
	net_reply(r, &resp);
}

/* ---------------------------------------------------- KRaft-only keys */

/*
 * Every response of these keys has a top-level int16 error_code: found
 * through the descriptor, so one function answers them all.
 */
void api_kraft_only(struct net_req *r)
{
	const struct kp_struct_desc *d = r->api->resp;
	void *resp = kp_arena_alloc(&r->arena, d->size);
	int16_t err = KP_ERR_UNSUPPORTED_VERSION;
	bool set = false;

	if (resp == NULL) {
		oom(r);
		return;
	}
	kp_struct_init(d, resp);
	for (uint16_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (f->type == KP_FT_INT16 && !f->array && f->tag < 0 &&
		    strcmp(f->name, "error_code") == 0) {
			memcpy((uint8_t *)resp + f->off, &err, sizeof(err));
			set = true;
		}
	}
	if (!set) {
		net_req_fail(r, "no error field to answer with");
		return;
	}
	net_reply(r, resp);
}
