/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_table.h - the group coordinator's groups and what each holds:
 * members (with the requests they have parked), member ids handed out and
 * not yet used, the protocols members support and the one chosen by vote,
 * committed offsets; and the table that finds a group by its id.
 *
 * Plain data and the operations on it; the caller holds the coordinator's
 * lock.  Nothing here answers a request itself: a parked request carries
 * the function that answers it (struct group_parked), given by the API
 * layer when it parked the request.  A group leaves the table Dead
 * (group_remove), its parked requests answered NOT_COORDINATOR, and is
 * freed once no append to __consumer_offsets points to it (nwrites).
 *
 * Times named *deadline are monotonic milliseconds (kp_now_ms); *_ts are
 * wall-clock milliseconds, as Kafka stores them.
 */
#ifndef GROUP_TABLE_H
#define GROUP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group_fsm.h"
#include "group_thread.h"
#include "kp_buf.h"

/* As Kafka: a new member that never completes its first join is dropped
 * after this long (GroupCoordinator.NewMemberJoinTimeoutMs). */
#define GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS 300000

struct group;
struct group_member;

/* What a parked request is answered with (called with the lock held). */
struct group_reply {
	int16_t err;
	const struct group *g;		/* with err 0: the group answered from */
	const struct group_member *m;	/* with err 0: the member answered */
	const char *member_id;		/* with an error: the member id to name */
	const char *leader;		/* JoinGroup: the leader to name */
	bool with_members;		/* JoinGroup: list every member (the
					 * leader's answer) */
};
typedef void (*group_reply_fn)(void *req, const struct group_reply *rep);

/* A request parked on a member: a JoinGroup waiting for the others, a
 * SyncGroup waiting for the leader's assignment. */
struct group_parked {
	void *req;			/* NULL: none parked */
	group_reply_fn reply;		/* answers it */
};

/* A protocol a member supports, as the member sent it. */
struct group_protocol {
	char *name;
	uint8_t *meta;
	int32_t len;
};

/* The same, referring to a request's bytes. */
struct group_protocol_ref {
	kp_str name;
	kp_bytes meta;
};

struct group_member {
	struct group_member *next;	/* the group's members, oldest first */
	char *id;
	char *instance_id;		/* static membership; NULL when dynamic */
	char *client_id;
	char *client_host;
	int32_t session_ms, rebalance_ms;
	struct group_protocol *protocols; /* in the member's preference order */
	int32_t nprotocols;
	uint8_t *assignment;
	int32_t assignment_len;
	struct group_parked join;	/* a parked JoinGroup */
	struct group_parked sync;	/* a parked SyncGroup */
	int64_t deadline;		/* session expiry */
	bool is_new;			/* joined this rebalance, not yet answered */
	bool pending_sync;		/* must send SyncGroup by sync_deadline */
};

/* A member id handed out with MEMBER_ID_REQUIRED (KIP-394), not yet used. */
struct group_pending {
	struct group_pending *next;
	char *id;
	int64_t deadline;
};

struct group_offset {
	struct group_offset *next;	/* hash chain, or a list being built */
	uint32_t hash;
	char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata;
	int64_t commit_ts;
	int64_t expire_ts;		/* -1: none */
	/* the commit this one replaced (0, 0: none): the group's consume
	 * rate on the partition, for the lag in seconds (metrics.c) */
	int64_t prev_offset, prev_ts;
	/* the __consumer_offsets offset of the batch that wrote it (-1 or 0:
	 * unknown): a transaction's offsets replace it only when written
	 * after it (group_txn.h) */
	int64_t log_offset;
};

/* An offset a transaction committed, pending until its marker
 * (group_txn.h). */
struct group_txn_offset {
	struct group_txn_offset *next;
	int64_t pid;			/* the transactional producer */
	int64_t batch_offset;		/* where its batch is in the log */
	struct group_offset *o;
};

struct group {
	struct group *next;		/* hash chain */
	uint32_t hash;
	char *id;
	int32_t opart;			/* its __consumer_offsets partition */
	struct group_fsm fsm;		/* its state, and since when */
	int32_t generation;
	char *protocol_type;		/* NULL until a member joined */
	char *protocol;			/* chosen for this generation */
	char *leader;			/* a member id */
	struct group_member *members;
	int32_t nmembers;
	struct group_pending *pending;
	/* PreparingRebalance: the join phase ends at join_deadline, or
	 * earlier once every member rejoined (not for the initial delay) */
	int64_t join_deadline;
	bool initial_delay;
	bool new_member_added;
	int32_t delay_remaining;
	int64_t sync_deadline;		/* 0: none */
	struct group_deadline wake;	/* no deadline of ours before wake.at */
	struct group_offset **obuckets;
	uint32_t onbuckets, noffsets;
	struct group_txn_offset *txn_offsets; /* pending, oldest first */
	int32_t nwrites;		/* appends in flight that point here */
	bool removed;			/* out of the table; freed at nwrites 0 */
};

