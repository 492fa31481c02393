/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_fsm.c - a group's rebalance states: the table of valid previous
 * states and the one transition function (see group_fsm.h).
 */
#include "group_fsm.h"

#include "kp_log.h"
#include "kp_loop.h"

#define BIT(s) (1u << (s))

/*
 * Kafka 2.8's GroupMetadata.validPreviousStates, indexed by the new state:
 * a rebalance starts from Empty, Stable, or an unfinished
 * CompletingRebalance; only the join phase ends in CompletingRebalance
 * (members) or Empty (nobody rejoined); only the leader's stored SyncGroup
 * makes a group Stable; anything may die.
 */
static const unsigned valid_prev[GROUP_NSTATES] = {
	[GROUP_EMPTY] = BIT(GROUP_PREPARING_REBALANCE),
	[GROUP_PREPARING_REBALANCE] = BIT(GROUP_STABLE) |
		BIT(GROUP_COMPLETING_REBALANCE) | BIT(GROUP_EMPTY),
	[GROUP_COMPLETING_REBALANCE] = BIT(GROUP_PREPARING_REBALANCE),
	[GROUP_STABLE] = BIT(GROUP_COMPLETING_REBALANCE),
	[GROUP_DEAD] = BIT(GROUP_STABLE) | BIT(GROUP_PREPARING_REBALANCE) |
		BIT(GROUP_COMPLETING_REBALANCE) | BIT(GROUP_EMPTY) | BIT(GROUP_DEAD),
};

const char *group_state_name(enum group_state s)
{
	switch (s) {
	case GROUP_EMPTY: return "Empty";
	case GROUP_PREPARING_REBALANCE: return "PreparingRebalance";
	case GROUP_COMPLETING_REBALANCE: return "CompletingRebalance";
	case GROUP_STABLE: return "Stable";
	case GROUP_DEAD: return "Dead";
	}
	return "Unknown";
}

void group_fsm_init(struct group_fsm *f, enum group_state s, int64_t since)
{
	f->state = s;
	f->since = since;
}

static bool state_ok(enum group_state s)
{
	return (unsigned)s < GROUP_NSTATES;
}

bool group_fsm_valid(enum group_state from, enum group_state to)
{
	return state_ok(from) && state_ok(to) && (valid_prev[to] & BIT(from)) != 0;
}

int group_fsm_to(struct group_fsm *f, const char *group_id, enum group_state to)
{
	enum group_state from = f->state;

	if (!group_fsm_valid(from, to)) {
		KP_ERROR("group %s: refused state transition %s -> %s", group_id,
			 group_state_name(from), group_state_name(to));
		return -1;
	}
	KP_INFO("group %s: %s -> %s", group_id, group_state_name(from),
		group_state_name(to));
	f->state = to;
	f->since = kp_wall_ms();
	return 0;
}
