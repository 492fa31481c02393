/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_groupmeta.h - what the group coordinator stores in __consumer_offsets,
 * and where a group lives.
 *
 * Keys and values are Kafka's: a big-endian int16 schema version, then a
 * classic (non-flexible) struct.  Key versions 0 and 1 are offset commits
 * (group, topic, partition), version 2 is a group's metadata (group).  A
 * null value is a tombstone.  Offset values: v0/v2 (offset, metadata,
 * commit time), v1 (plus an expire time), v3 (offset, leader epoch,
 * metadata, commit time).  Group values v0..v3 (v1 adds the members'
 * rebalance timeout, v2 the state timestamp, v3 the members' instance id).
 *
 * Decoders are bounds-checked and return -1 on anything malformed; decoded
 * strings point into the input.
 */
#ifndef KP_GROUPMETA_H
#define KP_GROUPMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_OFFSETS_TOPIC "__consumer_offsets"

/* Java's String.hashCode() over the UTF-16 code units of UTF-8 text
 * (malformed bytes count as U+FFFD, as Java's decoder replaces them). */
int32_t kp_java_string_hash(const char *s, size_t len);
/* The __consumer_offsets partition of a group: Kafka's
 * Utils.abs(hashCode) % n, where abs(INT_MIN) is 0. */
int32_t kp_group_partition(const char *group, size_t len, int32_t n);

enum kp_gm_type {
	KP_GM_OFFSET = 1,	/* key v0/v1 */
	KP_GM_GROUP = 2,	/* key v2 */
};

struct kp_gm_key {
	int16_t version;
	kp_str group;
	kp_str topic;		/* offsets only */
	int32_t partition;
};

/* The record type (KP_GM_*), 0 for a key version we do not know, -1 when
 * malformed. */
int kp_gm_key_decode(const uint8_t *p, size_t len, struct kp_gm_key *k);
void kp_gm_offset_key_encode(struct kp_wbuf *w, kp_str group, kp_str topic,
			     int32_t partition);
void kp_gm_group_key_encode(struct kp_wbuf *w, kp_str group);

struct kp_gm_offset {
	int64_t offset;
	int32_t leader_epoch;	/* -1: none */
	kp_str metadata;
	int64_t commit_ts;	/* wall clock ms */
	int64_t expire_ts;	/* -1: none (written as v1 otherwise) */
};

int kp_gm_offset_value_decode(const uint8_t *p, size_t len,
			      struct kp_gm_offset *v);
/* v3, or v1 when an explicit expire time is set (as Kafka 2.8 writes). */
void kp_gm_offset_value_encode(struct kp_wbuf *w, const struct kp_gm_offset *v);

struct kp_gm_member {
	kp_str member_id;
	kp_str instance_id;	/* null when static membership is not used */
	kp_str client_id;
	kp_str client_host;
	int32_t rebalance_timeout;
	int32_t session_timeout;
	kp_bytes subscription;
	kp_bytes assignment;
};

struct kp_gm_group {
	kp_str protocol_type;
	int32_t generation;
	kp_str protocol;	/* may be null */
	kp_str leader;		/* may be null */
	int64_t state_ts;	/* -1: none */
	struct kp_gm_member *members;
	int32_t nmembers;
};

/* Members are allocated in a. */
int kp_gm_group_value_decode(const uint8_t *p, size_t len, struct kp_arena *a,
			     struct kp_gm_group *g);
/* Always v3. */
void kp_gm_group_value_encode(struct kp_wbuf *w, const struct kp_gm_group *g);

/*
 * Does a "consumer" protocol subscription (ConsumerProtocol Subscription:
 * version, topics, user data, ...) name topic?  false when malformed.
 */
bool kp_consumer_subscribes(kp_bytes subscription, kp_str topic);

/*
 * The "consumer" protocol's Assignment (ConsumerProtocol: int16 version,
 * [topic string, [int32 partition]], nullable user data; later versions
 * only add fields after these, which are ignored).
 */
struct kp_consumer_tps {
	kp_str topic;
	int32_t *partitions;
	int32_t count;
};

struct kp_consumer_assignment {
	int16_t version;
	struct kp_consumer_tps *topics;
	int32_t count;
	kp_bytes user_data;
};

/* 0, or -1 when malformed (arrays allocated in a).  Empty bytes: none. */
int kp_consumer_assignment_decode(kp_bytes b, struct kp_arena *a,
				  struct kp_consumer_assignment *out);
/* Version 0 encodings, as every client reads them. */
void kp_consumer_assignment_encode(struct kp_wbuf *w,
				   const struct kp_consumer_assignment *as);
void kp_consumer_subscription_encode(struct kp_wbuf *w,
				     const char *const *topics, int n);

#endif /* KP_GROUPMETA_H */
