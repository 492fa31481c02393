/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_security.c - a client properties file's security settings, applied
 * to the tools' connections; see tool_security.h.  The TLS context is the
 * brokers' own code (kbroker/transport_tls.c: the same keystore and
 * truststore formats, the same checks), read from a configuration built
 * over a table of the client keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "kp_client.h"
#include "kp_config.h"
#include "kp_listener.h"
#include "kp_sasl.h"
#include "tool.h"
#include "tool_security.h"
#include "transport_tls.h"

/* The ssl.* keys a Kafka client takes, with its defaults. */
static const struct kp_config_def ssl_defs[] = {
	{ "ssl.protocol", KP_CFG_STRING, "TLSv1.3", 0, 0, NULL, "", "SSL" },
	{ "ssl.enabled.protocols", KP_CFG_LIST, "TLSv1.2,TLSv1.3", 0, 0, NULL, "", "SSL" },
	{ "ssl.cipher.suites", KP_CFG_LIST, "", 0, 0, NULL, "", "SSL" },
	{ "ssl.keystore.type", KP_CFG_STRING, "JKS", 0, 0, NULL, "", "SSL" },
	{ "ssl.keystore.location", KP_CFG_STRING, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.keystore.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.key.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.keystore.key", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.keystore.certificate.chain", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.truststore.type", KP_CFG_STRING, "JKS", 0, 0, NULL, "", "SSL" },
	{ "ssl.truststore.location", KP_CFG_STRING, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.truststore.password", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.truststore.certificates", KP_CFG_PASSWORD, NULL, 0, 0, NULL, "", "SSL" },
	{ "ssl.endpoint.identification.algorithm", KP_CFG_STRING, "https", 0, 0, NULL, "",
	  "SSL" },
	{ "ssl.client.auth", KP_CFG_STRING, "none", 0, 0, NULL, "", "SSL" },
};

static struct {
	bool given;		/* any key */
	int proto;		/* enum kp_secproto */
	struct kp_props ssl;	/* the ssl.* keys as given */
	bool ssl_init;
	char *mech, *user, *pw;	/* sasl.mechanism, sasl.username/password */
	char *jaas_user, *jaas_pw;	/* from sasl.jaas.config */
	const char *opt;	/* the option of the last file */
	SSL_CTX *ctx;		/* made once */
	bool verify_host;
} sec;

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		tool_die("out of memory");
	return d;
}

bool tool_security_property(const char *opt, const char *key, const char *value)
{
	char err[256];

	if (!sec.ssl_init) {
		kp_props_init(&sec.ssl);
		sec.ssl_init = true;
	}
	if (strcmp(key, "security.protocol") == 0) {
		int p = kp_secproto_parse(value);

		if (p < 0)
			tool_usage_error("%s: security.protocol %s is not one of PLAINTEXT, "
					 "SSL, SASL_PLAINTEXT and SASL_SSL", opt, value);
		sec.proto = p;
	} else if (strncmp(key, "ssl.", 4) == 0 &&
		   kp_config_find(ssl_defs, sizeof(ssl_defs) / sizeof(ssl_defs[0]), key)
		   != NULL) {
		if (kp_props_set(&sec.ssl, key, value, 0) < 0)
			tool_die("out of memory");
	} else if (strcmp(key, "ssl.ca.location") == 0) {
		/* librdkafka's name for a PEM CA file (kcat's client files) */
		if (kp_props_set(&sec.ssl, "ssl.truststore.location", value, 0) < 0 ||
		    kp_props_set(&sec.ssl, "ssl.truststore.type", "PEM", 0) < 0)
			tool_die("out of memory");
	} else if (strcmp(key, "sasl.mechanism") == 0) {
		if (strcmp(value, "PLAIN") != 0 &&
		    kp_scram_mech_parse(value, strlen(value)) == 0)
			tool_usage_error("%s: sasl.mechanism %s is not supported (PLAIN, "
					 "SCRAM-SHA-256 and SCRAM-SHA-512 are)", opt, value);
		free(sec.mech);
		sec.mech = dup_or_die(value);
	} else if (strcmp(key, "sasl.username") == 0) {
		free(sec.user);
		sec.user = dup_or_die(value);
	} else if (strcmp(key, "sasl.password") == 0) {
		free(sec.pw);
		sec.pw = dup_or_die(value);
	} else if (strcmp(key, "sasl.jaas.config") == 0) {
		struct kp_jaas j;
		const char *u, *p;

		if (kp_jaas_parse(value, &j, err, sizeof(err)) < 0)
			tool_usage_error("%s: sasl.jaas.config: %s", opt, err);
		u = kp_jaas_get(&j, "username");
		p = kp_jaas_get(&j, "password");
		if (u == NULL || p == NULL) {
			kp_jaas_free(&j);
			tool_usage_error("%s: sasl.jaas.config has no username and "
					 "password", opt);
		}
		free(sec.jaas_user);
		free(sec.jaas_pw);
		sec.jaas_user = dup_or_die(u);
		sec.jaas_pw = dup_or_die(p);
		kp_jaas_free(&j);
	} else {
		return false;
	}
	sec.given = true;
	sec.opt = opt;
	return true;
}

void tool_security_apply(struct kp_client_opts *o)
{
	const char *opt = sec.opt != NULL ? sec.opt : "client properties";
	char err[512];

	if (!sec.given)
		return;
	if (kp_secproto_tls(sec.proto) && sec.ctx == NULL) {
		struct kp_config c;
		const char *alg;

		if (kp_config_build(&c, ssl_defs, sizeof(ssl_defs) / sizeof(ssl_defs[0]),
				    &sec.ssl, NULL, NULL, err, sizeof(err)) < 0)
			tool_usage_error("%s: %s", opt, err);
		sec.ctx = tls_context_new(&c, "CLIENT", false, err, sizeof(err));
		alg = kp_config_str(&c, "ssl.endpoint.identification.algorithm");
		sec.verify_host = alg != NULL && strcasecmp(alg, "https") == 0;
		kp_config_free(&c);
		if (sec.ctx == NULL)
			tool_usage_error("%s: %s", opt, err);
	}
	if (kp_secproto_tls(sec.proto)) {
		o->tls = sec.ctx;
		o->tls_verify_host = sec.verify_host;
	}
	if (kp_secproto_sasl(sec.proto)) {
		const char *u = sec.user != NULL ? sec.user : sec.jaas_user;
		const char *p = sec.pw != NULL ? sec.pw : sec.jaas_pw;

		if (sec.mech == NULL)
			tool_usage_error("%s: security.protocol %s needs sasl.mechanism "
					 "(PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; Kafka's "
					 "default GSSAPI is not supported)", opt,
					 kp_secproto_name(sec.proto));
		if (u == NULL || p == NULL)
			tool_usage_error("%s: sasl.mechanism %s needs sasl.username and "
					 "sasl.password, or sasl.jaas.config", opt, sec.mech);
		o->sasl_mechanism = sec.mech;
		o->sasl_username = u;
		o->sasl_password = p;
	}
}
