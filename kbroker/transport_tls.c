/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_tls.c - TLS with OpenSSL for the SSL listeners: one SSL_CTX
 * per listener, built from Kafka's ssl.* keys (each read through the
 * listener's override listener.name.<l>.<key>); a non-blocking
 * handshake stepped by net.c; reads and writes through SSL_read and
 * SSL_write; no sendfile (net.c copies file ranges through the worker's
 * buffer); a listener's connections read ahead (several records per
 * read(2)), and the bytes held inside, decrypted or not, are reported by
 * pending.  See transport.h.
 *
 * Keystores: PKCS12 files, PEM files (key and certificate chain in one
 * file), or PEM text inline (ssl.keystore.key and
 * ssl.keystore.certificate.chain), as Kafka 2.8 (KIP-651).  JKS is Java's
 * own format: it gets a clear error naming the key.  Client certificates
 * (ssl.client.auth) give the connection a principal as Kafka's default
 * principal builder does: the subject in RFC 2253 form through the
 * listener's ssl.principal.mapping.rules (kp_principal); a subject no rule
 * maps fails the connection, as in Kafka.  Without a certificate the
 * connection has none (User:ANONYMOUS).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kp_listener.h"
#include "kp_log.h"
#include "kp_principal.h"
#include "transport.h"
#include "transport_tls.h"

/* OpenSSL's read buffer on a listener's connections (read ahead). */
#define READ_AHEAD (64 * 1024)

/* A listener's transport: the table and the context its connections use. */
struct tls_type {
	struct transport_type tt;	/* first: accept gets a pointer to it */
	/* the context new connections get; replaced by a dynamic keystore
	 * update (transport_tls_set_ctx), under mu: a connection holds a
	 * reference of its own (SSL_new), so the old one lives on with the
	 * connections made with it */
	pthread_mutex_t mu;
	SSL_CTX *ctx;
	struct kp_principal_rules *rules;	/* ssl.principal.mapping.rules */
	char listener[KP_LISTENER_MAX];
};

struct tls_conn {
	struct transport t;
	SSL *ssl;
	const struct tls_type *type;
	bool peeked;			/* the first byte was looked at */
	bool done;			/* handshake finished */
	bool has_principal;		/* a client certificate, mapped */
	char principal[256];
};

/* ------------------------------------------------------------ errors */

/* OpenSSL's first queued error as text (the queue emptied). */
static const char *ssl_why(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, n, "no detail from OpenSSL");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* ---------------------------------------------------------- keystores */

/* What a password callback gets. */
struct pw {
	const char *pass;
};

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pw *p = u;
	size_t n;

	(void)rwflag;
	if (p == NULL || p->pass == NULL)
		return 0;
	n = strlen(p->pass);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, p->pass, n);
	return (int)n;
}

/* A BIO over a file or inline text. */
static BIO *bio_of(const char *path, const char *text)
{
	if (text != NULL)
		return BIO_new_mem_buf(text, -1);
	return BIO_new_file(path, "r");
}

/* PEM key and chain (from one file or two inline texts) into ctx. */
static int load_pem_keystore(SSL_CTX *ctx, const char *path, const char *chain,
			     const char *key, const char *keypass, char *err,
			     size_t errlen)
{
	const char *where = path != NULL ? "ssl.keystore.location" : "ssl.keystore.key";
	struct pw pw = { keypass };
	char why[256];
	BIO *b = bio_of(path, key);
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int rc = -1;

	if (b == NULL) {
		snprintf(err, errlen, "%s: cannot read %s: %s", where, path ? path : "PEM",
			 strerror(errno));
		return -1;
	}
	pk = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &pw);
	if (pk == NULL) {
		snprintf(err, errlen, "%s: no usable private key (%s; is ssl.key.password "
			 "right?)", where, ssl_why(why, sizeof(why)));
		goto out;
	}
	BIO_free(b);
	b = bio_of(path, chain);
	where = path != NULL ? "ssl.keystore.location" : "ssl.keystore.certificate.chain";
	if (b == NULL || (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "%s: no certificate (%s)", where,
			 ssl_why(why, sizeof(why)));
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		snprintf(err, errlen, "%s: certificate refused (%s)", where,
			 ssl_why(why, sizeof(why)));
		goto out;
	}
	/* the rest of the chain */
	for (;;) {
		X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (ca == NULL)
			break;
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			snprintf(err, errlen, "%s: chain certificate refused (%s)", where,
				 ssl_why(why, sizeof(why)));
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the PEM stream */
	if (X509_check_private_key(x, pk) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: the private key does not match the certificate",
			 path != NULL ? "ssl.keystore.location" : "ssl.keystore.key");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		snprintf(err, errlen, "%s: private key refused (%s)", where,
			 ssl_why(why, sizeof(why)));
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return rc;
}

