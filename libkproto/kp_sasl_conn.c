/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl_conn.c - one connection's SASL exchange and session (KIP-368);
 * see kp_sasl_conn.h.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_log.h"
#include "kp_sasl_conn.h"

/* Kafka's KafkaChannel: at most one re-authentication a second. */
#define REAUTH_MIN_INTERVAL_MS 1000

void kp_sasl_conn_init(struct kp_sasl_conn *c, const struct kp_sasl_listener *l,
		       kp_scram_lookup_fn lookup, void *lookup_arg)
{
	memset(c, 0, sizeof(*c));
	c->l = l;
	c->lookup = lookup;
	c->lookup_arg = lookup_arg;
	c->state = KP_SASL_HANDSHAKE;
}

void kp_sasl_conn_free(struct kp_sasl_conn *c)
{
	if (c->scram != NULL) {
		kp_scram_server_clear(c->scram);
		free(c->scram);
		c->scram = NULL;
	}
}

int32_t kp_sasl_mech_names(const struct kp_sasl_listener *l, kp_str v[4])
{
	const char *p = l->mechs;
	int32_t n = 0;

	while (*p != '\0' && n < 4) {
		const char *e = strchr(p, ',');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		v[n].ptr = p;
		v[n++].len = (int32_t)len;
		p += len + (e != NULL);
	}
	return n;
}

static const char *mech_name(int mech)
{
	return mech == 0 ? "PLAIN" : kp_scram_mech_name(mech);
}

kp_err_t kp_sasl_conn_handshake(struct kp_sasl_conn *c, const char *mech, size_t len,
				int16_t version)
{
	int m = -1;

	if (c->state != KP_SASL_HANDSHAKE)
		return KP_ERR_ILLEGAL_SASL_STATE;
	if (len == 5 && memcmp(mech, "PLAIN", 5) == 0 && c->l->plain) {
		m = 0;
	} else if (len > 0) {
		int x = kp_scram_mech_parse(mech, len);

		if (x != 0 && c->l->scram[x])
			m = x;
	}
	if (m < 0)
		return KP_ERR_UNSUPPORTED_SASL_MECHANISM;
	if (m != 0) {
		if (c->scram == NULL && (c->scram = malloc(sizeof(*c->scram))) == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		kp_scram_server_init(c->scram, m);
	}
	/* a re-authentication must keep its mechanism: Kafka answers the
	 * handshake and fails the first token */
	c->bad_mech = c->reauth && m != c->prev_mech;
	c->mech = m;
	c->state = version == 0 ? KP_SASL_RAW : KP_SASL_AUTHENTICATE;
	return KP_ERR_NONE;
}

bool kp_sasl_conn_reauth_begin(struct kp_sasl_conn *c, int64_t now_ms)
{
	if (c->state != KP_SASL_DONE || c->expiry_ms == 0)
		return false;	/* no session lifetime: nothing to renew */
	if (c->reauth_begin_ms != 0 && now_ms - c->reauth_begin_ms < REAUTH_MIN_INTERVAL_MS)
		return false;
	c->reauth_begin_ms = now_ms;
	c->reauth = true;
	c->prev_mech = c->mech;
	c->state = KP_SASL_HANDSHAKE;
	return true;
}

bool kp_sasl_conn_expired(const struct kp_sasl_conn *c, int64_t now_ms)
{
	return c->expiry_ms != 0 && now_ms > c->expiry_ms;
}

int kp_sasl_conn_token(struct kp_sasl_conn *c, const char *peer, const uint8_t *tok,
		       size_t len, char *out, size_t outcap, size_t *outlen, char *msg,
		       size_t msglen, int64_t now_ms)
{
	char user[256];
	int rc;

	*outlen = 0;
	if (c->state != KP_SASL_AUTHENTICATE && c->state != KP_SASL_RAW) {
		snprintf(msg, msglen, "Unexpected SASL token");
		return -1;
	}
	if (c->bad_mech) {
		snprintf(msg, msglen, "SASL mechanism '%s' requested by client is not "
			 "supported for re-authentication of mechanism '%s'",
			 mech_name(c->mech), mech_name(c->prev_mech));
		KP_INFO("%s: %s", peer, msg);
		return -1;
	}
	rc = kp_sasl_server_step(c->l, c->mech, c->scram, c->lookup, c->lookup_arg, peer,
				 tok, len, out, outcap, outlen, user, sizeof(user), msg,
				 msglen);
	if (rc < 0 && c->reauth) {
		/* Kafka's text says which exchange failed */
		static const char a[] = "Authentication failed during authentication";
		char tail[256];

		if (strncmp(msg, a, sizeof(a) - 1) == 0) {
			snprintf(tail, sizeof(tail), "%s", msg + sizeof(a) - 1);
			snprintf(msg, msglen, "Authentication failed during "
				 "re-authentication%s", tail);
		}
	}
	if (rc <= 0)
		return rc;
	if (c->reauth && strcmp(user, c->user) != 0) {
		snprintf(msg, msglen, "Cannot change principals during re-authentication "
			 "from User.%s: User.%s", c->user, user);
		KP_INFO("%s: %s", peer, msg);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", user);
	c->lifetime_ms = c->l->reauth_ms[c->mech] > 0 ? c->l->reauth_ms[c->mech] : 0;
	c->expiry_ms = c->lifetime_ms > 0 ? now_ms + c->lifetime_ms : 0;
	if (c->reauth)
		KP_DEBUG("%s: re-authenticated as User:%s", peer, user);
	c->reauth = false;
	c->bad_mech = false;
	c->state = KP_SASL_DONE;
	return 1;
}
