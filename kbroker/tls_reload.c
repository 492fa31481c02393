/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_reload.c - a TLS listener's keystore and truststore replaced without
 * a restart, as Kafka 2.8 allows (KIP-226: the listener's SSL store keys
 * are dynamic, per broker and per listener only); see tls_reload.h.
 *
 * A listener's stores are named by its ten store keys
 * (listener.name.<l>.ssl.keystore.location and the others), read from
 * the properties file with this broker's dynamic entity
 * (/config/brokers/<id>) over it.  When what they name changes - a key's
 * value, or the modification time of a store file - a new SSL_CTX is
 * built with tls_context_new and handed to the listener's transport: new
 * connections use it, those already made keep theirs.  As Kafka's
 * SslFactory, a new keystore must be usable and keep the old
 * certificate's subject and subject alternative names; AlterConfigs is
 * refused otherwise (tls_reload_check), and a store that fails when the
 * change is applied leaves the old context in place, logged.
 *
 * Threads: tls_reload_check on the ZooKeeper thread, tls_reload_apply on
 * the main loop; what the latter remembers (each listener's last store
 * description) is its own.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "broker.h"
#include "config_layers.h"
#include "kp_listener.h"
#include "kp_log.h"
#include "net.h"
#include "tls_reload.h"
#include "transport_tls.h"

static const char *const store_keys[] = {
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password",
	"ssl.key.password", "ssl.keystore.certificate.chain", "ssl.keystore.key",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
	"ssl.truststore.certificates",
};

/* What each listener's context was last built from: written on the main
 * loop, read by tls_reload_check on the ZooKeeper thread, under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char **last_desc;
static size_t nlast;

bool tls_reload_key(const char *key)
{
	const char *p;

	if (strncmp(key, "listener.name.", 14) != 0 || (p = strchr(key + 14, '.')) == NULL)
		return false;
	for (size_t i = 0; i < sizeof(store_keys) / sizeof(store_keys[0]); i++)
		if (strcmp(p + 1, store_keys[i]) == 0)
			return true;
	return false;
}

/* b's file configuration with the listener overrides of dyn over it; free
 * view->props after. */
static int view_of(const struct broker *b, const struct kp_zk_entity_config *dyn,
		   struct kp_config *view)
{
	*view = b->cfg;
	kp_props_init(&view->props);
	for (size_t i = 0; i < b->cfg.props.count; i++)
		if (kp_props_set(&view->props, b->cfg.props.items[i].key,
				 b->cfg.props.items[i].value, 0) < 0)
			return -1;
	for (size_t i = 0; dyn != NULL && i < dyn->n; i++)
		if (tls_reload_key(dyn->keys[i]) &&
		    kp_props_set(&view->props, dyn->keys[i], dyn->values[i], 0) < 0)
			return -1;
	return 0;
}

/* Listener l's stores as one string: each key's value, and each store
 * file's modification time (a file replaced in place counts). */
static char *describe(const struct kp_config *view, const char *l)
{
	char buf[8192];
	size_t off = 0;

	for (size_t i = 0; i < sizeof(store_keys) / sizeof(store_keys[0]); i++) {
		const char *v = kp_listener_str(view, l, store_keys[i]);
		struct stat st;

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s=%s;",
					store_keys[i], v != NULL ? v : "");
		if (off >= sizeof(buf))
			return NULL;
		if (v != NULL && strstr(store_keys[i], "location") != NULL &&
		    stat(v, &st) == 0) {
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "@%lld.%09ld;",
						(long long)st.st_mtim.tv_sec,
						st.st_mtim.tv_nsec);
			if (off >= sizeof(buf))
				return NULL;
		}
	}
	return strdup(buf);
}

