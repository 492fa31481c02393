/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_store.h - the group coordinator's persistence in
 * __consumer_offsets: the partitions this broker leads and their load
 * state, appends acknowledged by the ISR, loads, unloads, and offset
 * expiry (offsets.retention.minutes).
 *
 * A group lives on the leader of its __consumer_offsets partition
 * (kp_group_partition).  Its records - offset commits and the group's
 * metadata (members, generation, assignments), written as Kafka 2.8
 * writes them (kp_groupmeta) - go through the partition's leader path
 * like a producer's acks=all batch and wait, in append order, until the
 * high watermark passes them or their offsets.commit.timeout.ms runs out.
 * What waits is told through a callback: the store knows nothing of the
 * requests or the rebalance it serves.  A load reads the partition from
 * its log start and hands each group it found to a callback of whoever
 * asked (the coordinator takes it into its table); an unload removes the
 * partition's groups.
 *
 * Threads: all of it runs with the coordinator's lock held (the store is
 * part of the coordinator), except a load's reading of the log, which runs
 * on the coordinator's thread without the lock.  Lock order: the
 * coordinator's lock before a partition's lock.
 */
#ifndef GROUP_STORE_H
#define GROUP_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "group_table.h"
#include "group_thread.h"
#include "kp_buf.h"
#include "kp_errors.h"

struct broker;
struct partition;
struct group_part;

/* The deadlines the store keeps in the coordinator thread's heap. */
#define GROUP_STORE_NDEADLINES 2

/*
 * An append's outcome (lock held): err 0 once the ISR has the records,
 * else the error of the append or of the wait (NOT_LEADER_OR_FOLLOWER,
 * NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
 * REQUEST_TIMED_OUT, MESSAGE_TOO_LARGE, ...).  g is the group written for
 * (allocated until the call returns, perhaps removed meanwhile);
 * generation, the generation a group record carried.
 */
typedef void (*group_store_done_fn)(void *arg, struct group *g, int32_t generation,
				    int16_t err);

/* A group found by a load, handed over (lock held): 0 when taken, -1 when
 * not (the store frees it). */
typedef int (*group_store_adopt_fn)(void *arg, struct group *g);

struct group_store {
	struct broker *b;
	pthread_mutex_t *lock;		/* the coordinator's */
	struct group_table *groups;	/* the coordinator's table */
	struct group_thread *thread;	/* where the deadlines fire */
	struct group_part *parts;	/* by __consumer_offsets partition */
	int32_t nparts;
	struct group_deadline writes_due; /* the first queued write's timeout */
	struct group_deadline expiry_due; /* the next offset-expiry round */
	/* settings */
	int32_t num_partitions;		/* offsets.topic.num.partitions */
	int32_t commit_timeout_ms;
	int32_t load_buffer;
	int64_t retention_ms;
	int64_t retention_check_ms;
};

/* Settings from the broker's configuration; the expiry round is
 * scheduled.  0 or -1 (out of memory). */
int group_store_init(struct group_store *st, struct broker *b, pthread_mutex_t *lock,
		     struct group_table *groups, struct group_thread *thread);
/* Every partition unloaded (its writes fail, its groups are removed). */
void group_store_unload_all(struct group_store *st);
void group_store_free(struct group_store *st);

/* Is a group id ours: 0, NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS;
 * *opart set to its partition either way. */
kp_err_t group_store_owner(const struct group_store *st, kp_str group_id, int32_t *opart);
/* Is any partition of ours being loaded? */
bool group_store_loading(const struct group_store *st);

/*
 * __consumer_offsets partition p's role changed (we lead it at leadership
 * lead_gen, or not).  A partition we no longer lead is unloaded; one we
 * now lead is marked loading: 1 is returned, and the caller must run
 * group_store_load() for it (or group_store_load_cancel()).  0: nothing to
 * load; -1: out of memory.
 */
int group_store_role(struct group_store *st, struct partition *p, bool leader,
		     uint32_t lead_gen);
void group_store_load_cancel(struct group_store *st, int32_t opart);
/* Read partition opart (lock NOT held: it is taken to hand over), every
 * group found going to adopt(arg, g); the partition is then loaded,
 * unless its leadership changed meanwhile. */
void group_store_load(struct group_store *st, int32_t opart, uint32_t lead_gen,
		      group_store_adopt_fn adopt, void *arg);

/* The group's metadata record (members, assignments), as Kafka 2.8 writes
 * it.  done(arg, ...) when acknowledged or failed, perhaps at once; done
 * NULL: nobody waits.  0 or the append's error. */
kp_err_t group_store_write_group(struct group_store *st, struct group *g,
				 group_store_done_fn done, void *arg);
/* Commit the offsets of the list (taken over; linked through next, in
 * request order): appended, installed in g once the ISR has them (g not
 * removed meanwhile), then done(arg, ...) - perhaps at once on failure. */
void group_store_commit(struct group_store *st, struct group *g,
			struct group_offset *offsets, group_store_done_fn done,
			void *arg);
/* The same for a TxnOffsetCommit: a transactional batch of producer pid
 * at epoch, its offsets pending in g from the append on (group_txn.h),
 * until the transaction's marker lands (group_store_txn_marker). */
void group_store_commit_txn(struct group_store *st, struct group *g,
			    struct group_offset *offsets, int64_t pid, int16_t epoch,
			    group_store_done_fn done, void *arg);
/* A transaction marker of producer pid at offset of partition opart was
 * acknowledged: the pending offsets it ends are installed (commit) or
 * dropped.  While the partition loads, kept for after the load. */
void group_store_txn_marker(struct group_store *st, int32_t opart, int64_t pid,
			    bool commit, int64_t offset);
/* Tombstones for the given offsets and, with with_group, the group
 * record; appended, not waited for (as Kafka).  0, -1 when they could not
 * be encoded, or the append's error. */
int group_store_tombstones(struct group_store *st, struct group *g,
			   struct group_offset **os, int32_t nos, bool with_group);
/* Tombstones for the group and every offset it holds. */
void group_store_group_tombstones(struct group_store *st, struct group *g);
/* Finish the writes whose fate is known (a high watermark moved). */
void group_store_check_writes(struct group_store *st, int64_t now);

#endif /* GROUP_STORE_H */