struct group_table {
	struct group **buckets;
	uint32_t nbuckets, ngroups;
};

/* ------------------------------------------------------------ the table */

int group_table_init(struct group_table *t);
struct group *group_table_find(const struct group_table *t, kp_str id);
/* A new Empty group in t; NULL when out of memory. */
struct group *group_table_add(struct group_table *t, kp_str id, int32_t opart);
/* Put a group made elsewhere (a load) into t.  0 or -1. */
int group_table_link(struct group_table *t, struct group *g);
/* Take g out of t (it stays allocated). */
void group_table_unlink(struct group_table *t, struct group *g);
/* Free every group of t (none may have a deadline pending). */
void group_table_free(struct group_table *t);
/* Out of t, Dead, out of the deadline heap, its members gone (what they
 * parked answered NOT_COORDINATOR); freed now or by its last write. */
void group_remove(struct group_table *t, struct group_thread *th, struct group *g);
/* An append that pointed to g finished. */
void group_unref(struct group *g);
/* Free g (no deadline pending, no append pointing to it). */
void group_free(struct group *g);

/* ------------------------------------------------------------ members */

struct group_member *group_member_find(const struct group *g, kp_str id);
/* The member holding a static instance id; NULL for a null id. */
struct group_member *group_member_by_instance(const struct group *g, kp_str inst);
/* Append m (the newest); it leads when nobody does. */
void group_member_append(struct group *g, struct group_member *m);
/* Take m out of g and free it: what it parked is answered
 * UNKNOWN_MEMBER_ID, the leadership passes to the oldest member. */
void group_member_unlink(struct group *g, struct group_member *m);
/* Drop every member and pending member id; what they parked is answered
 * with err. */
void group_free_members(struct group *g, int16_t err);
void group_member_free(struct group_member *m);
bool group_is_leader(const struct group *g, const struct group_member *m);
void group_set_leader(struct group *g, const char *id);
/* Answer what p holds with rep (err, and what rep names) and clear it;
 * nothing when nothing is parked. */
void group_parked_reply(struct group_parked *p, const struct group_reply *rep);
/* The same, with an error naming member_id. */
void group_parked_error(struct group_parked *p, int16_t err, const char *member_id);

/* Kafka's member ids: prefix, "-", a random (version 4) UUID.  NULL when
 * out of memory. */
char *group_member_id_new(const char *prefix);
/* "/ip" from a peer's "ip:port", as Kafka shows a member's host. */
char *group_client_host(const char *peer);

/* ---------------------------------------------------- member ids handed out */

/* Remember id (taken over) until deadline.  0 or -1 (out of memory: id
 * is freed). */
int group_pending_add(struct group *g, char *id, int64_t deadline);
bool group_pending_has(const struct group *g, kp_str id);
/* Forget id and give it back (the caller owns it); NULL when not pending. */
char *group_pending_take(struct group *g, kp_str id);
/* Forget the ids whose deadline passed at now; how many. */
int32_t group_pending_expire(struct group *g, int64_t now);

/* ------------------------------------------------------------ protocols */

/* The member's protocol called name (NULL name or none: NULL). */
const struct group_protocol *group_member_protocol(const struct group_member *m,
						   const char *name);
/* Replace m's protocols with copies of ps.  0 or -1 (out of memory:
 * unchanged). */
int group_member_set_protocols(struct group_member *m,
			       const struct group_protocol_ref *ps, int32_t n);
/* Does m have exactly these protocols (names, metadata, order)? */
bool group_member_same_protocols(const struct group_member *m,
				 const struct group_protocol_ref *ps, int32_t n);
/* Can a member of this protocol type with these protocols be in g
 * (Kafka's supportsProtocols)?  An empty group takes any non-empty set. */
bool group_supports_protocols(const struct group *g, kp_str protocol_type,
			      const struct group_protocol_ref *ps, int32_t n);
/* Kafka's selectProtocol: among the protocols every member supports, each
 * member votes for the first in its own order; the most votes win, a tie
 * going to the first member's order.  NULL when there is none. */
const char *group_select_protocol(const struct group *g);
/* Does a member's subscription for the group's protocol name topic (the
 * consumer protocol)? */
bool group_subscribes(const struct group *g, kp_str topic);

/* ------------------------------------------------------------ offsets */

struct group_offset *group_offset_find(const struct group *g, const char *topic,
				       size_t tlen, int32_t partition);
/* Install o in g, replacing the one for its partition. */
void group_offset_put(struct group *g, struct group_offset *o);
/* Take o out of g and free it. */
void group_offset_del(struct group *g, struct group_offset *o);
void group_offset_free(struct group_offset *o);

#endif /* GROUP_TABLE_H */