/* A PKCS#12 file: key, certificate, chain (or, for a truststore, the
 * certificates alone). */
static PKCS12 *read_p12(const char *path, const char *key, char *err, size_t errlen)
{
	char why[256];
	BIO *b = BIO_new_file(path, "rb");
	PKCS12 *p12;

	if (b == NULL) {
		snprintf(err, errlen, "%s: cannot read %s: %s", key, path, strerror(errno));
		return NULL;
	}
	p12 = d2i_PKCS12_bio(b, NULL);
	BIO_free(b);
	if (p12 == NULL)
		snprintf(err, errlen, "%s: %s is not a PKCS12 file (%s)", key, path,
			 ssl_why(why, sizeof(why)));
	return p12;
}

static int load_p12_keystore(SSL_CTX *ctx, const char *path, const char *pass,
			     char *err, size_t errlen)
{
	char why[256];
	PKCS12 *p12 = read_p12(path, "ssl.keystore.location", err, errlen);
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = -1;

	if (p12 == NULL)
		return -1;
	if (PKCS12_parse(p12, pass != NULL ? pass : "", &pk, &x, &ca) != 1) {
		snprintf(err, errlen, "ssl.keystore.location: cannot open %s (%s; is "
			 "ssl.keystore.password right?)", path, ssl_why(why, sizeof(why)));
		goto out;
	}
	if (pk == NULL || x == NULL) {
		snprintf(err, errlen, "ssl.keystore.location: %s holds no private key "
			 "with its certificate", path);
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		snprintf(err, errlen, "ssl.keystore.location: %s refused (%s)", path,
			 ssl_why(why, sizeof(why)));
		goto out;
	}
	while (ca != NULL && sk_X509_num(ca) > 0) {
		X509 *c = sk_X509_shift(ca);

		if (SSL_CTX_add0_chain_cert(ctx, c) != 1) {
			X509_free(c);
			snprintf(err, errlen, "ssl.keystore.location: chain of %s refused (%s)",
				 path, ssl_why(why, sizeof(why)));
			goto out;
		}
	}
	rc = 0;
out:
	sk_X509_pop_free(ca, X509_free);
	X509_free(x);
	EVP_PKEY_free(pk);
	PKCS12_free(p12);
	return rc;
}

/* The trusted certificates into store; how many, or -1. */
static int load_truststore(X509_STORE *store, const char *type, const char *path,
			   const char *pass, const char *inline_pem, char *err,
			   size_t errlen)
{
	char why[256];
	int n = 0;

	if (inline_pem != NULL || strcasecmp(type, "PEM") == 0) {
		const char *key = inline_pem != NULL ? "ssl.truststore.certificates"
						     : "ssl.truststore.location";
		BIO *b = bio_of(path, inline_pem);

		if (b == NULL) {
			snprintf(err, errlen, "%s: cannot read %s: %s", key, path,
				 strerror(errno));
			return -1;
		}
		for (;;) {
			X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

			if (x == NULL)
				break;
			X509_STORE_add_cert(store, x);
			X509_free(x);
			n++;
		}
		ERR_clear_error();
		BIO_free(b);
		if (n == 0) {
			snprintf(err, errlen, "%s: no PEM certificate in it", key);
			return -1;
		}
		return n;
	}
	if (strcasecmp(type, "PKCS12") == 0) {
		PKCS12 *p12 = read_p12(path, "ssl.truststore.location", err, errlen);
		EVP_PKEY *pk = NULL;
		X509 *x = NULL;
		STACK_OF(X509) *ca = NULL;

		if (p12 == NULL)
			return -1;
		if (PKCS12_parse(p12, pass != NULL ? pass : "", &pk, &x, &ca) != 1) {
			snprintf(err, errlen, "ssl.truststore.location: cannot open %s (%s; "
				 "is ssl.truststore.password right?)", path,
				 ssl_why(why, sizeof(why)));
			PKCS12_free(p12);
			return -1;
		}
		if (x != NULL && X509_STORE_add_cert(store, x) == 1)
			n++;
		for (int i = 0; ca != NULL && i < sk_X509_num(ca); i++)
			if (X509_STORE_add_cert(store, sk_X509_value(ca, i)) == 1)
				n++;
		sk_X509_pop_free(ca, X509_free);
		X509_free(x);
		EVP_PKEY_free(pk);
		PKCS12_free(p12);
		if (n == 0) {
			snprintf(err, errlen, "ssl.truststore.location: %s holds no "
				 "certificate", path);
			return -1;
		}
		return n;
	}
	snprintf(err, errlen, "ssl.truststore.type: %s is not supported (PKCS12 or PEM; "
		 "JKS is Java's own format)", type);
	return -1;
}

