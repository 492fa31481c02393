/*
 * kp_topic_config.c - the topic configuration table; see
 * kp_topic_config.h.  Defaults are Kafka 2.8's.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kp_topic_config.h"

#define L64 INT64_MAX
#define I32 INT32_MAX
#define T(key, type, def, min, max, valid, doc, bkey) \
	{ { key, type, def, min, max, valid, doc, "Topic" }, bkey }

const struct kp_topic_config kp_topic_configs[] = {
	T("cleanup.policy", KP_CFG_LIST, "delete", 0, 0, NULL,
	  "delete and/or compact", "log.cleanup.policy"),
	T("compression.type", KP_CFG_STRING, "producer", 0, 0,
	  "uncompressed|zstd|lz4|snappy|gzip|producer",
	  "Codec of stored batches", "compression.type"),
	T("delete.retention.ms", KP_CFG_LONG, "86400000", 0, L64, NULL,
	  "How long tombstones are kept", "log.cleaner.delete.retention.ms"),
	T("file.delete.delay.ms", KP_CFG_LONG, "60000", 0, L64, NULL,
	  "Delay before deleted segment files are removed", "log.segment.delete.delay.ms"),
	T("flush.messages", KP_CFG_LONG, "9223372036854775807", 0, L64, NULL,
	  "Messages between fsyncs", "log.flush.interval.messages"),
	T("flush.ms", KP_CFG_LONG, "9223372036854775807", 0, L64, NULL,
	  "Time between fsyncs", "log.flush.interval.ms"),
	T("follower.replication.throttled.replicas", KP_CFG_LIST, "", 0, 0, NULL,
	  "Replicas throttled on the follower side", NULL),
	T("index.interval.bytes", KP_CFG_INT, "4096", 0, I32, NULL,
	  "Bytes between offset-index entries", "log.index.interval.bytes"),
	T("leader.replication.throttled.replicas", KP_CFG_LIST, "", 0, 0, NULL,
	  "Replicas throttled on the leader side", NULL),
	T("max.compaction.lag.ms", KP_CFG_LONG, "9223372036854775807", 1, L64, NULL,
	  "Maximum age before a record must be compacted", "log.cleaner.max.compaction.lag.ms"),
	T("max.message.bytes", KP_CFG_INT, "1048588", 0, I32, NULL,
	  "Largest record batch accepted", "message.max.bytes"),
	T("message.downconversion.enable", KP_CFG_BOOL, "true", 0, 0, NULL,
	  "Down-convert for old consumers", "log.message.downconversion.enable"),
	T("message.format.version", KP_CFG_STRING, "2.8", 0, 0, NULL,
	  "Message format version", "log.message.format.version"),
	T("message.timestamp.difference.max.ms", KP_CFG_LONG, "9223372036854775807", 0, L64, NULL,
	  "Largest distance of a CreateTime timestamp from the broker's clock",
	  "log.message.timestamp.difference.max.ms"),
	T("message.timestamp.type", KP_CFG_STRING, "CreateTime", 0, 0,
	  "CreateTime|LogAppendTime", "Timestamp kept in batches",
	  "log.message.timestamp.type"),
	T("min.cleanable.dirty.ratio", KP_CFG_DOUBLE, "0.5", 0, 0, NULL,
	  "Dirty ratio above which the log is cleaned", "log.cleaner.min.cleanable.ratio"),
	T("min.compaction.lag.ms", KP_CFG_LONG, "0", 0, L64, NULL,
	  "Minimum age before a record may be compacted", "log.cleaner.min.compaction.lag.ms"),
	T("min.insync.replicas", KP_CFG_INT, "1", 1, I32, NULL,
	  "In-sync replicas needed for an acks=all write", "min.insync.replicas"),
	T("preallocate", KP_CFG_BOOL, "false", 0, 0, NULL,
	  "Preallocate segment files", "log.preallocate"),
	T("retention.bytes", KP_CFG_LONG, "-1", -1, L64, NULL,
	  "Largest partition size before old segments go", "log.retention.bytes"),
	T("retention.ms", KP_CFG_LONG, "604800000", -1, L64, NULL,
	  "Time to keep a segment; -1 forever", "log.retention.ms"),
	T("segment.bytes", KP_CFG_INT, "1073741824", 14, I32, NULL,
	  "Segment size before rolling", "log.segment.bytes"),
	T("segment.index.bytes", KP_CFG_INT, "10485760", 4, I32, NULL,
	  "Size of each segment's index files", "log.index.size.max.bytes"),
	T("segment.jitter.ms", KP_CFG_LONG, "0", 0, L64, NULL,
	  "Random jitter subtracted from segment.ms", "log.roll.jitter.ms"),
	T("segment.ms", KP_CFG_LONG, "604800000", 1, L64, NULL,
	  "Segment age before rolling", "log.roll.ms"),
	T("unclean.leader.election.enable", KP_CFG_BOOL, "false", 0, 0, NULL,
	  "Allow an out-of-sync replica to become leader",
	  "unclean.leader.election.enable"),
};

const size_t kp_topic_nconfigs =
	sizeof(kp_topic_configs) / sizeof(kp_topic_configs[0]);

const struct kp_topic_config *kp_topic_config_find(const char *key)
{
	for (size_t i = 0; i < kp_topic_nconfigs; i++)
		if (strcmp(kp_topic_configs[i].def.key, key) == 0)
			return &kp_topic_configs[i];
	return NULL;
}

/* Kafka 2.8's ApiVersion list: each short version, its last IV, its magic. */
static const struct {
	const char *v;
	int last_iv;		/* -1: no "-IVn" forms */
	int8_t magic;
} format_versions[] = {
	{ "0.8.0", -1, 0 }, { "0.8.1", -1, 0 }, { "0.8.2", -1, 0 },
	{ "0.9.0", -1, 0 }, { "0.10.0", 1, 1 }, { "0.10.1", 2, 1 },
	{ "0.10.2", 0, 1 }, { "0.11.0", 2, 2 }, { "1.0", 0, 2 },
	{ "1.1", 0, 2 }, { "2.0", 1, 2 }, { "2.1", 2, 2 }, { "2.2", 1, 2 },
	{ "2.3", 1, 2 }, { "2.4", 1, 2 }, { "2.5", 0, 2 }, { "2.6", 0, 2 },
	{ "2.7", 2, 2 }, { "2.8", 1, 2 },
};

