/* SPDX-License-Identifier: Apache-2.0 */
/*
 * election.h - leader elections an operator asks for (ElectLeaders,
 * /admin/preferred_replica_election) and the auto rebalance; see
 * election.c.  Event thread only.
 */
#ifndef ELECTION_H
#define ELECTION_H

#include <stdint.h>

#include "ctl_ctx.h"
#include "kp_errors.h"

struct kp_arena;
struct kp_elect_leaders_req;
struct kp_elect_leaders_resp;

/* Preferred election of one partition: 0 (elected), ELECTION_NOT_NEEDED,
 * PREFERRED_LEADER_NOT_AVAILABLE, NOT_CONTROLLER (fenced), ... with a
 * reason in *why (or NULL). */
kp_err_t election_preferred(struct controller *c, struct c_topic *t, int32_t p,
			    const char **why);
/* ElectLeaders (types 0 preferred and 1 unclean), forwarded by a broker:
 * fill resp (allocated in a) from req. */
void election_elect_leaders(struct controller *c, int16_t version,
			    const struct kp_elect_leaders_req *req,
			    struct kp_elect_leaders_resp *resp, struct kp_arena *a);
/* /admin/preferred_replica_election changed (or at activation). */
void election_preferred_znode(struct controller *c);
/* (Re)schedule or drop the auto rebalance event. */
void election_rebalance_schedule(struct controller *c);
/* One auto rebalance round (the scheduled event's work); schedules the
 * next. */
void election_rebalance_run(struct controller *c);

#endif /* ELECTION_H */