/* ---------------------------------------------------- the SSL context */

/* "TLSv1.2" -> TLS1_2_VERSION; 0 for none. */
static int tls_version(const char *s)
{
	if (strcmp(s, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	return 0;
}

/* The lowest and highest of ssl.enabled.protocols. */
static int set_protocols(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	int lo = 0, hi = 0;

	snprintf(buf, sizeof(buf), "%s", list != NULL ? list : "");
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		int v = tls_version(tok);

		if (v == 0) {
			/* older protocols: Kafka 2.8 would enable them, OpenSSL
			 * here refuses them, so say so */
			snprintf(err, errlen, "ssl.enabled.protocols: %s is not supported "
				 "(TLSv1.2 and TLSv1.3 are)", tok);
			return -1;
		}
		if (lo == 0 || v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	if (lo == 0) {
		snprintf(err, errlen, "ssl.enabled.protocols is empty");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, lo);
	SSL_CTX_set_max_proto_version(ctx, hi);
	return 0;
}

/* ssl.cipher.suites, IANA names as Java's: TLS 1.3 suites apart, the
 * others through OpenSSL's name for them. */
static int set_ciphers(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
	char buf[4096], v12[4096] = "", v13[1024] = "", *tok, *save = NULL;

	if (list == NULL || *list == '\0')
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		if (strncmp(tok, "TLS_AES_", 8) == 0 || strncmp(tok, "TLS_CHACHA20_", 13) == 0) {
			snprintf(v13 + strlen(v13), sizeof(v13) - strlen(v13), "%s%s",
				 v13[0] ? ":" : "", tok);
		} else {
			const char *o = OPENSSL_cipher_name(tok);

			if (o == NULL || strcmp(o, "(NONE)") == 0) {
				snprintf(err, errlen, "ssl.cipher.suites: unknown cipher "
					 "suite %s", tok);
				return -1;
			}
			snprintf(v12 + strlen(v12), sizeof(v12) - strlen(v12), "%s%s",
				 v12[0] ? ":" : "", o);
		}
	}
	/* only TLS 1.2 suites named: no TLS 1.3 suite is enabled (OpenSSL
	 * cannot empty the TLS 1.2 list the other way round) */
	if ((v12[0] && SSL_CTX_set_cipher_list(ctx, v12) != 1) ||
	    (v13[0] && SSL_CTX_set_ciphersuites(ctx, v13) != 1) ||
	    (v12[0] && !v13[0] && SSL_CTX_set_ciphersuites(ctx, "") != 1)) {
		snprintf(err, errlen, "ssl.cipher.suites: none of %s is usable", list);
		return -1;
	}
	return 0;
}

SSL_CTX *tls_context_new(const struct kp_config *c, const char *listener, bool server,
			 char *err, size_t errlen)
{
#define V(key) kp_listener_str(c, listener, key)
	const char *ks_type = V("ssl.keystore.type");
	const char *ks_loc = V("ssl.keystore.location");
	const char *ks_pass = V("ssl.keystore.password");
	const char *key_pass = V("ssl.key.password");
	const char *ks_key = V("ssl.keystore.key");
	const char *ks_chain = V("ssl.keystore.certificate.chain");
	const char *ts_type = V("ssl.truststore.type");
	const char *ts_loc = V("ssl.truststore.location");
	const char *ts_pass = V("ssl.truststore.password");
	const char *ts_certs = V("ssl.truststore.certificates");
	const char *auth = server ? V("ssl.client.auth") : "none";
	const char *proto = V("ssl.protocol");
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	bool have_key = ks_loc != NULL || ks_key != NULL;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS context: %s", ssl_why(why, sizeof(why)));
		return NULL;
	}
	if (proto != NULL && strcmp(proto, "TLS") != 0 && tls_version(proto) == 0) {
		snprintf(err, errlen, "ssl.protocol: %s is not supported (TLSv1.2, "
			 "TLSv1.3 or TLS)", proto);
		goto fail;
	}
	if (set_protocols(ctx, V("ssl.enabled.protocols"), err, errlen) < 0 ||
	    set_ciphers(ctx, V("ssl.cipher.suites"), err, errlen) < 0)
		goto fail;
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (server) {
		/* a listener's reads: one read(2) takes up to READ_AHEAD bytes
		 * of records, not one 16 KB record at a time (a 1 MB Produce is
		 * 64 records); tls_pending reports what waits in that buffer */
		SSL_CTX_set_read_ahead(ctx, 1);
		SSL_CTX_set_default_read_buffer_len(ctx, READ_AHEAD);
	}
	if (server && !have_key) {
		snprintf(err, errlen, "listener %s: ssl.keystore.location (or "
			 "ssl.keystore.key and ssl.keystore.certificate.chain) is not set",
			 listener);
		goto fail;
	}
	if (ks_key != NULL || ks_chain != NULL) {
		if (ks_key == NULL || ks_chain == NULL) {
			snprintf(err, errlen, "%s is set without %s",
				 ks_key ? "ssl.keystore.key" : "ssl.keystore.certificate.chain",
				 ks_key ? "ssl.keystore.certificate.chain" : "ssl.keystore.key");
			goto fail;
		}
		if (load_pem_keystore(ctx, NULL, ks_chain, ks_key, key_pass, err, errlen) < 0)
			goto fail;
	} else if (ks_loc != NULL) {
		if (strcasecmp(ks_type, "PKCS12") == 0) {
			if (load_p12_keystore(ctx, ks_loc, ks_pass, err, errlen) < 0)
				goto fail;
		} else if (strcasecmp(ks_type, "PEM") == 0) {
			if (load_pem_keystore(ctx, ks_loc, NULL, NULL, key_pass, err,
					      errlen) < 0)
				goto fail;
		} else {
			snprintf(err, errlen, "ssl.keystore.type: %s is not supported "
				 "(PKCS12 or PEM; JKS is Java's own format)", ks_type);
			goto fail;
		}
	}
	if (have_key && SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: the private key does not match the certificate",
			 ks_loc != NULL ? "ssl.keystore.location" : "ssl.keystore.key");
		goto fail;
	}
	if (ts_loc != NULL || ts_certs != NULL) {
		if (load_truststore(SSL_CTX_get_cert_store(ctx), ts_type, ts_loc, ts_pass,
				    ts_certs, err, errlen) < 0)
			goto fail;
	} else if (!server) {
		/* as Java without a truststore: the system's trusted CAs */
		SSL_CTX_set_default_verify_paths(ctx);
	}
	if (server) {
		int mode = SSL_VERIFY_NONE;

		if (strcasecmp(auth, "required") == 0)
			mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		else if (strcasecmp(auth, "requested") == 0)
			mode = SSL_VERIFY_PEER;
		if (mode != SSL_VERIFY_NONE && ts_loc == NULL && ts_certs == NULL) {
			snprintf(err, errlen, "listener %s: ssl.client.auth=%s needs "
				 "ssl.truststore.location or ssl.truststore.certificates",
				 listener, auth);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, mode, NULL);
		/* session ids are per listener */
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)listener,
					       (unsigned int)strlen(listener));
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
#undef V
}

