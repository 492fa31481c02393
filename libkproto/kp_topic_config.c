/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_topic_config.c - the topic configuration table; see
 * kp_topic_config.h.  Keys, types, defaults and validation are Kafka
 * 2.8's LogConfig; the broker synonyms its TopicConfigSynonyms.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_topic_config.h"

#define L64 INT64_MAX
#define I32 INT32_MAX
#define T(key, type, def, min, max, valid, flags, check, doc, bkey) \
	{ { key, type, def, min, max, valid, doc, "Topic", flags, KP_DYN_READ_ONLY, \
	    check }, bkey }
#define INERT KP_CFG_INERT

/* Kafka's ApiVersion strings: each version, and its short form. */
static const char *const api_versions[] = {
	"0.8.0", "0.8.1", "0.8.2", "0.9.0", "0.10.0-IV0", "0.10.0-IV1",
	"0.10.1-IV0", "0.10.1-IV1", "0.10.1-IV2", "0.10.2-IV0", "0.11.0-IV0",
	"0.11.0-IV1", "0.11.0-IV2", "1.0-IV0", "1.1-IV0", "2.0-IV0", "2.0-IV1",
	"2.1-IV0", "2.1-IV1", "2.1-IV2", "2.2-IV0", "2.2-IV1", "2.3-IV0",
	"2.3-IV1", "2.4-IV0", "2.4-IV1", "2.5-IV0", "2.6-IV0", "2.7-IV0",
	"2.7-IV1", "2.7-IV2", "2.8-IV0", "2.8-IV1",
};

/*
 * ApiVersion.apply: the first three dot-separated parts of a 0.x version,
 * the first two of any other, name a version or the short form of one
 * ("2.8" and "2.8.1" are 2.8's latest, 2.8-IV1).  The index in
 * api_versions, or -1.
 */
static int api_version_index(const char *value)
{
	char key[64];
	size_t n = 0;
	int parts = strncmp(value, "0.", 2) == 0 ? 3 : 2, seen = 0;

	for (const char *p = value; *p != '\0' && n + 1 < sizeof(key); p++) {
		if (*p == '.' && ++seen == parts)
			break;
		key[n++] = *p;
	}
	key[n] = '\0';
	for (size_t i = 0; i < sizeof(api_versions) / sizeof(api_versions[0]); i++) {
		const char *v = api_versions[i];
		size_t sl = strcspn(v, "-");

		if (strcmp(v, key) == 0)
			return (int)i;
		/* a short form: the last of its series */
		if (strlen(key) == sl && strncmp(v, key, sl) == 0) {
			while (i + 1 < sizeof(api_versions) / sizeof(api_versions[0]) &&
			       strncmp(api_versions[i + 1], key, sl) == 0 &&
			       api_versions[i + 1][sl] == '-')
				i++;
			return (int)i;
		}
	}
	return -1;
}

int kp_api_version_at_least(const char *version, const char *min)
{
	int v = api_version_index(version), m = api_version_index(min);

	if (v < 0 || m < 0)
		return -1;
	return v >= m;
}

int kp_message_format_magic(const char *version)
{
	int i = api_version_index(version);

	/* the record versions of Kafka's ApiVersion: V1 from 0.10.0-IV0,
	 * V2 from 0.11.0-IV0 */
	if (i < 0)
		return -1;
	return i < 4 ? 0 : i < 10 ? 1 : 2;
}

int kp_api_version_check(const struct kp_config_def *d, const char *value,
			 char *err, size_t errlen)
{
	if (api_version_index(value) >= 0)
		return 0;
	snprintf(err, errlen, "Invalid value %s for configuration %s: Version `%s` "
		 "is not a valid version", value, d->key, value);
	return -1;
}

/* Range.between(0, 1) of a double. */
static int ratio_check(const struct kp_config_def *d, const char *value,
		       char *err, size_t errlen)
{
	double x = strtod(value, NULL);

	if (x < 0.0) {
		snprintf(err, errlen, "Invalid value %s for configuration %s: Value "
			 "must be at least 0", value, d->key);
		return -1;
	}
	if (x > 1.0) {
		snprintf(err, errlen, "Invalid value %s for configuration %s: Value "
			 "must be no more than 1", value, d->key);
		return -1;
	}
	return 0;
}

