/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_batch.h - the controller's request batch (Kafka's
 * ControllerBrokerRequestBatch): what an event decides is gathered as
 * LeaderAndIsr, UpdateMetadata and StopReplica entries, then flushed as
 * one request of each kind per broker (a partition appears once in an
 * UpdateMetadata however many of its replicas get a LeaderAndIsr).
 *
 * Requests carry the partitions' context state at flush time, and go out
 * through the brokers' channels (channel.h) on the loop's thread; their
 * answers come back as events (ctl_event.h): LeaderAndIsr errors are
 * logged here, StopReplica answers settle topic deletions (ctl_topic.c).
 * Everything but the answers runs on the event thread.
 */
#ifndef CTL_BATCH_H
#define CTL_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_ctx.h"

struct ctl_event;

struct ctl_batch *ctl_batch_new(void);
void ctl_batch_free(struct ctl_batch *b);
/* Forget what was gathered (resignation). */
void ctl_batch_reset(struct controller *c);

/* UpdateMetadata of partition p to every broker (once per flush). */
void ctl_batch_um(struct controller *c, struct c_topic *t, int32_t p);
/* UpdateMetadata even with no partition in it: the broker list. */
void ctl_batch_brokers(struct controller *c);
/* This flush's UpdateMetadata only to ids[0..n) (kept until the flush). */
void ctl_batch_um_only(struct controller *c, const int32_t *ids, int n);
/* LeaderAndIsr with the partition's current state to one replica (if
 * alive), and UpdateMetadata of it to everyone, as Kafka's batch does. */
void ctl_batch_lai(struct controller *c, int32_t broker, struct c_topic *t,
		   int32_t p, bool is_new);
/* The same to every live replica. */
void ctl_batch_lai_replicas(struct controller *c, struct c_topic *t, int32_t p,
			    bool is_new);
/* StopReplica with deletion; leader_epoch EPOCH_DURING_DELETE while the
 * topic is deleted (its answer counts in the topic's pending_stops), the
 * partition's epoch for a replica reassigned away. */
void ctl_batch_stop(struct controller *c, int32_t broker, struct c_topic *t,
		    int32_t p, int32_t leader_epoch);
/* So much gathered that it had better go out now (an election of
 * thousands of partitions goes out in a few requests, not in one). */
bool ctl_batch_full(const struct controller *c);
/* Send what was gathered (dropped when not active). */
void ctl_batch_flush(struct controller *c);

/* A LeaderAndIsr answer (its event): errors logged, one line per code. */
void ctl_batch_lai_response(struct controller *c, const struct ctl_event *ev);

#endif /* CTL_BATCH_H */