/* ---------------------------------------------------------- transport */

/* One line per second at most for the connections refused at the start. */
static void refused(const char *listener, const char *what)
{
	static _Atomic time_t last;
	time_t now = time(NULL);

	if (now != last) {
		last = now;
		KP_WARN("listener %s (TLS): closing a connection: %s", listener, what);
	}
}

static struct transport *tls_accept(const struct transport_type *type, int fd)
{
	const struct tls_type *tt = (const struct tls_type *)type;
	struct tls_type *mt = (struct tls_type *)type;
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		pthread_mutex_lock(&mt->mu);
		c->ssl = SSL_new(tt->ctx);
		pthread_mutex_unlock(&mt->mu);
	}
	if (c == NULL || c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		if (c != NULL)
			SSL_free(c->ssl);
		free(c);
		close(fd);
		ERR_clear_error();
		return NULL;
	}
	c->t.type = type;
	c->t.fd = fd;
	c->type = tt;
	return &c->t;
}

/* SSL_get_error as TRANSPORT_*; 0 for a clean end of the stream. */
static int ssl_result(struct tls_conn *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return TRANSPORT_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TRANSPORT_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0)
			return 0;	/* the peer went without close_notify */
		return TRANSPORT_ERROR;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return TRANSPORT_ERROR;
	}
}

