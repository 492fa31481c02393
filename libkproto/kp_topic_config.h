/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_topic_config.h - the per-topic configuration keys (Kafka 2.8's
 * LogConfig): names, types, bounds, and the broker key each one falls back
 * to when a topic does not override it.  Keys the broker does not act on
 * carry KP_CFG_INERT: they are accepted and described like the others.  Brokers validate CreateTopics and
 * DescribeConfigs with it; tools use it to validate before writing
 * /config/topics/<topic>.
 */
#ifndef KP_TOPIC_CONFIG_H
#define KP_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "kp_config.h"

struct kp_topic_config {
	struct kp_config_def def;	/* def.def: Kafka's built-in default */
	const char *broker_key;		/* the broker's synonym, or NULL */
};

extern const struct kp_topic_config kp_topic_configs[];
extern const size_t kp_topic_nconfigs;

/* Kafka's longest legal topic name (Topic.MAX_NAME_LENGTH). */
#define KP_TOPIC_NAME_MAX 249

/*
 * Kafka's Topic.validate on len bytes at name: 1-249 characters of
 * [a-zA-Z0-9._-], not "." nor "..".  Whatever passes is safe as one path
 * component, one znode name and one word of a checkpoint line.
 */
bool kp_topic_name_legal(const char *name, size_t len);

/* The definition of a topic key, or NULL when there is none. */
const struct kp_topic_config *kp_topic_config_find(const char *key);
/*
 * Check one override: the key must be a topic config and the value valid
 * for it.  0, or -1 with Kafka-like wording in err.
 */
int kp_topic_config_validate(const char *key, const char *value, char *err,
			     size_t errlen);
/*
 * Kafka's ApiVersionValidator (message.format.version,
 * inter.broker.protocol.version): a version Kafka 2.8 knows, as
 * "2.8-IV1", "2.8" or "2.8.2".  A kp_config_def check.
 */
int kp_api_version_check(const struct kp_config_def *d, const char *value,
			 char *err, size_t errlen);

/*
 * Whether an ApiVersion string (inter.broker.protocol.version) is min or
 * later: 1 or 0, -1 when either is not a version Kafka 2.8 knows.  A
 * short form is its series' latest ("2.7" is 2.7-IV2).
 */
int kp_api_version_at_least(const char *version, const char *min);

/*
 * The record magic Kafka 2.8 writes for a message.format.version (or
 * log.message.format.version) value: 0 before 0.10.0, 1 before 0.11.0,
 * else 2; -1 when Kafka would refuse the value ("0.10.2", "0.10.0-IV1",
 * "2.8", "2.8-IV1", "2.8.2" are fine, "3.0", "2.8-IV2" are not).
 */
int kp_message_format_magic(const char *version);

#endif /* KP_TOPIC_CONFIG_H */
