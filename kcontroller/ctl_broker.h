/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_broker.h - broker events (Kafka's BrokerChange: onBrokerStartup,
 * onBrokerFailure) and controlled shutdown (its ControlledShutdown event).
 *
 * Broker start: the broker list to everyone, every partition to the new
 * broker, LeaderAndIsr for its replicas, elections for leaderless
 * partitions.  Broker death: partitions it led get the first live in-sync
 * replica in assignment order (or go Offline), it leaves ISRs (never
 * emptying one), LeaderAndIsr to the remaining replicas, UpdateMetadata to
 * all.  Controlled shutdown: see ctl_broker_controlled_shutdown.  Event
 * thread only.
 */
#ifndef CTL_BROKER_H
#define CTL_BROKER_H

#include <stdint.h>

#include "ctl_ctx.h"

struct kp_arena;
struct kp_controlled_shutdown_resp;

/* Children of /brokers/ids changed: who started, who died. */
void ctl_broker_change(struct controller *c);
/* A channel to every live broker that has none (activation). */
void ctl_broker_connect(struct controller *c);
/*
 * ControlledShutdown from broker_id: with has_epoch (v2+) broker_epoch
 * must be the broker's (its registration's czxid; -1 or an older one:
 * STALE_BROKER_EPOCH); without (v0-1) it is not checked.  The broker is marked shutting
 * down (never elected, never put in a new ISR, until its registration
 * goes), the leadership of each replicated partition it leads moved to
 * the first other live in-sync replica in assignment order with it out of
 * the ISR, it leaves the ISRs of the partitions it follows, the batch
 * goes out, and resp lists the partitions it still leads that another
 * live replica could take later (Kafka lists also those with no other
 * live replica, which no retry can help).
 */
void ctl_broker_controlled_shutdown(struct controller *c, int32_t broker_id,
				    int64_t broker_epoch, bool has_epoch,
				    struct kp_controlled_shutdown_resp *resp,
				    struct kp_arena *a);

#endif /* CTL_BROKER_H */
