/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl_cfg.h - SASL as a daemon's configuration sets it up, shared by
 * kbroker and kcontroller: a SASL listener's mechanisms and PLAIN users
 * (sasl.enabled.mechanisms, the PlainLoginModule JAAS line), the client
 * side of skald's own connections (a mechanism and the username and
 * password of its JAAS line), and one step of the server's exchange.
 *
 * Keys are read as Kafka 2.8 reads them: listener.name.<l>.<key> over
 * <key>, and listener.name.<l>.<mechanism>.sasl.jaas.config over
 * sasl.jaas.config.  Errors name the key.
 */
#ifndef KP_SASL_CFG_H
#define KP_SASL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_config.h"
#include "kp_sasl.h"

/* A SASL listener's mechanisms and PLAIN users. */
struct kp_sasl_listener {
	bool plain;			/* PLAIN is enabled */
	bool scram[3];			/* by enum kp_scram_mech: enabled */
	struct kp_jaas plain_jaas;	/* PlainLoginModule: user_<name> */
	char mechs[128];		/* enabled, comma-separated */
	/* KIP-368 by mechanism (0: PLAIN, else enum kp_scram_mech): the
	 * longest a session lives before re-authenticating, 0 forever */
	int64_t reauth_ms[3];
};

/* Listener l's sasl.enabled.mechanisms, with PLAIN its JAAS line, and
 * each mechanism's connections.max.reauth.ms (listener.name.<l>.<mech>.
 * over listener.name.<l>. over the key itself, as Kafka's
 * ListenerName.saslMechanismConfigPrefix).  0, or -1 with a message
 * naming the key. */
int kp_sasl_listener_setup(const struct kp_config *c, const char *l,
			   struct kp_sasl_listener *s, char *err, size_t errlen);
void kp_sasl_listener_free(struct kp_sasl_listener *s);

/*
 * The client side towards listener l with mechanism mech (mech_key names
 * the key it came from, for messages): the mechanism's JAAS line, which
 * must carry username and password.  0 (jaas filled), or -1.
 */
int kp_sasl_client_setup(const struct kp_config *c, const char *l, const char *mech,
			 const char *mech_key, struct kp_jaas *jaas, char *err,
			 size_t errlen);

/*
 * One token of a server exchange with mechanism mech (0: PLAIN, else
 * enum kp_scram_mech; sc the SCRAM state, NULL for PLAIN): 1 authenticated
 * (user set), 0 answered in out/outlen and waiting for the next token, -1
 * failed (msg: what the client is told; the detail is logged with peer).
 */
int kp_sasl_server_step(const struct kp_sasl_listener *s, int mech,
			struct kp_scram_server *sc, kp_scram_lookup_fn lookup,
			void *lookup_arg, const char *peer, const uint8_t *tok,
			size_t len, char *out, size_t outcap, size_t *outlen,
			char *user, size_t userlen, char *msg, size_t msglen);

#endif /* KP_SASL_CFG_H */
