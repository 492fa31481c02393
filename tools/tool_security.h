/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_security.h - the security settings of a Kafka client properties
 * file (--command-config, --producer.config, --consumer.config,
 * --admin.config): security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT,
 * SASL_SSL); ssl.truststore.* and ssl.keystore.* (PEM or PKCS12, or the
 * inline PEM keys), ssl.key.password, ssl.endpoint.identification.algorithm
 * (https by default: the broker's certificate must name its host),
 * ssl.enabled.protocols, ssl.protocol, ssl.cipher.suites; sasl.mechanism
 * (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with librdkafka's sasl.username
 * and sasl.password or Kafka's sasl.jaas.config (its username and
 * password options).
 *
 * The settings are the process's: every property reader hands the keys
 * to tool_security_property, and tool_cluster_open applies them to every
 * connection the tool makes.  Misconfigurations are usage errors naming
 * the key.
 */
#ifndef TOOL_SECURITY_H
#define TOOL_SECURITY_H

#include <stdbool.h>

struct kp_client_opts;

/* True when key is one of the keys above (taken: value checked, kept);
 * opt names the option the file came from, for messages. */
bool tool_security_property(const char *opt, const char *key, const char *value);
/* Fill o's TLS and SASL settings from what was given (the TLS context
 * made once); dies with a usage error naming the key on a
 * misconfiguration. */
void tool_security_apply(struct kp_client_opts *o);

#endif /* TOOL_SECURITY_H */
