/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_listener.h - listeners and their security protocols, as Kafka 2.8's
 * KafkaConfig resolves them: `listeners`, `advertised.listeners`,
 * `listener.security.protocol.map`, `inter.broker.listener.name` or
 * `security.inter.broker.protocol`, and the per-listener overrides
 * `listener.name.<listener>.<key>`.
 *
 * Listener names are normalised to upper case (Kafka's
 * ListenerName.normalised); an override's prefix is the name in lower
 * case.  Errors carry Kafka's messages.
 */
#ifndef KP_LISTENER_H
#define KP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "kp_config.h"
#include "kp_zkdata.h"

/* Kafka's SecurityProtocol. */
enum kp_secproto {
	KP_SEC_PLAINTEXT = 0,
	KP_SEC_SSL = 1,
	KP_SEC_SASL_PLAINTEXT = 2,
	KP_SEC_SASL_SSL = 3,
};

/* The protocol of a name, case-insensitive (SecurityProtocol.forName); -1
 * for none. */
int kp_secproto_parse(const char *name);
/* "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL". */
const char *kp_secproto_name(int proto);
static inline bool kp_secproto_tls(int proto)
{
	return proto == KP_SEC_SSL || proto == KP_SEC_SASL_SSL;
}
static inline bool kp_secproto_sasl(int proto)
{
	return proto == KP_SEC_SASL_PLAINTEXT || proto == KP_SEC_SASL_SSL;
}

/* listener.security.protocol.map, parsed: name (upper case) -> protocol. */
struct kp_protocol_map {
	char (*names)[KP_LISTENER_MAX];
	int *protos;
	size_t n;
};

/* Parse "NAME:PROTOCOL,..." (the map's key); 0 or -1 with Kafka's message. */
int kp_protocol_map_parse(const char *text, struct kp_protocol_map *m,
			  char *err, size_t errlen);
/* A listener name's protocol in the map, or -1. */
int kp_protocol_map_get(const struct kp_protocol_map *m, const char *name);
void kp_protocol_map_free(struct kp_protocol_map *m);

/* A process's listeners, resolved and checked as Kafka checks them. */
struct kp_listeners {
	struct kp_endpoint *bind;	/* listeners */
	int *bind_proto;
	size_t nbind;
	struct kp_endpoint *adv;	/* advertised.listeners (or listeners) */
	int *adv_proto;
	size_t nadv;
	struct kp_protocol_map map;
	char inter_name[KP_LISTENER_MAX];	/* the inter-broker listener */
	int inter_proto;
};

/*
 * Resolve the keys of c (a table with the keys named above): the
 * endpoints, each with its protocol; the inter-broker listener.  check_inter
 * (brokers) also requires the inter-broker listener among the advertised
 * ones and the advertised names among the bound ones.  0, or -1 with
 * Kafka's message in err.
 */
int kp_listeners_resolve(const struct kp_config *c, bool check_inter,
			 struct kp_listeners *l, char *err, size_t errlen);
void kp_listeners_free(struct kp_listeners *l);
/* The advertised endpoint of a listener name, or NULL. */
const struct kp_endpoint *kp_listeners_advertised(const struct kp_listeners *l,
						  const char *name);

/*
 * A key's value for one listener: listener.name.<name in lower
 * case>.<key> when given, else the key's own value (kp_config_str).  The
 * key must be in c's table.
 */
const char *kp_listener_str(const struct kp_config *c, const char *listener,
			    const char *key);

#endif /* KP_LISTENER_H */
