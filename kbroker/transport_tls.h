/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_tls.h - the TLS transport (OpenSSL) of the SSL and SASL_SSL
 * listeners, and the TLS contexts of skald's own connections.
 */
#ifndef TRANSPORT_TLS_H
#define TRANSPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "kp_config.h"
#include "transport.h"

/*
 * A TLS context from Kafka's ssl.* keys of c as listener sees them
 * (listener.name.<l>.<key> over <key>): a server's (keystore required,
 * ssl.client.auth) or a client's (peer verified against the truststore).
 * NULL with a message naming the key on any misconfiguration.
 */
SSL_CTX *tls_context_new(const struct kp_config *c, const char *listener,
			 bool server, char *err, size_t errlen);
/* The transport of one TLS listener's connections; free with
 * transport_tls_free after the listener closed. */
const struct transport_type *transport_tls_new(const struct kp_config *c,
					       const char *listener, char *err,
					       size_t errlen);
void transport_tls_free(const struct transport_type *type);
/* Whether type is a TLS listener's (transport_tls_new). */
bool transport_is_tls(const struct transport_type *type);
/* A new context (taken over) for the listener's new connections; the ones
 * already made keep theirs.  Any thread. */
void transport_tls_set_ctx(const struct transport_type *type, SSL_CTX *ctx);
/* The context in use, with a reference of the caller's (SSL_CTX_free). */
SSL_CTX *transport_tls_ctx(const struct transport_type *type);

#endif /* TRANSPORT_TLS_H */