const struct kp_topic_config kp_topic_configs[] = {
	T("cleanup.policy", KP_CFG_LIST, "delete", 0, 0, "compact|delete", 0, NULL,
	  "delete and/or compact", "log.cleanup.policy"),
	T("compression.type", KP_CFG_STRING, "producer", 0, 0,
	  "uncompressed|zstd|lz4|snappy|gzip|producer", INERT, NULL,
	  "Codec of stored batches; producer keeps the producer's", "compression.type"),
	T("delete.retention.ms", KP_CFG_LONG, "86400000", 0, L64, NULL, 0, NULL,
	  "How long tombstones are kept", "log.cleaner.delete.retention.ms"),
	T("file.delete.delay.ms", KP_CFG_LONG, "60000", 0, L64, NULL, 0, NULL,
	  "Delay before deleted segment files are removed", "log.segment.delete.delay.ms"),
	T("flush.messages", KP_CFG_LONG, "9223372036854775807", 0, L64, NULL, 0, NULL,
	  "Messages between fsyncs", "log.flush.interval.messages"),
	T("flush.ms", KP_CFG_LONG, "9223372036854775807", 0, L64, NULL, 0, NULL,
	  "Time between fsyncs", "log.flush.interval.ms"),
	T("follower.replication.throttled.replicas", KP_CFG_LIST, "", 0, 0, NULL, 0, NULL,
	  "Replicas throttled on the follower side", NULL),
	T("index.interval.bytes", KP_CFG_INT, "4096", 0, I32, NULL, 0, NULL,
	  "Bytes between offset-index entries", "log.index.interval.bytes"),
	T("leader.replication.throttled.replicas", KP_CFG_LIST, "", 0, 0, NULL, 0, NULL,
	  "Replicas throttled on the leader side", NULL),
	T("max.compaction.lag.ms", KP_CFG_LONG, "9223372036854775807", 1, L64, NULL, 0, NULL,
	  "Maximum age before a record must be compacted", "log.cleaner.max.compaction.lag.ms"),
	T("max.message.bytes", KP_CFG_INT, "1048588", 0, I32, NULL, 0, NULL,
	  "Largest record batch accepted", "message.max.bytes"),
	T("message.downconversion.enable", KP_CFG_BOOL, "true", 0, 0, NULL, 0, NULL,
	  "Down-convert fetched batches for consumers of older fetch versions",
	  "log.message.downconversion.enable"),
	T("message.format.version", KP_CFG_STRING, "2.8-IV1", 0, 0, NULL, INERT,
	  kp_api_version_check, "Message format version of stored batches",
	  "log.message.format.version"),
	T("message.timestamp.difference.max.ms", KP_CFG_LONG, "9223372036854775807", 0, L64,
	  NULL, 0, NULL,
	  "Largest distance of a CreateTime timestamp from the broker's clock",
	  "log.message.timestamp.difference.max.ms"),
	T("message.timestamp.type", KP_CFG_STRING, "CreateTime", 0, 0,
	  "CreateTime|LogAppendTime", 0, NULL, "Timestamp kept in batches",
	  "log.message.timestamp.type"),
	T("min.cleanable.dirty.ratio", KP_CFG_DOUBLE, "0.5", 0, 0, NULL, 0, ratio_check,
	  "Dirty ratio above which the log is cleaned", "log.cleaner.min.cleanable.ratio"),
	T("min.compaction.lag.ms", KP_CFG_LONG, "0", 0, L64, NULL, 0, NULL,
	  "Minimum age before a record may be compacted", "log.cleaner.min.compaction.lag.ms"),
	T("min.insync.replicas", KP_CFG_INT, "1", 1, I32, NULL, 0, NULL,
	  "In-sync replicas needed for an acks=all write", "min.insync.replicas"),
	T("preallocate", KP_CFG_BOOL, "false", 0, 0, NULL, INERT, NULL,
	  "Preallocate segment files", "log.preallocate"),
	T("retention.bytes", KP_CFG_LONG, "-1", 0, 0, NULL, 0, NULL,
	  "Largest partition size before old segments go; negative: no limit",
	  "log.retention.bytes"),
	T("retention.ms", KP_CFG_LONG, "604800000", -1, L64, NULL, 0, NULL,
	  "Time to keep a segment; -1 forever", "log.retention.ms"),
	T("segment.bytes", KP_CFG_INT, "1073741824", 14, I32, NULL, 0, NULL,
	  "Segment size before rolling", "log.segment.bytes"),
	T("segment.index.bytes", KP_CFG_INT, "10485760", 4, I32, NULL, 0, NULL,
	  "Size of each segment's index files", "log.index.size.max.bytes"),
	T("segment.jitter.ms", KP_CFG_LONG, "0", 0, L64, NULL, 0, NULL,
	  "Random jitter subtracted from segment.ms", "log.roll.jitter.ms"),
	T("segment.ms", KP_CFG_LONG, "604800000", 1, L64, NULL, 0, NULL,
	  "Segment age before rolling", "log.roll.ms"),
	T("unclean.leader.election.enable", KP_CFG_BOOL, "false", 0, 0, NULL, 0, NULL,
	  "Allow an out-of-sync replica to become leader (the controller acts on it)",
	  "unclean.leader.election.enable"),
};

const size_t kp_topic_nconfigs =
	sizeof(kp_topic_configs) / sizeof(kp_topic_configs[0]);

bool kp_topic_name_legal(const char *name, size_t len)
{
	if (name == NULL || len == 0 || len > KP_TOPIC_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const struct kp_topic_config *kp_topic_config_find(const char *key)
{
	for (size_t i = 0; i < kp_topic_nconfigs; i++)
		if (strcmp(kp_topic_configs[i].def.key, key) == 0)
			return &kp_topic_configs[i];
	return NULL;
}

int kp_topic_config_validate(const char *key, const char *value, char *err,
			     size_t errlen)
{
	const struct kp_topic_config *c = kp_topic_config_find(key);

	if (c == NULL) {
		snprintf(err, errlen, "Unknown topic config name: %s", key);
		return -1;
	}
	if (value == NULL) {
		snprintf(err, errlen, "Null value not supported for topic config %s",
			 key);
		return -1;
	}
	return kp_config_validate(&c->def, value, err, errlen);
}
