/*
 * topic_config.c - effective topic configuration; see topic_config.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "topic_config.h"

/* A time the broker may give in ms, minutes or hours (Kafka's order). */
static int64_t broker_ms(const struct kp_config *c, const char *ms,
			 const char *minutes, const char *hours)
{
	if (kp_config_is_set(c, ms))
		return kp_config_long(c, ms);
	if (minutes != NULL && kp_config_is_set(c, minutes)) {
		int64_t m = kp_config_int(c, minutes);

		return m < 0 ? -1 : m * 60000;
	}
	if (kp_config_int(c, hours) < 0)
		return -1;
	return (int64_t)kp_config_int(c, hours) * 3600000;
}

const char *topic_config_broker_value(const struct broker *b,
				      const struct kp_topic_config *tc,
				      char *buf, size_t n, bool *from_file)
{
	const struct kp_config *c = &b->cfg;
	const char *k = tc->broker_key;

	*from_file = false;
	if (k == NULL)
		return tc->def.def;
	if (strcmp(k, "log.retention.ms") == 0) {
		*from_file = kp_config_is_set(c, k) ||
			     kp_config_is_set(c, "log.retention.minutes") ||
			     kp_config_is_set(c, "log.retention.hours");
		snprintf(buf, n, "%" PRId64, broker_ms(c, k, "log.retention.minutes",
							  "log.retention.hours"));
		return buf;
	}
	if (strcmp(k, "log.roll.ms") == 0 || strcmp(k, "log.roll.jitter.ms") == 0) {
		const char *hours = strcmp(k, "log.roll.ms") == 0
			? "log.roll.hours" : "log.roll.jitter.hours";

		*from_file = kp_config_is_set(c, k) || kp_config_is_set(c, hours);
		snprintf(buf, n, "%" PRId64, broker_ms(c, k, NULL, hours));
		return buf;
	}
	if (strcmp(k, "log.flush.interval.ms") == 0 && !kp_config_is_set(c, k)) {
		*from_file = kp_config_is_set(c, "log.flush.scheduler.interval.ms");
		return kp_config_str(c, "log.flush.scheduler.interval.ms");
	}
	*from_file = kp_config_is_set(c, k);
	return kp_config_str(c, k) != NULL ? kp_config_str(c, k) : tc->def.def;
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

int64_t topic_config_num(const struct broker *b,
			 const struct kp_zk_entity_config *over, const char *key)
{
	const char *v = over != NULL ? kp_zk_config_get(over, key) : NULL;
	char buf[32];
	bool file;

	if (v == NULL)
		v = topic_config_broker_value(b, kp_topic_config_find(key), buf,
					      sizeof(buf), &file);
	return strtoll(v, NULL, 10);
}

static const char *str(const struct broker *b,
		       const struct kp_zk_entity_config *over, const char *key,
		       char *buf, size_t n)
{
	const char *v = over != NULL ? kp_zk_config_get(over, key) : NULL;
	bool file;

	return v != NULL ? v : topic_config_broker_value(b, kp_topic_config_find(key),
							   buf, n, &file);
}

void topic_config_log(const struct broker *b,
		      const struct kp_zk_entity_config *over,
		      struct log_config *cfg)
{
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
	cfg->delete_policy = strstr(str(b, over, "cleanup.policy", buf, sizeof(buf)),
				    "delete") != NULL;
}