/* The names of a certificate's subjectAltName, for comparison. */
static int sans_contain(X509 *newc, X509 *oldc)
{
	GENERAL_NAMES *on = X509_get_ext_d2i(oldc, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAMES *nn = X509_get_ext_d2i(newc, NID_subject_alt_name, NULL, NULL);
	int ok = 1;

	for (int i = 0; on != NULL && i < sk_GENERAL_NAME_num(on) && ok; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(on, i);
		int found = 0;

		for (int j = 0; nn != NULL && j < sk_GENERAL_NAME_num(nn) && !found; j++)
			found = GENERAL_NAME_cmp(g, sk_GENERAL_NAME_value(nn, j)) == 0;
		ok = found;
	}
	GENERAL_NAMES_free(on);
	GENERAL_NAMES_free(nn);
	return ok;
}

/* Kafka's CertificateEntries.ensureCompatible, for the leaf certificate. */
static int compatible(SSL_CTX *newctx, SSL_CTX *oldctx, char *err, size_t errlen)
{
	X509 *n = SSL_CTX_get0_certificate(newctx), *o = SSL_CTX_get0_certificate(oldctx);
	char a[256], b[256];

	if (o == NULL)
		return 0;
	if (n == NULL) {
		snprintf(err, errlen, "Cannot remove the SSL keystore from an existing "
			 "listener for which a keystore was configured.");
		return -1;
	}
	if (X509_NAME_cmp(X509_get_subject_name(n), X509_get_subject_name(o)) != 0) {
		X509_NAME_oneline(X509_get_subject_name(o), a, sizeof(a));
		X509_NAME_oneline(X509_get_subject_name(n), b, sizeof(b));
		snprintf(err, errlen, "Keystore DistinguishedName does not match: "
			 "existing={DN=%.120s}, new={DN=%.120s}", a, b);
		return -1;
	}
	if (!sans_contain(n, o)) {
		snprintf(err, errlen, "Keystore SubjectAltNames do not match");
		return -1;
	}
	return 0;
}

/* A new context for listener i from view, checked against the one in
 * use; NULL with err. */
static SSL_CTX *build(struct broker *b, size_t i, const struct kp_config *view,
		      char *err, size_t errlen)
{
	char why[512];
	const char *l = b->listeners[i].listener;
	SSL_CTX *ctx = tls_context_new(view, l, true, why, sizeof(why));
	const struct transport_type *tt = b->net != NULL ?
		net_listener_transport_of(b->net, (int)i) : NULL;
	SSL_CTX *cur = tt != NULL && transport_is_tls(tt) ? transport_tls_ctx(tt) : NULL;

	if (ctx != NULL && cur != NULL && compatible(ctx, cur, why, sizeof(why)) < 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	SSL_CTX_free(cur);
	if (ctx == NULL)
		snprintf(err, errlen, "Validation of dynamic config update of SSLFactory "
			 "failed: listener %s: %.400s", l, why);
	return ctx;
}

static bool is_tls(const struct broker *b, size_t i)
{
	int p = b->lsn.bind_proto[i];

	return p == KP_SEC_SSL || p == KP_SEC_SASL_SSL;
}

kp_err_t tls_reload_check(struct broker *b, const struct kp_zk_entity_config *dyn,
			  char *msg, size_t n)
{
	struct kp_config view;
	kp_err_t e = 0;
	bool touched = false;

	for (size_t i = 0; i < dyn->n; i++)
		touched |= tls_reload_key(dyn->keys[i]);
	if (!touched)
		return 0;
	if (view_of(b, dyn, &view) < 0) {
		snprintf(msg, n, "out of memory");
		kp_props_free(&view.props);
		return KP_ERR_INVALID_REQUEST;
	}
	for (size_t i = 0; e == 0 && i < b->nlisteners; i++) {
		char *d;
		SSL_CTX *ctx;

		if (!is_tls(b, i))
			continue;
		bool same;

		d = describe(&view, b->listeners[i].listener);
		pthread_mutex_lock(&mu);
		same = d != NULL && i < nlast && last_desc[i] != NULL &&
		       strcmp(d, last_desc[i]) == 0;
		pthread_mutex_unlock(&mu);
		free(d);
		if (same)
			continue;	/* nothing this listener uses changes */
		ctx = build(b, i, &view, msg, n);
		if (ctx == NULL)
			e = KP_ERR_INVALID_REQUEST;
		SSL_CTX_free(ctx);
	}
	kp_props_free(&view.props);
	return e;
}

/* This broker's dynamic entity's store keys, from the layers. */
struct collect {
	struct broker *b;
	struct kp_zk_entity_config *c;
};

static void collect_key(const char *key, void *arg)
{
	struct collect *k = arg;

	if (tls_reload_key(key))
		kp_zk_config_set(k->c, key, "");	/* the value is read below */
}

void tls_reload_apply(struct broker *b)
{
	struct kp_zk_entity_config dyn = { 0 };
	struct collect k = { b, &dyn };
	struct kp_config view;

	if (b->net == NULL || b->layers == NULL)
		return;
	if (last_desc == NULL) {
		struct kp_config file;

		char **v = calloc(b->nlisteners + 1, sizeof(*v));

		/* what net_start built each listener's context from */
		if (v == NULL || view_of(b, NULL, &file) < 0) {
			free(v);
			return;
		}
		for (size_t i = 0; i < b->nlisteners; i++)
			if (is_tls(b, i))
				v[i] = describe(&file, b->listeners[i].listener);
		kp_props_free(&file.props);
		pthread_mutex_lock(&mu);
		last_desc = v;
		nlast = b->nlisteners;
		pthread_mutex_unlock(&mu);
	}
	config_layers_foreach(b->layers, CONFIG_SOURCE_DYNAMIC_BROKER, collect_key, &k);
	for (size_t i = 0; i < dyn.n; i++) {
		char buf[4096];
		const char *v = config_layers_get(b->layers, CONFIG_SOURCE_DYNAMIC_BROKER,
						  dyn.keys[i], buf, sizeof(buf));

		kp_zk_config_set(&dyn, dyn.keys[i], v != NULL ? v : "");
	}
	if (view_of(b, &dyn, &view) < 0) {
		kp_zk_config_free(&dyn);
		return;
	}
	for (size_t i = 0; i < nlast; i++) {
		char err[768], *d;
		SSL_CTX *ctx;

		if (!is_tls(b, i))
			continue;
		d = describe(&view, b->listeners[i].listener);
		if (d == NULL || (last_desc[i] != NULL && strcmp(d, last_desc[i]) == 0)) {
			free(d);
			continue;
		}
		ctx = build(b, i, &view, err, sizeof(err));
		if (ctx == NULL) {
			KP_ERROR("listener %s: the new SSL stores are not used, the old ones "
				 "stay: %s", b->listeners[i].listener, err);
			free(d);
			continue;
		}
		transport_tls_set_ctx(net_listener_transport_of(b->net, (int)i), ctx);
		pthread_mutex_lock(&mu);
		free(last_desc[i]);
		last_desc[i] = d;
		pthread_mutex_unlock(&mu);
		KP_INFO("listener %s: SSL keystore and truststore reloaded; new connections "
			"use them", b->listeners[i].listener);
	}
	kp_props_free(&view.props);
	kp_zk_config_free(&dyn);
}