int kp_message_format_magic(const char *version)
{
	/* ApiVersion.apply: the first three dot-separated parts of a 0.x
	 * version, the first two of others, must name a known version */
	int parts = strncmp(version, "0.", 2) == 0 ? 3 : 2;
	size_t n = 0, vl;

	for (int dots = 0; version[n] != 0; n++)
		if (version[n] == '.' && ++dots == parts)
			break;
	for (size_t i = 0; i < sizeof(format_versions) / sizeof(format_versions[0]); i++) {
		vl = strlen(format_versions[i].v);
		if (n < vl || strncmp(version, format_versions[i].v, vl) != 0)
			continue;
		if (n == vl)
			return format_versions[i].magic;
		if (n == vl + 4 && strncmp(version + vl, "-IV", 3) == 0 &&
		    version[vl + 3] >= '0' &&
		    version[vl + 3] <= '0' + format_versions[i].last_iv)
			return format_versions[i].magic;
	}
	return -1;
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
	if (strcmp(key, "cleanup.policy") == 0) {
		const char *s = value;

		/* a comma-separated list of delete and compact */
		do {
			size_t n;

			while (*s == ' ')
				s++;
			n = strcspn(s, ", ");
			if (!((n == 6 && strncmp(s, "delete", 6) == 0) ||
			      (n == 7 && strncmp(s, "compact", 7) == 0))) {
				snprintf(err, errlen, "Invalid value %s for configuration "
					 "cleanup.policy: String must be one of: compact, delete",
					 value);
				return -1;
			}
			s += n;
			while (*s == ' ')
				s++;
		} while (*s++ == ',');
		return 0;
	}
	if (strcmp(key, "message.format.version") == 0 &&
	    kp_message_format_magic(value) < 0) {
		snprintf(err, errlen, "Invalid value %s for configuration "
			 "message.format.version: Version `%s` is not a valid version",
			 value, value);
		return -1;
	}
	return kp_config_validate(&c->def, value, err, errlen);
}
