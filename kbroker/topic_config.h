/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topic_config.h - a topic's effective configuration on this broker: its
 * overrides (/config/topics/<topic>, read by the caller) over the
 * broker's own log.* keys (config_layers.h: dynamic, then static, with
 * their synonyms) over Kafka's defaults (kp_topic_config).  Builds the
 * struct log_config of a partition's log.  Pure: no I/O, any thread.
 */
#ifndef TOPIC_CONFIG_H
#define TOPIC_CONFIG_H

#include <stdint.h>

#include "config_layers.h"
#include "kp_zkdata.h"
#include "log.h"

/* The effective value of a numeric topic key (over: the overrides, or NULL). */
int64_t topic_config_num(struct config_layers *l,
			 const struct kp_zk_entity_config *over, const char *key);
/* The effective value of a topic key, into buf when it is not over's. */
const char *topic_config_str(struct config_layers *l,
			     const struct kp_zk_entity_config *over, const char *key,
			     char *buf, size_t n);
/* The log settings for a topic with these overrides (NULL: none). */
void topic_config_log(struct config_layers *l,
		      const struct kp_zk_entity_config *over,
		      struct log_config *cfg);

#endif /* TOPIC_CONFIG_H */
