/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl_conn.h - the server side of SASL on one connection, shared by
 * kbroker and kcontroller: Kafka 2.8's SaslServerAuthenticator as a state
 * machine the daemons drive from their own framing.
 *
 *   SaslHandshake (v0 or v1+) names an enabled mechanism -> the tokens
 *   follow as SaslAuthenticate requests (v1+ handshake) or as bare
 *   length-prefixed frames (v0 handshake, Kafka's framing for old
 *   clients) -> authenticated (the user is the principal).
 *
 * KIP-368 (connections.max.reauth.ms, per listener and mechanism in
 * kp_sasl_listener.reauth_ms): an authentication ends with a session
 * lifetime (SaslAuthenticate v1+ tells the client); once it has passed,
 * the next request other than a re-authenticating SaslHandshake closes the
 * connection (kp_sasl_conn_expired).  A SaslHandshake on an authenticated
 * connection with a session lifetime, at most one a second, begins a
 * re-authentication (kp_sasl_conn_reauth_begin): the same exchange again,
 * with the same mechanism, which must end with the same user; the
 * connection keeps its principal meanwhile and its parked requests are
 * answered as usual.
 */
#ifndef KP_SASL_CONN_H
#define KP_SASL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_errors.h"
#include "kp_sasl.h"
#include "kp_sasl_cfg.h"

enum kp_sasl_state {
	KP_SASL_HANDSHAKE = 1,		/* ApiVersions and SaslHandshake */
	KP_SASL_AUTHENTICATE,		/* SaslAuthenticate requests */
	KP_SASL_RAW,			/* after SaslHandshake v0: bare tokens */
	KP_SASL_DONE,			/* authenticated */
};

struct kp_sasl_conn {
	const struct kp_sasl_listener *l;
	kp_scram_lookup_fn lookup;
	void *lookup_arg;
	enum kp_sasl_state state;
	int mech;			/* 0: PLAIN, else enum kp_scram_mech */
	struct kp_scram_server *scram;	/* a SCRAM exchange's state */
	bool reauth;			/* the exchange re-authenticates */
	int prev_mech;			/* the mechanism it must keep */
	bool bad_mech;			/* it asked for another one */
	int64_t expiry_ms;		/* the session ends (monotonic ms), 0
					 * never */
	int64_t reauth_begin_ms;	/* the last re-authentication began */
	int64_t lifetime_ms;		/* of the session last authenticated */
	char user[256];			/* the authenticated user, "" before */
};

void kp_sasl_conn_init(struct kp_sasl_conn *c, const struct kp_sasl_listener *l,
		       kp_scram_lookup_fn lookup, void *lookup_arg);
void kp_sasl_conn_free(struct kp_sasl_conn *c);

/* The listener's enabled mechanisms as SaslHandshake lists them, in v
 * (room for 4); their number. */
int32_t kp_sasl_mech_names(const struct kp_sasl_listener *l, kp_str v[4]);

/*
 * A SaslHandshake at version version naming mech (len bytes), in
 * KP_SASL_HANDSHAKE: NONE (the tokens are due, as SaslAuthenticate for
 * v1+, bare for v0), UNSUPPORTED_SASL_MECHANISM (the state stays), or
 * ILLEGAL_SASL_STATE in any other state.  -1 (out of memory) is returned
 * as UNKNOWN_SERVER_ERROR.
 */
kp_err_t kp_sasl_conn_handshake(struct kp_sasl_conn *c, const char *mech, size_t len,
				int16_t version);

/* A SaslHandshake arrived on an authenticated connection at now_ms: true
 * when it begins a re-authentication (the state is KP_SASL_HANDSHAKE
 * again), false when it is just an illegal request. */
bool kp_sasl_conn_reauth_begin(struct kp_sasl_conn *c, int64_t now_ms);

/* The authenticated session's lifetime has passed. */
bool kp_sasl_conn_expired(const struct kp_sasl_conn *c, int64_t now_ms);

/*
 * One client token in KP_SASL_AUTHENTICATE or KP_SASL_RAW at now_ms: 1
 * authenticated (c->user set, c->lifetime_ms the session lifetime to tell
 * a v1+ client, the state KP_SASL_DONE), 0 answered in out/outlen and
 * waiting for the next token, -1 failed (msg: Kafka's message for the
 * client; the connection is to be closed).  peer names the connection in
 * log lines.
 */
int kp_sasl_conn_token(struct kp_sasl_conn *c, const char *peer, const uint8_t *tok,
		       size_t len, char *out, size_t outcap, size_t *outlen, char *msg,
		       size_t msglen, int64_t now_ms);

#endif /* KP_SASL_CONN_H */
