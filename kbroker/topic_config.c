/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topic_config.c - effective topic configuration; see topic_config.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kp_topic_config.h"
#include "topic_config.h"

const char *topic_config_str(struct config_layers *l,
			     const struct kp_zk_entity_config *over, const char *key,
			     char *buf, size_t n)
{
	const char *v = over != NULL ? kp_zk_config_get(over, key) : NULL;
	enum config_source src;

	return v != NULL ? v : config_layers_topic_default(l, kp_topic_config_find(key),
							    buf, n, &src);
}

int64_t topic_config_num(struct config_layers *l,
			 const struct kp_zk_entity_config *over, const char *key)
{
	char buf[64];

	return strtoll(topic_config_str(l, over, key, buf, sizeof(buf)), NULL, 10);
}

void topic_config_log(struct config_layers *l,
		      const struct kp_zk_entity_config *over,
		      struct log_config *cfg)
{
	const char *policy;
	char buf[64];

	log_config_defaults(cfg);
	cfg->segment_bytes = topic_config_num(l, over, "segment.bytes");
	cfg->segment_ms = topic_config_num(l, over, "segment.ms");
	cfg->segment_jitter_ms = topic_config_num(l, over, "segment.jitter.ms");
	cfg->segment_index_bytes = (int32_t)topic_config_num(l, over, "segment.index.bytes");
	cfg->index_interval_bytes = (int32_t)topic_config_num(l, over, "index.interval.bytes");
	cfg->flush_messages = topic_config_num(l, over, "flush.messages");
	cfg->flush_ms = topic_config_num(l, over, "flush.ms");
	cfg->retention_ms = topic_config_num(l, over, "retention.ms");
	cfg->retention_bytes = topic_config_num(l, over, "retention.bytes");
	cfg->file_delete_delay_ms = topic_config_num(l, over, "file.delete.delay.ms");
	cfg->log_append_time = strcmp(topic_config_str(l, over, "message.timestamp.type",
						       buf, sizeof(buf)),
				      "LogAppendTime") == 0;
	cfg->timestamp_diff_max_ms = topic_config_num(l, over,
						      "message.timestamp.difference.max.ms");
	cfg->downconversion = strcasecmp(topic_config_str(l, over,
							  "message.downconversion.enable",
							  buf, sizeof(buf)), "true") == 0;
	policy = topic_config_str(l, over, "cleanup.policy", buf, sizeof(buf));
	cfg->delete_policy = strstr(policy, "delete") != NULL;
	cfg->compact_policy = strstr(policy, "compact") != NULL;
	cfg->delete_retention_ms = topic_config_num(l, over, "delete.retention.ms");
	cfg->min_cleanable_ratio = strtod(topic_config_str(l, over,
							   "min.cleanable.dirty.ratio",
							   buf, sizeof(buf)), NULL);
	cfg->min_compaction_lag_ms = topic_config_num(l, over, "min.compaction.lag.ms");
	cfg->max_compaction_lag_ms = topic_config_num(l, over, "max.compaction.lag.ms");
	cfg->producer_expiration_ms = config_layers_long(l, "transactional.id.expiration.ms");
}
