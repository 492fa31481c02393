/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reassign.h - partition reassignment (KIP-455, as Kafka 2.8's controller
 * does it); see reassign.c.  Event thread only, but reassign_plan.
 */
#ifndef REASSIGN_H
#define REASSIGN_H

#include <stdint.h>

#include "ctl_ctx.h"

struct kp_arena;
struct kp_alter_partition_reassignments_req;
struct kp_alter_partition_reassignments_resp;
struct kp_list_partition_reassignments_req;
struct kp_list_partition_reassignments_resp;

/*
 * What a reassignment to target[0..ntarget) of a partition whose replicas
 * are current (adding_now of them added by a reassignment in progress)
 * writes: the full set rs = target ++ (current - target), adding = target
 * - origin (origin = current - adding_now) and removing = rs - target.
 * Pure; the three lists are allocated (kp_replicas_free).  0 or -1.
 */
int reassign_plan(const struct kp_replicas *current,
		  const struct kp_replicas *adding_now, const int32_t *target,
		  int32_t ntarget, struct kp_replicas *rs, struct kp_replicas *adding,
		  struct kp_replicas *removing);

/* The ISR of p changed (or its broker set did): finish its reassignment
 * when every target replica is in sync. */
void reassign_check(struct controller *c, struct c_topic *t, int32_t p);
/* A PartitionReassignmentIsrChange event: reassign_check, and the batch
 * goes out. */
void reassign_isr_change(struct controller *c, const char *topic, int32_t p);
/* Resume every reassignment in the context (activation). */
void reassign_resume(struct controller *c);
/* /admin/reassign_partitions changed (or at activation). */
void reassign_znode(struct controller *c);
/* AlterPartitionReassignments / ListPartitionReassignments, forwarded by
 * a broker: fill resp (allocated in a) from req. */
void reassign_alter(struct controller *c,
		    const struct kp_alter_partition_reassignments_req *req,
		    struct kp_alter_partition_reassignments_resp *resp,
		    struct kp_arena *a);
void reassign_list(struct controller *c,
		   const struct kp_list_partition_reassignments_req *req,
		   struct kp_list_partition_reassignments_resp *resp,
		   struct kp_arena *a);

#endif /* REASSIGN_H */
