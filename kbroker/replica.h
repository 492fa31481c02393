/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replica.h - the leader's side of replication.
 *
 * A leader learns each follower's log end offset from the offset it
 * fetches at, and when it last caught up (Kafka's rule: a fetch at or
 * past our log end, or past our log end as of its previous fetch).  The
 * high watermark is the smallest log end offset in the ISR, the leader's
 * own included; it only grows.  A follower leaves the ISR when it has not
 * caught up for replica.lag.time.max.ms and rejoins once it reaches the
 * high watermark and the start of our leader epoch.  ISR changes are
 * written by the leader to the partition's state znode, conditional on
 * the znode version it got from the controller (a conflict means we are
 * stale: the controller's next LeaderAndIsr will tell), then announced
 * in batches under /isr_change_notification for the controller to
 * propagate (isr_notify.h).
 *
 * The write is asynchronous, one in flight per partition; until ZooKeeper
 * acknowledges it the ISR that counts for the high watermark and acks=all
 * is the larger of the old and the new (Kafka's maximal ISR), so nothing
 * is acknowledged that a member of the ISR in ZooKeeper lacks.
 *
 * Threads: follower state changes under the partition's lock on the
 * worker serving the follower's fetch; ZooKeeper writes are started on
 * the main loop (posted) and answered there, never under a partition
 * lock, and the main loop never waits for them.  The high-watermark
 * checkpoint is written from the main loop too.
 */
#ifndef REPLICA_H
#define REPLICA_H

#include <stdbool.h>
#include <stdint.h>

struct broker;
struct md_view;
struct partition;

/* Timers on the main loop: ISR expiry, high-watermark checkpoints,
 * ISR-change propagation.  replica_stop runs the stopped main loop a
 * little (at most 5 s) for the ISR writes and notices still in flight. */
int replica_start(struct broker *b);
void replica_stop(struct broker *b);

/* We lead p now (caller holds p->lock): followers known (when we already
 * led it) or reset, HW recomputed. */
void replica_become_leader(struct broker *b, struct partition *p, bool was_leader);
/* The high watermark from the ISR's log ends (caller holds p->lock);
 * true when it moved (the caller then notifies p->watchers). */
bool replica_update_hw(struct broker *b, struct partition *p);
/* Whether id is one of the other replicas of p that we lead (takes
 * p->lock): only those move follower state or read past the high
 * watermark. */
bool replica_is_follower(struct partition *p, int32_t id);
/* A follower fetched p at offset, its log starting at log_start (-1:
 * not said; takes p->lock), at now_ms (monotonic: the request's time,
 * one for all its partitions as Kafka's fetchTimeMs).  An id that is
 * not a replica of p changes nothing. */
void replica_follower_fetch(struct broker *b, struct partition *p, int32_t follower,
			    int64_t offset, int64_t log_start, int64_t now_ms);
/*
 * KIP-392, on the leader of p: the replica a consumer in client_rack
 * should read fetch_offset from, by Kafka's RackAwareReplicaSelector: none
 * (-1) when the client names no rack or our own rack is its rack, else
 * the live replica in its rack holding fetch_offset with the largest log
 * end (then the most recently caught up).  Takes p->lock.
 */
int32_t replica_preferred_read(struct broker *b, struct partition *p,
			       const char *client_rack, size_t rack_len,
			       int64_t fetch_offset, const struct md_view *v);
/* Write every log dir's replication-offset-checkpoint. */
void replica_checkpoint_hw(struct broker *b);
/* The checkpointed high watermark of a log found at start, or 0. */
int64_t replica_initial_hw(struct broker *b, const char *topic, int32_t index);

#endif /* REPLICA_H */