static int tls_handshake(struct transport *t)
{
	struct tls_conn *c = (struct tls_conn *)t;
	int rc;

	if (!c->peeked) {
		unsigned char b;
		ssize_t n = recv(t->fd, &b, 1, MSG_PEEK);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return TRANSPORT_WANT_READ;
		if (n <= 0)
			return TRANSPORT_ERROR;
		c->peeked = true;
		/* a TLS handshake record starts 0x16; a Kafka request's
		 * size starts 0x00 */
		if (b != 0x16) {
			refused(c->type->listener, "the client sent plaintext, not a "
				"TLS ClientHello");
			errno = EPROTO;
			return TRANSPORT_ERROR;
		}
	}
	ERR_clear_error();
	errno = 0;
	rc = SSL_accept(c->ssl);
	if (rc == 1) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		X509 *peer = SSL_get1_peer_certificate(c->ssl);
#else
		X509 *peer = SSL_get_peer_certificate(c->ssl);
#endif
		char subject[1024] = "";

		if (peer != NULL) {
			BIO *b = BIO_new(BIO_s_mem());

			/* RFC 2253 as Java's X500Principal.getName() gives it:
			 * UTF-8 kept, not escaped as \XX */
			if (b != NULL &&
			    X509_NAME_print_ex(b, X509_get_subject_name(peer), 0,
					       (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
					       ASN1_STRFLGS_UTF8_CONVERT) >= 0) {
				int n = BIO_read(b, subject, sizeof(subject) - 1);

				subject[n > 0 ? n : 0] = '\0';
			}
			BIO_free(b);
			X509_free(peer);
			if (kp_principal_map(c->type->rules, subject, c->principal,
					     sizeof(c->principal)) < 0) {
				char why[512];

				snprintf(why, sizeof(why), "client certificate %s: "
					 "ssl.principal.mapping.rules: %s", subject,
					 c->principal);
				refused(c->type->listener, why);
				c->principal[0] = '\0';
				errno = EACCES;
				return TRANSPORT_ERROR;
			}
			c->has_principal = true;
		}
		c->done = true;
		KP_DEBUG("listener %s: %s handshake done, %s, principal User:%s%s%s%s",
			 c->type->listener, SSL_get_version(c->ssl),
			 SSL_get_cipher_name(c->ssl),
			 c->has_principal ? c->principal : "ANONYMOUS",
			 c->has_principal ? " (subject " : "", subject,
			 c->has_principal ? ")" : "");
		return 0;
	}
	rc = ssl_result(c, rc);
	if (rc == TRANSPORT_WANT_READ || rc == TRANSPORT_WANT_WRITE)
		return rc;
	{
		long v = SSL_get_verify_result(c->ssl);

		char why[256], detail[128];

		if (v != X509_V_OK) {
			snprintf(why, sizeof(why), "client certificate: %s",
				 X509_verify_cert_error_string(v));
			refused(c->type->listener, why);
		} else {
			snprintf(why, sizeof(why), "TLS handshake failed: %s",
				 ssl_why(detail, sizeof(detail)));
			refused(c->type->listener, why);
		}
	}
	return TRANSPORT_ERROR;
}

/*
 * As much as fits in buf of what OpenSSL holds and the socket has: one
 * SSL_read gives one record's bytes, and a client may send a request as
 * many small records (librdkafka writes each piece of its buffer as a
 * record of its own: a 1 KB value and its record header apart), so one
 * call goes on while records are there and room is left.  The caller
 * then has whole requests at once, not a record per pass of its loop.
 * Whatever stopped the loop after some bytes (no more data, the end of
 * the stream, an error) is met again by the next call.
 */
