/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partition.h - the partitions this broker hosts: their log, the role
 * the controller gave us (leader or follower), epochs, replicas and ISR,
 * and the high watermark.
 *
 * Locking: the table's rwlock guards the set of partitions (LeaderAndIsr
 * adds, StopReplica removes); each partition's lock serializes appends and
 * role changes, which makes its log's "one appender" contract hold with
 * produce requests arriving on any network worker.  Reads (Fetch,
 * ListOffsets) take neither lock: the log publishes whole batches.
 *
 * Lifetime: a partition stays in the table until the broker stops.  A
 * StopReplica that deletes clears p->leader first and takes the log away
 * (p->log = NULL) only after every network worker has finished what it
 * was running (see api_stop_replica), so a handler that saw p->log set
 * may use it until it returns.
 */
#ifndef PARTITION_H
#define PARTITION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_errors.h"
#include "kp_metrics.h"
#include "purgatory.h"

struct log;
struct broker;

/* A leader's view of one follower (guarded by the partition's lock). */
struct replica_state {
	int32_t id;
	int64_t leo;			/* its fetch offset; -1 unknown */
	int64_t log_start;		/* its log start offset; -1 unknown */
	int64_t last_caught_up_ms;	/* monotonic */
	int64_t last_fetch_leader_leo;	/* our log end at its last fetch */
	int64_t last_fetch_ms;
	/* being added to the ISR (the ZooKeeper write in flight): counts for
	 * the high watermark already, as in Kafka's "maximal ISR", so no
	 * write is acknowledged that the joining replica lacks */
	bool joining;
};

struct fpart;

struct partition {
	struct partition *next;		/* hash chain */
	char *topic;
	int32_t index;
	uint32_t hash;			/* of topic and index: chains compare it first */
	pthread_mutex_t lock;		/* appends and role changes */
	/* from log to watchers: what a fetch reads of every partition of
	 * a session (api_fetch.c's snap_of, the key it watches; a replica
	 * fetcher's still_following), kept in
	 * one cache line so an idle fetch over thousands of them misses one
	 * line each here (partition_get_or_add allocates it aligned) */
	_Alignas(64) struct log *log;
	_Atomic int64_t hw;		/* high watermark */
	bool leader;			/* we lead it */
	bool deleting;			/* StopReplica(delete) under way */
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t controller_epoch;
	int32_t zk_version;
	/* notified at new data, a new high watermark, a role change: what
	 * parked fetches and acks=all produces watch (purgatory.h) */
	struct purgatory_key watchers;
	int32_t *replicas, nreplicas;
	int32_t *isr, nisr;
	int32_t max_message_bytes;	/* the topic's max.message.bytes */
	int32_t min_isr;		/* the topic's min.insync.replicas */
	/* leader only: the followers, and the log end when we took over */
	struct replica_state *followers;
	int32_t nfollowers;
	int64_t epoch_start_offset;
	uint32_t lead_gen;		/* +1 each time we become leader */
	struct broker *broker;		/* ours (for jobs posted about p) */
	bool isr_changing;		/* an ISR write is queued */
	bool is_offsets;		/* __consumer_offsets (group coordinator) */
	bool is_txn_state;		/* __transaction_state (txn_coord.c) */
	struct fpart *fetch_slot;	/* the fetcher thread's entry, or NULL */
	/* BrokerTopicMetrics of clients' appends here as leader, written
	 * under lock (metrics.h) */
	kp_mctr m_messages_in, m_bytes_in;
};

struct partition_table {
	pthread_rwlock_t lock;
	struct partition **buckets;
	uint32_t nbuckets;
	uint32_t count;
};

void partition_table_init(struct partition_table *t);
void partition_table_destroy(struct partition_table *t);
/* Look up (read lock inside); NULL when not hosted.  The pointer stays
 * valid until the partition is removed, which only the controller's
 * StopReplica does. */
struct partition *partition_find(struct partition_table *t, const char *topic,
				 size_t len, int32_t index);
/* Find or add (write lock inside). */
struct partition *partition_get_or_add(struct partition_table *t,
				       const char *topic, size_t len,
				       int32_t index);
/* Call fn for every partition (read lock held: fn must not add any). */
void partition_foreach(struct partition_table *t,
		       void (*fn)(struct partition *p, void *arg), void *arg);
/*
 * A request's current_leader_epoch against ours (KIP-320): 0 when it
 * matches or was not given (-1), FENCED_LEADER_EPOCH when older,
 * UNKNOWN_LEADER_EPOCH when newer (our LeaderAndIsr has not come yet).
 */
/*
 * Every hosted partition into *v (grown as needed; *cap its size): a
 * snapshot to work through without the table's lock (partitions live as
 * long as the table).  The count, or -1 when out of memory.
 */
long partition_list(struct partition_table *t, struct partition ***v, size_t *cap);
kp_err_t partition_check_epoch(const struct partition *p, int32_t current);
/* Is id in the ISR (caller holds p->lock). */
bool partition_in_isr(const struct partition *p, int32_t id);

#endif /* PARTITION_H */
