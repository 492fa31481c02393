/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_sasl.c - SaslHandshake (v0-1) and SaslAuthenticate (v0-2) on the
 * SASL listeners, as Kafka's SaslServerAuthenticator: the handshake names
 * an enabled mechanism (else UNSUPPORTED_SASL_MECHANISM with the enabled
 * ones, and the connection stays in the handshake); SaslAuthenticate
 * carries the mechanism's tokens (PLAIN: one, checked against the
 * listener's PlainLoginModule users; SCRAM-SHA-256/512: client-first then
 * client-final, checked against the credentials ZooKeeper holds,
 * scram_users.c).  A failed authentication answers
 * SASL_AUTHENTICATION_FAILED with Kafka's message and closes the
 * connection once the answer is out.  On other listeners, and after
 * authentication (no re-authentication, KIP-368, yet), both answer
 * ILLEGAL_SASL_STATE.
 *
 * After SaslHandshake v0 the client sends its token as a bare frame (no
 * request header, no SaslAuthenticate): net.c hands it to api_sasl_raw
 * and answers the server's token frame (PLAIN's is empty; SCRAM takes two
 * rounds); a failure closes the connection, the only answer that framing
 * has.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "scram_users.h"

/* The enabled mechanisms, as the handshake lists them; false on OOM. */
static bool list_mechs(struct net_req *r, const struct broker_sasl *s,
		       struct kp_sasl_handshake_resp *resp)
{
	kp_str *v = kp_arena_calloc(&r->arena, 4, sizeof(*v));
	const char *p = s->l.mechs;
	int32_t n = 0;

	if (v == NULL)
		return false;
	while (*p != '\0' && n < 4) {
		const char *e = strchr(p, ',');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		v[n].ptr = p;
		v[n].len = (int32_t)len;
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	resp->mechanisms = v;
	resp->mechanisms_count = n;
	return true;
}

void api_sasl_handshake(struct net_req *r)
{
	const struct kp_sasl_handshake_req *req = r->body;
	const struct broker_sasl *s = net_req_sasl(r);
	struct kp_sasl_handshake_resp resp;
	int mech = -1;

	kp_struct_init(r->api->resp, &resp);
	if (s == NULL || net_req_sasl_state(r) != NET_SASL_HANDSHAKE) {
		resp.error_code = KP_ERR_ILLEGAL_SASL_STATE;
		net_reply(r, &resp);
		return;
	}
	if (!list_mechs(r, s, &resp)) {
		net_req_fail(r, "out of memory");
		return;
	}
	if (req->mechanism.len == 5 && memcmp(req->mechanism.ptr, "PLAIN", 5) == 0 &&
	    s->l.plain)
		mech = 0;
	else if (req->mechanism.len > 0) {
		int m = kp_scram_mech_parse(req->mechanism.ptr, (size_t)req->mechanism.len);

		if (m != 0 && s->l.scram[m])
			mech = m;
	}
	if (mech >= 0) {
		if (net_req_sasl_mech_set(r, mech) < 0) {
			net_req_fail(r, "out of memory");
			return;
		}
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

/*
 * One token of the connection's mechanism: 1 authenticated (user set), 0
 * answered and waiting for the next token, -1 failed (msg: what the client
 * is told).  The answer token is in out/outlen.
 */
static int sasl_step(struct broker *b, const struct broker_sasl *s, int mech,
		     struct kp_scram_server *sc, const char *peer, const uint8_t *tok,
		     size_t len, char *out, size_t outcap, size_t *outlen, char *user,
		     size_t userlen, char *msg, size_t msglen)
{
	return kp_sasl_server_step(&s->l, mech, sc, scram_users_lookup, b, peer, tok, len,
				   out, outcap, outlen, user, userlen, msg, msglen);
}

void api_sasl_authenticate(struct net_req *r)
{
	const struct kp_sasl_authenticate_req *req = r->body;
	const struct broker_sasl *s = net_req_sasl(r);
	struct kp_sasl_authenticate_resp resp;
	char user[256], why[256], *out;
	size_t outlen = 0;
	int rc;

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
	out = kp_arena_alloc(&r->arena, 1024);
	if (out == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	rc = sasl_step(r->worker->broker, s, net_req_sasl_mech(r), net_req_scram(r), r->peer,
		       req->auth_bytes.ptr,
		       req->auth_bytes.len > 0 ? (size_t)req->auth_bytes.len : 0, out, 1024,
		       &outlen, user, sizeof(user), why, sizeof(why));
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
	if (rc == 1)
		net_req_sasl_set(r, NET_SASL_DONE, user);
	net_reply(r, &resp);
}

int api_sasl_raw(struct broker *b, const struct broker_sasl *s, int mech,
		 struct kp_scram_server *scram, const char *peer, const uint8_t *tok,
		 size_t len, char *out, size_t outcap, size_t *outlen, char *user,
		 size_t userlen)
{
	char msg[256];

	return sasl_step(b, s, mech, scram, peer, tok, len, out, outcap, outlen, user,
			 userlen, msg, sizeof(msg));
}
