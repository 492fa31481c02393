/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl_cfg.c - SASL set up from a daemon's configuration, and one step
 * of the server's exchange; see kp_sasl_cfg.h.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_listener.h"
#include "kp_log.h"
#include "kp_sasl_cfg.h"

/* listener.name.<l in lower case>.<mech in lower case>.sasl.jaas.config */
static void jaas_key(char *key, size_t n, const char *l, const char *mech)
{
	char *p;

	snprintf(key, n, "listener.name.%s.%s.sasl.jaas.config", l, mech);
	for (p = key + 14; *p != '\0' && p < key + n; p++)
		*p = (char)tolower((unsigned char)*p);
	/* the key's own tail is lower case already */
}

/* The JAAS line for l and mech (override, then sasl.jaas.config). */
static const char *jaas_text(const struct kp_config *c, const char *l, const char *mech,
			     char *key, size_t keylen)
{
	const char *v;

	jaas_key(key, keylen, l, mech);
	v = kp_config_raw(c, key);
	return v != NULL ? v : kp_config_str(c, "sasl.jaas.config");
}

/* connections.max.reauth.ms for l and mech: 0, or -1 naming the key. */
static int reauth_ms(const struct kp_config *c, const char *l, const char *mech,
		     int64_t *ms, char *err, size_t errlen)
{
	static const char base[] = "connections.max.reauth.ms";
	char key[3][200], *p, *end;
	const char *v = NULL;
	int i;
	long long x;

	snprintf(key[0], sizeof(key[0]), "listener.name.%s.%s.%s", l, mech, base);
	snprintf(key[1], sizeof(key[1]), "listener.name.%s.%s", l, base);
	snprintf(key[2], sizeof(key[2]), "%s", base);
	for (i = 0; i < 2; i++)
		for (p = key[i] + 14; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	for (i = 0; i < 3 && v == NULL; i++)
		v = kp_config_raw(c, key[i]);
	*ms = 0;
	if (v == NULL)
		return 0;
	i--;
	x = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || x < 0) {
		snprintf(err, errlen, "%s: %s is not a non-negative number of "
			 "milliseconds", key[i], v);
		return -1;
	}
	*ms = (int64_t)x;
	return 0;
}

int kp_sasl_listener_setup(const struct kp_config *c, const char *l,
			   struct kp_sasl_listener *s, char *err, size_t errlen)
{
	const char *m = kp_listener_str(c, l, "sasl.enabled.mechanisms");
	char buf[128], key[160], why[256], *tok, *save = NULL;
	const char *jaas;

	memset(s, 0, sizeof(*s));
	snprintf(buf, sizeof(buf), "%s", m != NULL ? m : "");
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		int mech = kp_scram_mech_parse(tok, strlen(tok));

