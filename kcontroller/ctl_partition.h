/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_partition.h - the partition state machine (Kafka's
 * PartitionStateMachine) and the leader elections it runs.
 *
 * States (enum ctl_pstate, kept in the context) and the states each may
 * be entered from, as Kafka's validPreviousStates:
 *
 *   NonExistent  <- Offline
 *   New          <- NonExistent
 *   Online       <- New, Online, Offline
 *   Offline      <- New, Online, Offline
 *
 * Every change goes through ctl_partition_set_state, which refuses an
 * invalid one (logged as an error, the state kept) and logs a valid one
 * as "old -> new" (at debug level: a topic of 10,000 partitions makes as
 * many lines).  A partition read from ZooKeeper at activation starts in
 * the state its znode says (ctl_partition_load), as Kafka's
 * initializePartitionState, without a transition.
 *
 * The elections pick leaders as Kafka's PartitionLeaderElectionAlgorithms
 * do (pure functions of the context below), write the decision (ctl_zk.h:
 * fenced, conditional, thousands pipelined), enter the new state, and
 * gather the LeaderAndIsr / UpdateMetadata requests (ctl_batch.h).
 * Event thread only.
 */
#ifndef CTL_PARTITION_H
#define CTL_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_ctx.h"

struct ctl_zk_writes;

const char *ctl_partition_state_name(enum ctl_pstate s);
/* Kafka's validPreviousStates: may a partition in from enter to? */
bool ctl_partition_valid(enum ctl_pstate from, enum ctl_pstate to);
/* Enter state to: true, logged "old -> new"; false (refused, logged,
 * state kept) when the transition is not valid. */
bool ctl_partition_set_state(struct controller *c, struct c_topic *t, int32_t p,
			     enum ctl_pstate to);
/* The states of t's partitions as their znodes say (read at activation):
 * New without a state znode, Online with a live leader, else Offline. */
void ctl_partition_load(struct controller *c, struct c_topic *t);

/*
 * Leader choices (pure: the context is only read).
 * offline: the first replica in assignment order that is eligible (live,
 *   not shutting down) and in the ISR; with unclean, else the first
 *   eligible replica (*unclean_pick set).  -1 when none.
 * reassign: the leader if it stays in target and is eligible, else the
 *   first eligible in-sync replica of target.  -1 when none.
 */
int32_t ctl_partition_offline_leader(const struct controller *c,
				     const struct c_part *cp, bool unclean,
				     bool *unclean_pick);
int32_t ctl_partition_reassign_leader(const struct controller *c,
				      const struct c_part *cp,
				      const struct kp_replicas *target);

/*
 * A leader the caller decided (preferred, unclean, controlled shutdown,
 * reassignment): checked against the state machine (-EINVAL when the
 * partition may not go Online), written with its ISR (leader epoch + 1),
 * the partition Online, LeaderAndIsr to its live replicas.  0, -EAGAIN
 * (its znode changed: the context was re-read, decide again), MOVED, -1.
 */
int ctl_partition_elect(struct controller *c, struct c_topic *t, int32_t p,
			int32_t leader, const int32_t *isr, int32_t nisr);

/*
 * NonExistent -> New for t's partitions [from, to) (a topic or partitions
 * just created), then New -> Online decided into d: the live replicas form
 * the ISR, the first one leads (a partition with no live replica stays
 * New).  ctl_partition_apply_new writes what was collected, enters
 * Online, and asks LeaderAndIsr (is_new) of the replicas.
 */
void ctl_partition_create(struct controller *c, struct c_topic *t, int32_t from,
			  int32_t to);
void ctl_partition_collect_new(struct controller *c, struct ctl_zk_writes *d,
			       struct c_topic *t, int32_t from, int32_t to);
void ctl_partition_apply_new(struct controller *c, struct ctl_zk_writes *d);

/*
 * Kafka's triggerOnlinePartitionStateChange with the replicas of dead
 * brokers offline: every New partition gets its first leader; a partition
 * whose leader is gone goes Offline and back Online with the first live
 * in-sync replica (unclean one by one where its topic allows it), or
 * stays Offline (leader -1); dead brokers leave ISRs (never emptied).
 * Decided for all, written at once.
 */
void ctl_partition_online(struct controller *c);

/* A topic being deleted: every partition Offline, then NonExistent. */
void ctl_partition_delete(struct controller *c, struct c_topic *t);

/*
 * Leaders changed ISRs (/isr_change_notification): re-read those states,
 * UpdateMetadata to every broker, delete the notifications; a partition
 * being reassigned gets a PartitionReassignmentIsrChange event.
 */
void ctl_partition_isr_change(struct controller *c);
/* At failover, before the context is read (Kafka's onControllerFailover):
 * the pending ISR change notifications are deleted unread, in one
 * pipelined batch; the states read next already hold their changes. */
void ctl_partition_isr_change_drop(struct controller *c);
/*
 * A replica of t/p went offline on a live broker (its log dir,
 * ctl_logdir.c): as for a dead broker's, it leaves the ISR, and a new
 * leader is elected if it led.  LeaderAndIsr and UpdateMetadata are
 * batched (the caller flushes).
 */
void ctl_partition_replica_offline(struct controller *c, struct c_topic *t, int32_t p);

#endif /* CTL_PARTITION_H */
