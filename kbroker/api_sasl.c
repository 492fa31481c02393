/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_sasl.c - SaslHandshake (v0-1) and SaslAuthenticate (v0-2) on the
 * SASL listeners, as Kafka's SaslServerAuthenticator, with the exchange's
 * state machine shared with kcontroller (libkproto/kp_sasl_conn.c): the
 * handshake names an enabled mechanism (else UNSUPPORTED_SASL_MECHANISM
 * with the enabled ones, and the connection stays in the handshake);
 * SaslAuthenticate carries the mechanism's tokens (PLAIN: one, checked
 * against the listener's PlainLoginModule users; SCRAM-SHA-256/512:
 * client-first then client-final, checked against the credentials
 * ZooKeeper holds, scram_users.c).  A failed authentication answers
 * SASL_AUTHENTICATION_FAILED with Kafka's message and closes the
 * connection once the answer is out.  The last answer of a v1+ exchange
 * carries the session's lifetime (connections.max.reauth.ms, KIP-368).
 *
 * Re-authentication (KIP-368): net.c turns a SaslHandshake on an
 * authenticated connection whose session has a lifetime back into the
 * handshake state, and the same two requests run again; the user must
 * not change.  On other listeners, and after authentication otherwise,
 * both answer ILLEGAL_SASL_STATE.
 *
 * After SaslHandshake v0 the client sends its tokens as bare frames (no
 * request header, no SaslAuthenticate): net.c hands them to the same
 * exchange and answers each with a frame holding the server's token.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_sasl_conn.h"
#include "net.h"

void api_sasl_handshake(struct net_req *r)
{
	const struct kp_sasl_handshake_req *req = r->body;
	struct kp_sasl_conn *sc = net_req_sasl_conn(r);
	struct kp_sasl_handshake_resp resp;
	kp_str *v;

	kp_struct_init(r->api->resp, &resp);
	if (sc == NULL || sc->state != KP_SASL_HANDSHAKE) {
		resp.error_code = KP_ERR_ILLEGAL_SASL_STATE;
		net_reply(r, &resp);
		return;
	}
	v = kp_arena_calloc(&r->arena, 4, sizeof(*v));
	if (v == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	resp.mechanisms = v;
	resp.mechanisms_count = kp_sasl_mech_names(sc->l, v);
	resp.error_code = kp_sasl_conn_handshake(sc, req->mechanism.ptr != NULL
						 ? req->mechanism.ptr : "",
						 req->mechanism.len > 0
						 ? (size_t)req->mechanism.len : 0,
						 r->h.api_version);
	if (resp.error_code == KP_ERR_UNKNOWN_SERVER_ERROR) {
		net_req_fail(r, "out of memory");
		return;
	}
	if (resp.error_code == KP_ERR_UNSUPPORTED_SASL_MECHANISM)
		KP_INFO("%s: SASL mechanism %.*s is not enabled", r->peer,
			req->mechanism.len > 0 ? (int)req->mechanism.len : 0,
			req->mechanism.ptr != NULL ? req->mechanism.ptr : "");
	net_reply(r, &resp);
}

void api_sasl_authenticate(struct net_req *r)
{
	const struct kp_sasl_authenticate_req *req = r->body;
	struct kp_sasl_conn *sc = net_req_sasl_conn(r);
	struct kp_sasl_authenticate_resp resp;
	char why[256], *out;
	size_t outlen = 0;
	int rc;

	kp_struct_init(r->api->resp, &resp);
	resp.auth_bytes = (kp_bytes){ NULL, 0 };
	if (sc == NULL || sc->state != KP_SASL_AUTHENTICATE) {
		resp.error_code = KP_ERR_ILLEGAL_SASL_STATE;
		resp.error_message = kp_str_c(sc != NULL && sc->state == KP_SASL_DONE
					      ? "SaslAuthenticate request received after "
						"successful authentication"
					      : "Unexpected SaslAuthenticate request");
		net_reply(r, &resp);
		return;
	}
	out = kp_arena_alloc(&r->arena, 1024);
	if (out == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	rc = kp_sasl_conn_token(sc, r->peer, req->auth_bytes.ptr,
				req->auth_bytes.len > 0 ? (size_t)req->auth_bytes.len : 0,
				out, 1024, &outlen, why, sizeof(why), kp_now_ms());
	if (rc < 0) {
		char *msg = kp_arena_alloc(&r->arena, strlen(why) + 1);

		if (msg != NULL)
			memcpy(msg, why, strlen(why) + 1);
		resp.error_code = KP_ERR_SASL_AUTHENTICATION_FAILED;
		resp.error_message = kp_str_c(msg != NULL ? msg : "Authentication failed");
		net_req_close_after(r);
		net_reply(r, &resp);
		return;
	}
	resp.auth_bytes = (kp_bytes){ (const uint8_t *)out, (int32_t)outlen };
	if (rc == 1) {
		net_req_sasl_done(r);
		resp.session_lifetime_ms = sc->lifetime_ms;
	}
	net_reply(r, &resp);
}
