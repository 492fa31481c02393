/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quota.h - replication throttling, as Kafka's ReplicationQuotaManager:
 * which partitions a topic's leader.replication.throttled.replicas /
 * follower.replication.throttled.replicas name for this broker, and a
 * byte rate measured over a short sliding window, one for the leader's
 * side (bytes sent to throttled followers) and one for the follower's
 * (bytes fetched for throttled replicas).
 *
 * Kafka measures the rate over replication.quota.window.num (11) samples
 * of replication.quota.window.size.seconds (1 s).  We keep its shape, 11
 * samples, but of QUOTA_SAMPLE_MS each, so a throttle reacts within about
 * a second; like Kafka's Rate, the elapsed time counted is at least the
 * span of all samples but one, so a fresh window does not report a huge
 * rate for the first few bytes.
 *
 * Nothing here touches the broker: the functions take the time and the
 * broker id as arguments, so they are unit tested on their own.
 */
#ifndef QUOTA_H
#define QUOTA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUOTA_SAMPLES 11
#define QUOTA_SAMPLE_MS 100
#define QUOTA_UNLIMITED INT64_MAX	/* Kafka's default: Long.MAX_VALUE */
#define QUOTA_UNLIMITED_STR "9223372036854775807"

/* The keys: the rates are broker keys, the lists topic keys. */
#define QUOTA_LEADER_RATE "leader.replication.throttled.rate"
#define QUOTA_FOLLOWER_RATE "follower.replication.throttled.rate"
#define QUOTA_LEADER_REPLICAS "leader.replication.throttled.replicas"
#define QUOTA_FOLLOWER_REPLICAS "follower.replication.throttled.replicas"

/* The partitions of one topic throttled on this broker. */
struct throttle_set {
	bool all;		/* "*" */
	int32_t *parts;		/* sorted, unique */
	size_t n;
};

/*
 * Check a throttled-replicas value (Kafka's ThrottledReplicaListValidator:
 * "*" or "partition:broker" entries separated by commas, blanks around
 * entries allowed, empty entries ignored).  0, or -1 with Kafka's wording
 * in err.
 */
int throttle_list_validate(const char *key, const char *value, char *err,
			   size_t errlen);
/*
 * The partitions whose entry names broker_id (or all, for "*").  A NULL
 * or empty value gives the empty set.  0, or -1 (invalid value, or no
 * memory) with a message in err; out is then empty.
 */
int throttle_set_parse(const char *key, const char *value, int32_t broker_id,
		       struct throttle_set *out, char *err, size_t errlen);
bool throttle_set_has(const struct throttle_set *s, int32_t partition);
void throttle_set_free(struct throttle_set *s);

/* A byte-rate quota shared by threads (its own lock). */
struct quota {
	pthread_mutex_t lock;
	_Atomic int64_t limit;		/* bytes/s; QUOTA_UNLIMITED: off */
	int64_t slot_id[QUOTA_SAMPLES];	/* now_ms / QUOTA_SAMPLE_MS of the slot */
	int64_t bytes[QUOTA_SAMPLES];
};

void quota_init(struct quota *q);
void quota_destroy(struct quota *q);
void quota_set_limit(struct quota *q, int64_t bytes_per_sec);
void quota_record(struct quota *q, int64_t bytes, int64_t now_ms);
/* Bytes per second over the window ending at now_ms. */
double quota_rate(struct quota *q, int64_t now_ms);
/* Whether the measured rate is above the limit (never when unlimited). */
bool quota_exceeded(struct quota *q, int64_t now_ms);

struct quota_topic;

/* Both sides: each topic's throttled partitions here, and the rates. */
struct repl_quotas {
	pthread_mutex_t lock;		/* topics */
	struct quota_topic *topics;	/* topics with a list */
	_Atomic int nthrottled;		/* how many: 0 is the fast path */
	struct quota leader;		/* bytes sent to throttled followers */
	struct quota follower;		/* bytes fetched for throttled replicas */
};

struct repl_quotas *quota_repl_new(void);
void quota_repl_free(struct repl_quotas *q);
/* A topic's lists from now on (taken over; both empty: not throttled). */
void quota_repl_set_topic(struct repl_quotas *q, const char *topic,
			  struct throttle_set *leader, struct throttle_set *follower);
/* Whether partition of topic is throttled on the leader's side (leader)
 * or the follower's.  Any thread; q may be NULL (nothing is). */
bool quota_repl_throttled(struct repl_quotas *q, bool leader, const char *topic,
			  size_t len, int32_t partition);

#endif /* QUOTA_H */
