/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_dir_event.h - a log directory going offline, told to the controller
 * as Kafka's LogDirFailureChannel and ReplicaManager do: a sequential znode
 * /log_dir_event_notification/log_dir_event_<seq> holding
 * {"version":1,"broker":<id>,"event":1} (event 1: LogDirFailure).  The
 * controller answers by sending this broker LeaderAndIsr for its replicas,
 * which those in the offline dir refuse with KAFKA_STORAGE_ERROR; it then
 * takes them as offline and moves their leadership to other replicas
 * (kcontroller/ctl_logdir.c).
 */
#ifndef LOG_DIR_EVENT_H
#define LOG_DIR_EVENT_H

struct broker;

/* Watch every log dir of b for going offline (after they are opened). */
void log_dir_event_install(struct broker *b);
/* How many of b's log dirs are offline. */
int log_dir_event_offline_count(const struct broker *b);

#endif /* LOG_DIR_EVENT_H */
