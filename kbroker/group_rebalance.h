/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_rebalance.h - group membership and rebalances: JoinGroup,
 * SyncGroup, Heartbeat and LeaveGroup as the coordinator handles them,
 * and the deadlines that move a group on by themselves (sessions, the
 * join phase, the initial delay, the sync deadline, member ids handed
 * out).
 *
 * The rules are Kafka 2.8's GroupCoordinator.  A rebalance
 * (PreparingRebalance) collects a JoinGroup from every member; it ends
 * when all have rejoined, or at the rebalance timeout (members that did
 * not rejoin are dropped), or - for a group that was Empty - after
 * group.initial.rebalance.delay.ms, extended while new members keep
 * coming.  Then the generation advances, a protocol is chosen by vote,
 * every JoinGroup is answered (the leader's with all members' metadata)
 * and the group waits for the leader's SyncGroup (CompletingRebalance),
 * whose assignment is stored before the group is Stable and each member
 * gets its share.  Every change of state goes through group_fsm_to().
 *
 * Every function here runs with the coordinator's lock held.  JoinGroup
 * and SyncGroup are answered through the reply function they carry - at
 * once, or later from whichever thread completes the rebalance; Heartbeat
 * and LeaveGroup return their errors.
 */
#ifndef GROUP_REBALANCE_H
#define GROUP_REBALANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "group_coord.h"
#include "kp_errors.h"

/* A JoinGroup, as the coordinator needs it. */
struct group_join {
	kp_str group_id, member_id, instance_id, protocol_type, client_id;
	const char *peer;		/* the client's "ip:port" */
	const struct group_protocol_ref *protocols;
	int32_t nprotocols;
	int32_t session_ms, rebalance_ms;
	bool require_known_id;		/* hand out member ids first (KIP-394) */
	void *req;			/* answered through reply */
	group_reply_fn reply;
};

/* One member's assignment in the leader's SyncGroup. */
struct group_assignment_ref {
	kp_str member_id;
	kp_bytes assignment;
};

/* A SyncGroup, as the coordinator needs it. */
struct group_sync {
	kp_str group_id, member_id, instance_id;
	kp_str protocol_type, protocol_name;	/* null: not given */
	bool protocol_required;		/* v5+: both must be given (KIP-559) */
	int32_t generation;
	const struct group_assignment_ref *assignments;
	int32_t nassignments;
	void *req;			/* answered through reply */
	group_reply_fn reply;
};

/* One member of a LeaveGroup: by member id, or by instance id (static). */
struct group_leaving {
	kp_str member_id, instance_id;
	int16_t err;			/* set by group_leave */
};

void group_join(struct group_coord *c, const struct group_join *j);
void group_sync(struct group_coord *c, const struct group_sync *s);
kp_err_t group_heartbeat(struct group_coord *c, kp_str group_id, kp_str member_id,
			 kp_str instance_id, int32_t generation);
/* The group-level error, or 0 and each member's in its err. */
kp_err_t group_leave(struct group_coord *c, kp_str group_id,
		     struct group_leaving *ms, int32_t n);

/* A new Empty group in the table (room in the deadline heap made).  NULL
 * when out of memory. */
struct group *group_create(struct group_coord *c, kp_str id, int32_t opart);
/* A group_store_adopt_fn: a loaded group into the table, its members'
 * sessions running from now.  0, or -1 when it is known already or there
 * is no room. */
int group_adopt(void *coord, struct group *g);
/* m was heard from (a heartbeat, a commit): its session starts again. */
void group_member_touch(struct group_coord *c, struct group *g,
			struct group_member *m, int64_t now);

#endif /* GROUP_REBALANCE_H */
