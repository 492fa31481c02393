/*
 * topic_config.c - effective topic configuration; see topic_config.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker.h"
#include "dynconfig.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "topic_config.h"

int topic_config_synonym_keys(const char *k, const char *out[3])
{
	static const char *const groups[][4] = {
		{ "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
		{ "log.roll.ms", "log.roll.hours", NULL, NULL },
		{ "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
		{ "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
	};

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		int n = 0;

		if (strcmp(groups[g][0], k) != 0)
			continue;
		while (n < 3 && groups[g][n] != NULL) {
			out[n] = groups[g][n];
			n++;
		}
		return n;
	}
	out[0] = k;
	return 1;
}

/* A value of synonym key in the unit of the first (ms). */
static const char *in_ms(const char *key, const char *v, char *buf, size_t n)
{
	int64_t mul = 0, x;
	size_t kl = strlen(key);

	if (kl > 8 && strcmp(key + kl - 8, ".minutes") == 0)
		mul = 60000;
	else if (kl > 6 && strcmp(key + kl - 6, ".hours") == 0)
		mul = 3600000;
	if (mul == 0)
		return v;
	x = strtoll(v, NULL, 10);
	snprintf(buf, n, "%" PRId64, x < 0 ? -1 : x * mul);
	return buf;
}

const char *topic_config_broker_value(struct broker *b,
				      const struct kp_topic_config *tc,
				      char *buf, size_t n,
				      enum config_source *src)
{
	static const enum dyn_layer layers[] = { DYN_BROKER, DYN_DEFAULT, DYN_STATIC };
	const char *keys[3], *v;
	enum dyn_layer l;
	char tmp[128];
	int nk;

	*src = CONFIG_SOURCE_DEFAULT;
	if (tc->broker_key == NULL)
		return tc->def.def;
	/* Kafka merges the layers, then a key's own unit wins over the
	 * coarser synonyms (log.retention.ms over .minutes over .hours) */
	nk = topic_config_synonym_keys(tc->broker_key, keys);
	for (int i = 0; i < nk; i++)
		for (size_t j = 0; j < sizeof(layers) / sizeof(layers[0]); j++) {
			v = dynconfig_layer_get(b, layers[j], keys[i], tmp, sizeof(tmp));
			if (v == NULL)
				continue;
			*src = (enum config_source)layers[j];
			v = in_ms(keys[i], v, buf, n);
			if (v == tmp)
				snprintf(buf, n, "%s", tmp);
			return buf;
		}
	/* none set: the coarsest synonym's default is the one that has one */
	for (int i = nk - 1; i >= 0; i--) {
		v = dynconfig_broker_get(b, keys[i], tmp, sizeof(tmp), &l);
		if (v != NULL) {
			v = in_ms(keys[i], v, buf, n);
			if (v == tmp)
				snprintf(buf, n, "%s", tmp);
			return buf;
		}
	}
	return tc->def.def;
}

int topic_config_read(struct broker *b, const char *topic,
		      struct kp_zk_entity_config *out)
{
	struct kp_zk_result res;
	char path[512], err[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (b->zk == NULL)
		return 0;
	snprintf(path, sizeof(path), "/config/topics/%s", topic);
	rc = kp_zk_get_sync(b->zk, path, &res);
	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		return 0;
	}
	if (rc != KP_ZK_OK) {
		KP_WARN("reading %s: %s", path, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	rc = res.data != NULL ? kp_zk_config_decode(res.data, (size_t)res.len, out,
						     err, sizeof(err)) : 0;
	if (rc < 0)
		KP_WARN("%s: %s (overrides ignored)", path, err);
	kp_zk_result_free(&res);
	return rc;
}

int64_t topic_config_num(struct broker *b,
			 const struct kp_zk_entity_config *over, const char *key)
{
	const char *v = over != NULL ? kp_zk_config_get(over, key) : NULL;
	char buf[64];
	enum config_source src;

	if (v == NULL)
		v = topic_config_broker_value(b, kp_topic_config_find(key), buf,
					      sizeof(buf), &src);
	return strtoll(v, NULL, 10);
}

static const char *str(struct broker *b,
		       const struct kp_zk_entity_config *over, const char *key,
		       char *buf, size_t n)
{
	const char *v = over != NULL ? kp_zk_config_get(over, key) : NULL;
	enum config_source src;

	return v != NULL ? v : topic_config_broker_value(b, kp_topic_config_find(key),
							   buf, n, &src);
}

void topic_config_log(struct broker *b,
		      const struct kp_zk_entity_config *over,
		      struct log_config *cfg)
{
	const char *policy;
	char buf[64];

	log_config_defaults(cfg);
	cfg->segment_bytes = topic_config_num(b, over, "segment.bytes");
	cfg->segment_ms = topic_config_num(b, over, "segment.ms");
	cfg->segment_jitter_ms = topic_config_num(b, over, "segment.jitter.ms");
	cfg->segment_index_bytes = (int32_t)topic_config_num(b, over, "segment.index.bytes");
	cfg->index_interval_bytes = (int32_t)topic_config_num(b, over, "index.interval.bytes");
	cfg->flush_messages = topic_config_num(b, over, "flush.messages");
	cfg->flush_ms = topic_config_num(b, over, "flush.ms");
	cfg->retention_ms = topic_config_num(b, over, "retention.ms");
	cfg->retention_bytes = topic_config_num(b, over, "retention.bytes");
	cfg->file_delete_delay_ms = topic_config_num(b, over, "file.delete.delay.ms");
	cfg->log_append_time = strcmp(str(b, over, "message.timestamp.type", buf,
					  sizeof(buf)), "LogAppendTime") == 0;
	cfg->timestamp_diff_max_ms = topic_config_num(b, over,
						      "message.timestamp.difference.max.ms");
	cfg->downconversion = strcasecmp(str(b, over, "message.downconversion.enable",
					     buf, sizeof(buf)), "true") == 0;
	policy = str(b, over, "cleanup.policy", buf, sizeof(buf));
	cfg->delete_policy = strstr(policy, "delete") != NULL;
	cfg->compact_policy = strstr(policy, "compact") != NULL;
	cfg->delete_retention_ms = topic_config_num(b, over, "delete.retention.ms");
	cfg->min_cleanable_ratio = strtod(str(b, over, "min.cleanable.dirty.ratio",
					      buf, sizeof(buf)), NULL);
	cfg->min_compaction_lag_ms = topic_config_num(b, over, "min.compaction.lag.ms");
	cfg->max_compaction_lag_ms = topic_config_num(b, over, "max.compaction.lag.ms");
}