static ssize_t tls_read(struct transport *t, void *buf, size_t n)
{
	struct tls_conn *c = (struct tls_conn *)t;
	size_t got = 0;

	while (got < n) {
		size_t r = 0;
		int rc;

		ERR_clear_error();
		errno = 0;
		rc = SSL_read_ex(c->ssl, (char *)buf + got, n - got, &r);
		if (rc != 1) {
			if (got > 0) {
				ERR_clear_error();
				break;
			}
			return ssl_result(c, rc);
		}
		got += r;
	}
	return (ssize_t)got;
}

static ssize_t tls_write(struct transport *t, const void *buf, size_t n, bool more)
{
	struct tls_conn *c = (struct tls_conn *)t;
	int rc;

	(void)more;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	if (rc > 0)
		return rc;
	rc = ssl_result(c, rc);
	if (rc == 0) {
		errno = EPIPE;
		return TRANSPORT_ERROR;
	}
	return rc;
}

static bool tls_pending(struct transport *t)
{
	/* decrypted bytes, or records read ahead and not yet decrypted */
	return SSL_has_pending(((struct tls_conn *)t)->ssl) == 1;
}

static const char *tls_principal(struct transport *t)
{
	struct tls_conn *c = (struct tls_conn *)t;

	return c->has_principal ? c->principal : NULL;
}

static void tls_close(struct transport *t)
{
	struct tls_conn *c = (struct tls_conn *)t;

	if (c->done)
		SSL_shutdown(c->ssl);	/* close_notify, not waited for */
	SSL_free(c->ssl);
	ERR_clear_error();
	close(t->fd);
	free(c);
}

const struct transport_type *transport_tls_new(const struct kp_config *c,
					       const char *listener, char *err,
					       size_t errlen)
{
	struct tls_type *tt = calloc(1, sizeof(*tt));

	if (tt == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tt->ctx = tls_context_new(c, listener, true, err, errlen);
	if (tt->ctx == NULL) {
		free(tt);
		return NULL;
	}
	{
		char why[256];

		tt->rules = kp_principal_rules_new(kp_listener_str(c, listener,
								   "ssl.principal.mapping.rules"),
						   why, sizeof(why));
		if (tt->rules == NULL) {
			snprintf(err, errlen, "listener %s: ssl.principal.mapping.rules: %s",
				 listener, why);
			SSL_CTX_free(tt->ctx);
			free(tt);
			return NULL;
		}
	}
	snprintf(tt->listener, sizeof(tt->listener), "%s", listener);
	pthread_mutex_init(&tt->mu, NULL);
	tt->tt.name = "SSL";
	tt->tt.accept = tls_accept;
	tt->tt.handshake = tls_handshake;
	tt->tt.read = tls_read;
	tt->tt.write = tls_write;
	tt->tt.sendfile = NULL;
	tt->tt.pending = tls_pending;
	tt->tt.close = tls_close;
	tt->tt.principal = tls_principal;
	return &tt->tt;
}

void transport_tls_free(const struct transport_type *type)
{
	struct tls_type *tt = (struct tls_type *)type;

	if (tt == NULL)
		return;
	SSL_CTX_free(tt->ctx);
	kp_principal_rules_free(tt->rules);
	pthread_mutex_destroy(&tt->mu);
	free(tt);
}

bool transport_is_tls(const struct transport_type *type)
{
	return type != NULL && type->accept == tls_accept;
}

SSL_CTX *transport_tls_ctx(const struct transport_type *type)
{
	struct tls_type *tt = (struct tls_type *)type;
	SSL_CTX *ctx;

	pthread_mutex_lock(&tt->mu);
	ctx = tt->ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&tt->mu);
	return ctx;
}

void transport_tls_set_ctx(const struct transport_type *type, SSL_CTX *ctx)
{
	struct tls_type *tt = (struct tls_type *)type;
	SSL_CTX *old;

	pthread_mutex_lock(&tt->mu);
	old = tt->ctx;
	tt->ctx = ctx;
	pthread_mutex_unlock(&tt->mu);
	SSL_CTX_free(old);	/* connections made with it keep their reference */
}
