/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_logdir.h - brokers' log directories going offline, as Kafka's
 * controller handles them (KIP-112): a broker writes
 * /log_dir_event_notification/log_dir_event_<seq> ({"version":1,
 * "broker":<id>,"event":1}); the controller deletes it and sends that
 * broker LeaderAndIsr for every replica it has; the replicas in the
 * offline dir answer KAFKA_STORAGE_ERROR, and each becomes offline: out
 * of the ISR, and leadership moves to another in-sync replica (or the
 * partition goes offline).  A broker that restarts has its dirs online
 * again.
 */
#ifndef CTL_LOGDIR_H
#define CTL_LOGDIR_H

#include <stdint.h>

struct controller;
struct c_topic;

/* The notifications' children changed (or failover): handle and delete
 * them, watching again. */
void ctl_logdir_event(struct controller *c);
/* broker answered KAFKA_STORAGE_ERROR for t/p: its replica is offline. */
/* A LeaderAndIsr answer's KAFKA_STORAGE_ERROR partitions: those replicas
 * are offline (called before ctl_batch_lai_response logs the rest). */
struct ctl_event;
void ctl_logdir_lai_response(struct controller *c, const struct ctl_event *ev);
void ctl_logdir_replica_offline(struct controller *c, int32_t broker,
				struct c_topic *t, int32_t p);
/* broker (re)started: none of its replicas is in an offline dir. */
void ctl_logdir_broker_started(struct controller *c, int32_t broker);

#endif /* CTL_LOGDIR_H */
