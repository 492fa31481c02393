/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_fsm.h - a consumer group's rebalance states and the one way from
 * one to another.
 *
 * The states are Kafka 2.8's GroupMetadata states.  A group is Empty
 * (no members; it may still hold committed offsets), PreparingRebalance
 * (collecting a JoinGroup from every member), CompletingRebalance (the
 * generation is chosen; waiting for the leader's SyncGroup), Stable
 * (every member has its assignment) or Dead (out of the coordinator's
 * table: unloaded, deleted, or expired).
 *
 * Every change of state goes through group_fsm_to(), which allows it only
 * from the states Kafka lists as its valid previous ones
 * (GroupMetadata.validPreviousStates) and logs "old -> new"; any other is
 * refused and logged as an error, and the state stays as it was.
 *
 * Pure: no locks, no threads; the caller holds whatever guards the group.
 */
#ifndef GROUP_FSM_H
#define GROUP_FSM_H

#include <stdbool.h>
#include <stdint.h>

enum group_state {
	GROUP_EMPTY,
	GROUP_PREPARING_REBALANCE,
	GROUP_COMPLETING_REBALANCE,
	GROUP_STABLE,
	GROUP_DEAD,
};
#define GROUP_NSTATES 5

struct group_fsm {
	enum group_state state;
	int64_t since;		/* wall-clock ms it was entered (Kafka's
				 * currentStateTimestamp); -1: unknown */
};

/* A group's first state (new: Empty; loaded: Empty or Stable), entered at
 * since: not a transition, so nothing is checked or logged. */
void group_fsm_init(struct group_fsm *f, enum group_state s, int64_t since);
/* Is from one of to's valid previous states? */
bool group_fsm_valid(enum group_state from, enum group_state to);
/* Move group_id's state to `to`: 0 when from is a valid previous state
 * (the state and its timestamp change, "old -> new" is logged); -1 when
 * not (refused, logged as an error, nothing changes). */
int group_fsm_to(struct group_fsm *f, const char *group_id, enum group_state to);
/* Kafka's name of a state ("PreparingRebalance", ...), as DescribeGroups
 * and ListGroups show it. */
const char *group_state_name(enum group_state s);

#endif /* GROUP_FSM_H */
