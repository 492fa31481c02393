/*
 * topic_config.h - a topic's effective configuration on this broker: the
 * overrides in /config/topics/<topic> over the broker's own log.* keys
 * (dynamic, then static: dynconfig.c) over Kafka's defaults.  Builds the
 * struct log_config of a partition's log and answers DescribeConfigs.
 */
#ifndef TOPIC_CONFIG_H
#define TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "kp_topic_config.h"
#include "kp_zkdata.h"
#include "log.h"

struct broker;

/* Where a value comes from (DescribeConfigs' ConfigSource). */
enum config_source {
	CONFIG_SOURCE_TOPIC = 1,		/* DYNAMIC_TOPIC_CONFIG */
	CONFIG_SOURCE_DYNAMIC_BROKER = 2,	/* /config/brokers/<id> */
	CONFIG_SOURCE_DYNAMIC_DEFAULT = 3,	/* /config/brokers/<default> */
	CONFIG_SOURCE_STATIC_BROKER = 4,	/* the properties file */
	CONFIG_SOURCE_DEFAULT = 5,
};

/*
 * The broker keys that give broker key k its value, highest precedence
 * first (Kafka's brokerConfigSynonyms: log.retention.ms, .minutes,
 * .hours; log.roll.ms, .hours; ...; usually just k).  Returns how many
 * (at most 3) are in out.
 */
int topic_config_synonym_keys(const char *k, const char *out[3]);
/*
 * The broker-level value of a topic key (into buf): the first synonym set
 * on any layer (dynamic per-broker, dynamic default, properties file),
 * converted to the topic key's unit, else the default; *src says where it
 * came from.
 */
const char *topic_config_broker_value(struct broker *b,
				      const struct kp_topic_config *tc,
				      char *buf, size_t n,
				      enum config_source *src);
/* Read /config/topics/<topic> (absent: no overrides).  0 or -1. */
int topic_config_read(struct broker *b, const char *topic,
		      struct kp_zk_entity_config *out);
/* The effective value of a numeric topic key. */
int64_t topic_config_num(struct broker *b,
			 const struct kp_zk_entity_config *over, const char *key);
/* The log settings for a topic with these overrides (NULL: none). */
void topic_config_log(struct broker *b,
		      const struct kp_zk_entity_config *over,
		      struct log_config *cfg);

#endif /* TOPIC_CONFIG_H */
