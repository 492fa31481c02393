/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_layers.h - where a broker key's value comes from, Kafka's
 * DynamicBrokerConfig without its I/O: the layers, their precedence, the
 * synonyms, which keys change at run time and the validation of a change.
 *
 * A broker key's value is, highest precedence first: /config/brokers/<id>
 * (DYNAMIC_BROKER_CONFIG), /config/brokers/<default>
 * (DYNAMIC_DEFAULT_BROKER_CONFIG), the properties file
 * (STATIC_BROKER_CONFIG), the table's default (DEFAULT_CONFIG): the
 * numbering of DescribeConfigs' ConfigSource, where a topic's own
 * override is 1.  Synonyms (log.retention.ms, .minutes, .hours) merge
 * across the layers as Kafka does: the finest unit set on any layer wins.
 *
 * Pure: dynconfig.c installs the dynamic layers it read from ZooKeeper;
 * topic_config.c, DescribeConfigs and the admin checks read them.
 * Threads: any; the dynamic layers are under the layers' own lock.  Every
 * function takes a NULL layers as "nothing set anywhere".
 */
#ifndef CONFIG_LAYERS_H
#define CONFIG_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_config.h"
#include "kp_errors.h"
#include "kp_topic_config.h"
#include "kp_zkdata.h"

/* DescribeConfigs' ConfigSource; 2-5 are a broker key's layers. */
enum config_source {
	CONFIG_SOURCE_TOPIC = 1,		/* DYNAMIC_TOPIC_CONFIG */
	CONFIG_SOURCE_DYNAMIC_BROKER = 2,	/* /config/brokers/<id> */
	CONFIG_SOURCE_DYNAMIC_DEFAULT = 3,	/* /config/brokers/<default> */
	CONFIG_SOURCE_STATIC_BROKER = 4,	/* the properties file */
	CONFIG_SOURCE_DEFAULT = 5,		/* the table */
};

struct config_layers;

/* Layers over the properties file (kept by the caller). */
struct config_layers *config_layers_new(const struct kp_config *file);
void config_layers_free(struct config_layers *l);
/* Install both dynamic layers (taken over; the caller's are left empty). */
void config_layers_set(struct config_layers *l, struct kp_zk_entity_config *broker,
		       struct kp_zk_entity_config *defaults);

/*
 * The value of key on one layer (2, 3 or 4), copied into buf; NULL when
 * that layer does not set it.
 */
const char *config_layers_get(struct config_layers *l, enum config_source layer,
			      const char *key, char *buf, size_t n);
/* fn(key, arg) for each key a dynamic layer (2 or 3) sets, under the lock:
 * fn copies what it keeps. */
void config_layers_foreach(struct config_layers *l, enum config_source layer,
			   void (*fn)(const char *key, void *arg), void *arg);
/* The effective value of a broker key (into buf) and its layer; the
 * table's default (or NULL when it has none) is layer 5. */
const char *config_layers_value(struct config_layers *l, const char *key,
				char *buf, size_t n, enum config_source *layer);
/* The effective value as a number (0 when unset). */
int64_t config_layers_long(struct config_layers *l, const char *key);
/*
 * The broker keys that give broker key k its value, highest precedence
 * first (Kafka's brokerConfigSynonyms: log.retention.ms, .minutes,
 * .hours; log.roll.ms, .hours; ...; usually just k).  How many (at most 3).
 */
int config_layers_synonyms(const char *k, const char *out[3]);
/*
 * The broker-level value of a topic key (into buf): the first synonym set
 * on a layer, converted to the topic key's unit, else the default; *src
 * says where it came from.
 */
const char *config_layers_topic_default(struct config_layers *l,
					const struct kp_topic_config *tc,
					char *buf, size_t n, enum config_source *src);

/* A broker key's definition: the configuration table or the dynamic-only
 * keys (the throttle rates); NULL when Kafka has no such broker key. */
const struct kp_config_def *config_layers_def(const char *key);
/* The definition a key's type follows: its own, or a listener override's base. */
const struct kp_config_def *config_layers_type_def(const char *key);
/* Whether Kafka 2.8 updates key dynamically (DynamicBrokerConfig). */
bool config_layers_is_dynamic(const char *key);
/* Kafka's isPasswordConfig: a dynamic password key or an override of one. */
bool config_layers_is_password(const char *key);
/*
 * Kafka's DynamicBrokerConfig.validateConfigs over the whole new content
 * of a broker entity (per_broker false: the cluster default), in Kafka's
 * order: keys that cannot change at run time, SSL store keys without a
 * listener prefix, the values of dynamic keys (an override by its base
 * key's rules; keys Kafka does not know are custom configs, kept as
 * given), per-broker keys in the cluster default.  0, or
 * KP_ERR_INVALID_REQUEST with Kafka's message.
 */
kp_err_t config_layers_check_entity(const struct kp_zk_entity_config *c,
				    bool per_broker, char *msg, size_t n);
/* The same for one key = value. */
kp_err_t config_layers_check_key(const char *key, const char *value,
				 bool per_broker, char *msg, size_t n);
/*
 * config_layers_check_entity, then what Kafka checks against the current
 * layers: KafkaConfig's requirements of the merged values and the
 * reconfigurables' rules (a thread pool or the log cleaner may at most
 * halve or double at once).  0 or KP_ERR_INVALID_REQUEST.
 */
kp_err_t config_layers_check_update(struct config_layers *l,
				    const struct kp_zk_entity_config *c,
				    bool per_broker, char *msg, size_t n);

#endif /* CONFIG_LAYERS_H */
