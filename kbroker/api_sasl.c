/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_sasl.c - SaslHandshake (v0-1) and SaslAuthenticate (v0-2) on the
 * SASL listeners, as Kafka's SaslServerAuthenticator: the handshake names
 * an enabled mechanism (else UNSUPPORTED_SASL_MECHANISM with the enabled
 * ones, and the connection stays in the handshake); SaslAuthenticate
 * carries the mechanism's tokens (PLAIN: one, checked against the
 * listener's PlainLoginModule users).  A failed authentication answers
 * SASL_AUTHENTICATION_FAILED with Kafka's message and closes the
 * connection once the answer is out.  On other listeners, and after
 * authentication (no re-authentication, KIP-368, yet), both answer
 * ILLEGAL_SASL_STATE.
 *
 * After SaslHandshake v0 the client sends its token as a bare frame (no
 * request header, no SaslAuthenticate): net.c hands it to api_sasl_raw
 * and answers an empty token frame on success; a failure closes the
 * connection, the only answer that framing has.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"

void api_sasl_handshake(struct net_req *r)
{
	const struct kp_sasl_handshake_req *req = r->body;
	const struct broker_sasl *s = net_req_sasl(r);
	struct kp_sasl_handshake_resp resp;
	static kp_str plain = { "PLAIN", 5 };

	kp_struct_init(r->api->resp, &resp);
	if (s == NULL || net_req_sasl_state(r) != NET_SASL_HANDSHAKE) {
		resp.error_code = KP_ERR_ILLEGAL_SASL_STATE;
		net_reply(r, &resp);
		return;
	}
	resp.mechanisms = &plain;
	resp.mechanisms_count = 1;
	if (req->mechanism.len == 5 && memcmp(req->mechanism.ptr, "PLAIN", 5) == 0 &&
	    s->plain) {
		net_req_sasl_set(r, r->h.api_version == 0 ? NET_SASL_RAW
							  : NET_SASL_AUTHENTICATE, NULL);
	} else {
		resp.error_code = KP_ERR_UNSUPPORTED_SASL_MECHANISM;
		KP_INFO("%s: SASL mechanism %.*s is not enabled", r->peer,
			req->mechanism.len > 0 ? (int)req->mechanism.len : 0,
			req->mechanism.ptr != NULL ? req->mechanism.ptr : "");
	}
	net_reply(r, &resp);
}

void api_sasl_authenticate(struct net_req *r)
{
	const struct kp_sasl_authenticate_req *req = r->body;
	const struct broker_sasl *s = net_req_sasl(r);
	struct kp_sasl_authenticate_resp resp;
	char user[256], why[256];
	char *msg;

	kp_struct_init(r->api->resp, &resp);
	resp.auth_bytes = (kp_bytes){ NULL, 0 };
	if (s == NULL || net_req_sasl_state(r) != NET_SASL_AUTHENTICATE) {
		resp.error_code = KP_ERR_ILLEGAL_SASL_STATE;
		resp.error_message = kp_str_c(s != NULL && net_req_sasl_state(r) ==
					      NET_SASL_DONE
					      ? "SaslAuthenticate request received after "
						"successful authentication"
					      : "Unexpected SaslAuthenticate request");
		net_reply(r, &resp);
		return;
	}
	if (kp_sasl_plain_check(req->auth_bytes.ptr,
				req->auth_bytes.len > 0 ? (size_t)req->auth_bytes.len : 0,
				&s->plain_jaas, user, sizeof(user), why, sizeof(why)) < 0) {
		KP_INFO("%s: failed authentication with SASL mechanism PLAIN: %s", r->peer,
			why);
		msg = kp_arena_alloc(&r->arena, strlen(why) + 1);
		if (msg != NULL)
			memcpy(msg, why, strlen(why) + 1);
		resp.error_code = KP_ERR_SASL_AUTHENTICATION_FAILED;
		resp.error_message = kp_str_c(msg != NULL ? msg : "Authentication failed");
		net_req_close_after(r);
		net_reply(r, &resp);
		return;
	}
	net_req_sasl_set(r, NET_SASL_DONE, user);
	KP_DEBUG("%s: authenticated as User:%s (PLAIN)", r->peer, user);
	net_reply(r, &resp);
}

int api_sasl_raw(const struct broker_sasl *s, const char *peer, const uint8_t *tok,
		 size_t len, char *user, size_t userlen)
{
	char why[256];

	if (kp_sasl_plain_check(tok, len, &s->plain_jaas, user, userlen, why,
				sizeof(why)) < 0) {
		KP_INFO("%s: failed authentication with SASL mechanism PLAIN: %s", peer,
			why);
		return -1;
	}
	KP_DEBUG("%s: authenticated as User:%s (PLAIN, v0 framing)", peer, user);
	return 0;
}
