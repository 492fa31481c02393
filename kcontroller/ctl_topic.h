/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_topic.h - topic events: new topics and partitions (Kafka's
 * TopicChange and PartitionModifications) and topic deletion (its
 * TopicDeletion event and TopicDeletionManager).
 *
 * Deletion: UpdateMetadata with leader -2 to every broker at once, every
 * partition Offline then NonExistent, StopReplica (delete, leader epoch
 * -2) to every replica once all are alive, and when every replica has
 * answered, the topic's znodes, its config and the request node go in one
 * fenced multi.  A deletion waiting for a replica, or whose StopReplica
 * failed, is retried when a broker starts (a TopicDeletionRetry event).
 * Event thread only.
 */
#ifndef CTL_TOPIC_H
#define CTL_TOPIC_H

#include "ctl_ctx.h"

struct ctl_event;

/* Children of /brokers/topics changed: new topics get leaders, gone ones
 * are forgotten. */
void ctl_topic_change(struct controller *c);
/* /brokers/topics/<name> changed: partitions were added. */
void ctl_topic_partition_modification(struct controller *c, const char *name);
/* Children of /admin/delete_topics changed (or at activation). */
void ctl_topic_deletion(struct controller *c);
/* Deletions that wait for replicas or had a StopReplica fail: again. */
void ctl_topic_deletion_resume(struct controller *c);
/* A StopReplica answer (its event): a deletion may be complete. */
void ctl_topic_stop_response(struct controller *c, const struct ctl_event *ev);

#endif /* CTL_TOPIC_H */
