/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_describe.h - what DescribeConfigs says of a topic or a broker,
 * as Kafka's ConfigHelper: every key with its value, source, type,
 * sensitivity, read-only flag, documentation (with the note of the
 * table's flags) and, asked for, its synonyms layer by layer.
 * CreateTopics v5+ answers a new topic's entries the same way.
 *
 * Pure: the topic's overrides come in, the broker's layers are read
 * (config_layers.h); entries are built in the request's arena.  Any
 * thread.
 */
#ifndef CONFIG_DESCRIBE_H
#define CONFIG_DESCRIBE_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_msgs.h"
#include "kp_zkdata.h"

struct broker;

typedef struct kp_describe_configs_resp_describe_configs_resource_result
	config_entry;

/*
 * A topic with overrides over: the keys named (nkeys < 0: all), into
 * *out[*nout].  0 or -ENOMEM.
 */
int config_describe_topic(struct broker *b, struct kp_arena *a,
			  const struct kp_zk_entity_config *over, const kp_str *keys,
			  int32_t nkeys, bool synonyms, bool docs, config_entry **out,
			  int32_t *nout);
/*
 * This broker (per_broker) or the cluster-wide default, as Kafka lists a
 * broker entity: the keys named (nkeys < 0: all).  0 or -ENOMEM.
 */
int config_describe_broker(struct broker *b, struct kp_arena *a, bool per_broker,
			   const kp_str *keys, int32_t nkeys, bool synonyms,
			   bool docs, config_entry **out, int32_t *nout);

#endif /* CONFIG_DESCRIBE_H */
