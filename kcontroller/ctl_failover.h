/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_failover.h - the controller election (Kafka's elect,
 * onControllerFailover and onControllerResignation).
 *
 * Election: read /controller_epoch (created as 0), then one multi creates
 * the ephemeral /controller ({"version":1,"brokerid":<controller.id>,
 * "timestamp":...}) and sets /controller_epoch to epoch + 1, conditional
 * on its version.  Losers and standbys keep an exists watch on
 * /controller and stand again when it goes (a ControllerChange event).
 *
 * Becoming active: rebuild the context from ZooKeeper, UpdateMetadata
 * (broker list) to all, LeaderAndIsr for every partition to its live
 * replicas and UpdateMetadata of all partitions, take replicas on dead
 * brokers offline, elect leaders for partitions without one, resume
 * deletions, ISR changes, reassignments and preferred elections, schedule
 * the auto rebalance.  Event thread only.
 */
#ifndef CTL_FAILOVER_H
#define CTL_FAILOVER_H

#include "ctl_ctx.h"

/* /controller changed (or at start): stand for election if it is gone,
 * resign if it names another controller. */
void ctl_failover_elect(struct controller *c);
/* Give up the active role (if held): the context and the batch are
 * dropped, the auto rebalance unscheduled. */
void ctl_failover_resign(struct controller *c);
/* The ZooKeeper session expired: resign, reconnect, stand again. */
void ctl_failover_expire(struct controller *c);

#endif /* CTL_FAILOVER_H */
