/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alter_isr.h - the leader's ISR changes sent to the active controller as
 * AlterIsr (KIP-497), Kafka 2.8's DefaultAlterIsrManager: used when
 * inter.broker.protocol.version is 2.7-IV2 or later (Kafka 2.8's default);
 * before that a leader writes the state znode itself (replica.c) and
 * announces the change through /isr_change_notification (isr_notify.c).
 *
 * Proposals wait in a queue, at most one per partition; one request is
 * in flight at a time, carrying everything queued when it leaves, over a
 * connection to the listener /controller advertises (the inter-broker
 * listener's TLS and SASL settings, as ControlledShutdown's).  A request
 * that fails as a whole (no connection, NOT_CONTROLLER,
 * STALE_BROKER_EPOCH, any top-level error) is sent again 50 ms later,
 * after reading /controller and our registration's epoch again as
 * needed; a partition the answer leaves out, or answers with another
 * error than the final ones, goes again with the next.  Everything runs
 * on the broker's main loop.
 */
#ifndef ALTER_ISR_H
#define ALTER_ISR_H

#include <stdint.h>

#include "kp_errors.h"

struct broker;
struct partition;
struct kp_alter_isr_resp_partition_data;

/* One proposal, embedded in its owner (replica.c's ISR write). */
struct alter_isr_item {
	struct alter_isr_item *next;	/* the queue's */
	struct partition *p;
	uint32_t lead_gen;		/* p->lead_gen when proposed */
	int32_t leader_epoch;
	int32_t version;		/* the state znode version we know */
	const int32_t *isr;
	int32_t nisr;
	/*
	 * Its end, once: KP_ERR_NONE with the controller's state in st;
	 * UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH or
	 * INVALID_UPDATE_VERSION as the controller answered (Kafka does not
	 * retry those), or INVALID_REQUEST (the proposal was no ISR);
	 * NOT_LEADER_OR_FOLLOWER when our leadership of p changed before it
	 * was sent; BROKER_NOT_AVAILABLE when the broker stops with it
	 * unanswered.
	 */
	void (*done)(struct alter_isr_item *it, kp_err_t err,
		     const struct kp_alter_isr_resp_partition_data *st);
};

/* Set up (main loop's): 0 or -1. */
int alter_isr_start(struct broker *b);
/* Queue it (main loop); its done runs later, never inside this call. */
void alter_isr_submit(struct broker *b, struct alter_isr_item *it);
/* Proposals not ended yet. */
int alter_isr_pending(const struct broker *b);
/* End what is left (BROKER_NOT_AVAILABLE), close, free.  Main loop. */
void alter_isr_stop(struct broker *b);

#endif /* ALTER_ISR_H */
