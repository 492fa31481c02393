/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_alter_isr.h - AlterIsr (KIP-497): partition leaders ask the
 * controller to change their ISRs instead of writing the state znodes
 * themselves (brokers at inter.broker.protocol.version 2.7-IV2 or later,
 * Kafka 2.8's default).
 */
#ifndef CTL_ALTER_ISR_H
#define CTL_ALTER_ISR_H

struct controller;
struct ctl_request;

/*
 * Answer r (an AlterIsr) as Kafka 2.8's controller does: the broker's
 * epoch checked, each partition's proposal refused (FENCED_LEADER_EPOCH,
 * UNKNOWN_TOPIC_OR_PARTITION), answered as it stands (already so) or
 * written fenced and conditional on the version the leader names
 * (INVALID_UPDATE_VERSION when it moved); then UpdateMetadata of every
 * partition named to the live brokers, r->done, and the completion
 * check of the reassignments the written ISRs may finish.  Event thread.
 */
void ctl_alter_isr(struct controller *c, struct ctl_request *r);

#endif /* CTL_ALTER_ISR_H */