		if (mech != 0) {
			s->scram[mech] = true;
		} else if (strcmp(tok, "PLAIN") == 0) {
			s->plain = true;
		} else {
			snprintf(err, errlen, "listener %s: sasl.enabled.mechanisms: %s is not "
				 "supported (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)", l, tok);
			return -1;
		}
		if (strlen(s->mechs) + strlen(tok) + 2 < sizeof(s->mechs))
			snprintf(s->mechs + strlen(s->mechs), sizeof(s->mechs) - strlen(s->mechs),
				 "%s%s", s->mechs[0] != '\0' ? "," : "", tok);
	}
	if (s->mechs[0] == '\0') {
		snprintf(err, errlen, "listener %s: sasl.enabled.mechanisms is empty", l);
		return -1;
	}
	for (int x = 0; x < 3; x++)
		if ((x == 0 ? s->plain : s->scram[x]) &&
		    reauth_ms(c, l, x == 0 ? "plain" : kp_scram_mech_name(x), &s->reauth_ms[x],
			      err, errlen) < 0)
			return -1;
	/* SCRAM's server side needs no JAAS options: the credentials are in
	 * ZooKeeper */
	if (!s->plain)
		return 0;
	jaas = jaas_text(c, l, "plain", key, sizeof(key));
	if (jaas == NULL) {
		snprintf(err, errlen, "listener %s: no JAAS configuration for PLAIN "
			 "(%s or sasl.jaas.config)", l, key);
		return -1;
	}
	if (kp_jaas_parse(jaas, &s->plain_jaas, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	if (strcmp(s->plain_jaas.module,
		   "org.apache.kafka.common.security.plain.PlainLoginModule") != 0) {
		snprintf(err, errlen, "%s: login module %s is not PlainLoginModule", key,
			 s->plain_jaas.module);
		kp_jaas_free(&s->plain_jaas);
		return -1;
	}
	return 0;
}

void kp_sasl_listener_free(struct kp_sasl_listener *s)
{
	kp_jaas_free(&s->plain_jaas);
}

int kp_sasl_client_setup(const struct kp_config *c, const char *l, const char *mech,
			 const char *mech_key, struct kp_jaas *jaas, char *err,
			 size_t errlen)
{
	char key[160], why[256];
	const char *text;

	if (mech == NULL || (strcmp(mech, "PLAIN") != 0 &&
			     kp_scram_mech_parse(mech, strlen(mech)) == 0)) {
		snprintf(err, errlen, "%s: %s is not supported (PLAIN, SCRAM-SHA-256 and "
			 "SCRAM-SHA-512 are)", mech_key, mech != NULL ? mech : "(none)");
		return -1;
	}
	text = jaas_text(c, l, mech, key, sizeof(key));
	if (text == NULL) {
		snprintf(err, errlen, "listener %s: no JAAS configuration for %s (%s or "
			 "sasl.jaas.config) with the username and password of %s=%s", l, mech,
			 key, mech_key, mech);
		return -1;
	}
	if (kp_jaas_parse(text, jaas, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	if (kp_jaas_get(jaas, "username") == NULL || kp_jaas_get(jaas, "password") == NULL) {
		snprintf(err, errlen, "%s: no username and password for %s=%s", key,
			 mech_key, mech);
		kp_jaas_free(jaas);
		return -1;
	}
	return 0;
}

int kp_sasl_server_step(const struct kp_sasl_listener *s, int mech,
			struct kp_scram_server *sc, kp_scram_lookup_fn lookup,
			void *lookup_arg, const char *peer, const uint8_t *tok,
			size_t len, char *out, size_t outcap, size_t *outlen,
			char *user, size_t userlen, char *msg, size_t msglen)
{
	char why[256];
	int n;

	*outlen = 0;
	if (mech == 0) {
		if (kp_sasl_plain_check(tok, len, &s->plain_jaas, user, userlen, msg,
					msglen) < 0) {
			KP_INFO("%s: failed authentication with SASL mechanism PLAIN: %s",
				peer, msg);
			return -1;
		}
		KP_DEBUG("%s: authenticated as User:%s (PLAIN)", peer, user);
		return 1;
	}
	if (sc == NULL) {
		snprintf(msg, msglen, "Unexpected SASL token");
		return -1;
	}
	if (sc->state == KP_SCRAM_WANT_FIRST)
		n = kp_scram_server_first(sc, tok, len, lookup, lookup_arg, NULL, out,
					  outcap, msg, msglen, why, sizeof(why));
	else
		n = kp_scram_server_final(sc, tok, len, out, outcap, msg, msglen, why,
					  sizeof(why));
	if (n < 0) {
		KP_INFO("%s: failed authentication with SASL mechanism %s%s%s: %s", peer,
			kp_scram_mech_name(mech), sc->user[0] ? " as " : "", sc->user, why);
		return -1;
	}
	*outlen = (size_t)n;
	if (sc->state != KP_SCRAM_DONE)
		return 0;
	snprintf(user, userlen, "%s", sc->user);
	KP_DEBUG("%s: authenticated as User:%s (%s)", peer, user, kp_scram_mech_name(mech));
	return 1;
}
