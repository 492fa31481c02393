/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_rebalance.c - group membership and rebalances (see
 * group_rebalance.h): JoinGroup, SyncGroup, Heartbeat, LeaveGroup, and
 * the deadlines that move a group on.
 *
 * Deadlines (a member's session, the join phase, the initial delay, the
 * sync deadline, a handed-out member id) fire when they pass, as Kafka's
 * DelayedHeartbeat and DelayedJoin do in their purgatories: each group
 * keeps its earliest in the coordinator thread's deadline heap
 * (group.wake).  Setting a deadline earlier moves the wake there
 * (group_wake_at); one that moves later (a heartbeat) needs nothing: the
 * wake comes early, finds nothing due, and the group's exact next wake is
 * computed then (group_reschedule).
 */
#include "group_rebalance.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"

static void group_run_due(struct group_coord *c, struct group *g, int64_t now);
static void prepare_rebalance(struct group_coord *c, struct group *g);
static void try_complete_join(struct group_coord *c, struct group *g);

/* ------------------------------------------------------------ deadlines */

static struct group *group_of_wake(struct group_deadline *d)
{
	return (struct group *)(void *)((char *)d - offsetof(struct group, wake));
}

static void group_wake_due(struct group_deadline *d, int64_t now)
{
	group_run_due(d->arg, group_of_wake(d), now);
}

/* g has a deadline at t: its wake moves there if that is earlier. */
static void group_wake_at(struct group_coord *c, struct group *g, int64_t t)
{
	if (g->removed)
		return;
	g->wake.fn = group_wake_due;
	g->wake.arg = c;
	group_deadline_by(&c->thread, &g->wake, t);
}

/* Room in the deadline heap for every group of the table and one more,
 * and the store's deadlines. */
static int reserve(struct group_coord *c)
{
	return group_thread_reserve(&c->thread, c->groups.ngroups + 1 +
				    GROUP_STORE_NDEADLINES);
}

/* Can m's session expire now?  Kafka's hasSatisfiedHeartbeat: a member
 * waiting for its JoinGroup or SyncGroup answer is not expected to
 * heartbeat, unless it is new (it may expire while awaiting the join). */
static bool session_runs(const struct group_member *m)
{
	return m->sync.req == NULL && (m->join.req == NULL || m->is_new);
}

/* The earliest deadline of g that calls for action; 0: none. */
static int64_t group_next_deadline(const struct group *g)
{
	int64_t t = 0;

#define EARLIER(x) do { if ((x) != 0 && (t == 0 || (x) < t)) t = (x); } while (0)
	for (const struct group_pending *p = g->pending; p; p = p->next)
		EARLIER(p->deadline);
	for (const struct group_member *m = g->members; m; m = m->next)
		if (session_runs(m))
			EARLIER(m->deadline);
	if (g->fsm.state == GROUP_PREPARING_REBALANCE)
		EARLIER(g->join_deadline);
	if ((g->fsm.state == GROUP_COMPLETING_REBALANCE || g->fsm.state == GROUP_STABLE) &&
	    g->sync_deadline != 0)
		EARLIER(g->sync_deadline);
#undef EARLIER
	return t;
}

/* g's wake, exactly: its earliest deadline that can fire (or none). */
static void group_reschedule(struct group_coord *c, struct group *g)
{
	g->wake.fn = group_wake_due;
	g->wake.arg = c;
	group_deadline_set(&c->thread, &g->wake, g->removed ? 0 : group_next_deadline(g));
}

/* Kafka's completeAndScheduleNextHeartbeatExpiration. */
void group_member_touch(struct group_coord *c, struct group *g,
			struct group_member *m, int64_t now)
{
	m->deadline = now + m->session_ms;
	group_wake_at(c, g, m->deadline);
}

/* ------------------------------------------------------------ the table */

struct group *group_create(struct group_coord *c, kp_str id, int32_t opart)
{
	if (reserve(c) < 0)
		return NULL;
	return group_table_add(&c->groups, id, opart);
}

int group_adopt(void *coord, struct group *g)
{
	struct group_coord *c = coord;
	int64_t now = kp_now_ms();

	if (group_table_find(&c->groups, kp_str_c(g->id)) != NULL || reserve(c) < 0 ||
	    group_table_link(&c->groups, g) < 0)
		return -1;
	for (struct group_member *m = g->members; m; m = m->next)
		m->deadline = now + m->session_ms;
	group_reschedule(c, g);
	return 0;
}

static int32_t rebalance_timeout(const struct group *g)
{
	int32_t t = 0;

	for (struct group_member *m = g->members; m; m = m->next)
		if (m->rebalance_ms > t)
			t = m->rebalance_ms;
	return t;
}

/* A static member that has not been heard from (restarting) counts as
 * joined for Kafka only when it rejoins; so do we. */
static bool all_joined(const struct group *g)
{
	if (g->pending != NULL)
		return false;
	for (struct group_member *m = g->members; m; m = m->next)
		if (m->join.req == NULL)
			return false;
	return true;
}

/* ------------------------------------------------------- rebalances */

static void reset_assignments(struct group *g)
{
	for (struct group_member *m = g->members; m; m = m->next) {
		free(m->assignment);
		m->assignment = NULL;
		m->assignment_len = 0;
	}
}

static void prepare_rebalance(struct group_coord *c, struct group *g)
{
	int64_t now = kp_now_ms();
	enum group_state prev = g->fsm.state;

	if (group_fsm_to(&g->fsm, g->id, GROUP_PREPARING_REBALANCE) < 0)
		return;
	if (prev == GROUP_COMPLETING_REBALANCE) {
		/* the assignment being made is void: syncs learn it, and
		 * their sessions start again (Kafka's propagateAssignment) */
		reset_assignments(g);
		for (struct group_member *m = g->members; m; m = m->next)
			if (m->sync.req != NULL) {
				group_parked_error(&m->sync, KP_ERR_REBALANCE_IN_PROGRESS, m->id);
				group_member_touch(c, g, m, now);
			}
	}
	if (prev == GROUP_EMPTY) {
		int32_t rt = rebalance_timeout(g);

		g->initial_delay = true;
		g->new_member_added = false;
		g->delay_remaining = rt > c->initial_delay_ms ? rt - c->initial_delay_ms : 0;
		g->join_deadline = now + c->initial_delay_ms;
	} else {
		g->initial_delay = false;
		g->join_deadline = now + rebalance_timeout(g);
	}
	g->sync_deadline = 0;
	KP_INFO("group %s: preparing to rebalance (generation %d, %d members)",
		g->id, g->generation, g->nmembers);
	group_wake_at(c, g, g->join_deadline);
}

static void maybe_prepare_rebalance(struct group_coord *c, struct group *g)
{
	if (g->fsm.state == GROUP_STABLE || g->fsm.state == GROUP_COMPLETING_REBALANCE ||
	    g->fsm.state == GROUP_EMPTY)
		prepare_rebalance(c, g);
}

static void store_empty_done(void *arg, struct group *g, int32_t generation,
			     int16_t err)
{
	(void)arg;
	(void)generation;
	if (err != 0)
		KP_WARN("group %s: cannot store its empty state: %s", g->id,
			kp_err_name(err));
}

/* The join phase is over: a new generation. */
static void complete_join(struct group_coord *c, struct group *g)
{
	int64_t now = kp_now_ms();
	struct group_member **pp = &g->members;
	int32_t staying = 0;

	/* who stays: those who rejoined, and static members */
	for (struct group_member *m = g->members; m; m = m->next)
		if (m->join.req != NULL || m->instance_id != NULL)
			staying++;
	if (group_fsm_to(&g->fsm, g->id, staying > 0 ? GROUP_COMPLETING_REBALANCE
						     : GROUP_EMPTY) < 0)
		return;
	/* dynamic members that did not rejoin are gone */
	while (*pp != NULL) {
		struct group_member *m = *pp;

		if (m->join.req == NULL && m->instance_id == NULL) {
			KP_INFO("group %s: member %s did not rejoin in time", g->id, m->id);
			group_member_unlink(g, m);
			continue;
		}
		pp = &m->next;
	}
	/* the leader must be one who gets this answer */
	if (g->leader != NULL) {
		struct group_member *l = group_member_find(g, kp_str_c(g->leader));

		if (l == NULL || l->join.req == NULL)
			group_set_leader(g, NULL);
	}
	for (struct group_member *m = g->members; g->leader == NULL && m; m = m->next)
		if (m->join.req != NULL)
			group_set_leader(g, m->id);
	g->generation++;
	free(g->protocol);
	g->protocol = NULL;
	if (g->nmembers == 0) {
		KP_INFO("group %s: generation %d is empty", g->id, g->generation);
		group_store_write_group(&c->store, g, store_empty_done, NULL);
		return;
	}
	{
		const char *p = group_select_protocol(g);

		g->protocol = p != NULL ? strdup(p) : NULL;
	}
	g->sync_deadline = now + rebalance_timeout(g);
	group_wake_at(c, g, g->sync_deadline);
	KP_INFO("group %s: generation %d with %d members, protocol %s, leader %s",
		g->id, g->generation, g->nmembers, g->protocol ? g->protocol : "-",
		g->leader ? g->leader : "-");
	for (struct group_member *m = g->members; m; m = m->next) {
		m->pending_sync = true;
		if (m->join.req == NULL)
			continue;
		group_parked_reply(&m->join, &(struct group_reply){
			.g = g, .m = m, .leader = g->leader,
			.with_members = group_is_leader(g, m) });
		m->is_new = false;
		group_member_touch(c, g, m, now);
	}
}

static void try_complete_join(struct group_coord *c, struct group *g)
{
	if (g->fsm.state == GROUP_PREPARING_REBALANCE && !g->initial_delay && all_joined(g))
		complete_join(c, g);
}

/* Take m out of g (left, expired, fenced) and let the group react. */
static void remove_member(struct group_coord *c, struct group *g, struct group_member *m,
			  const char *why)
{
	KP_INFO("group %s: member %s %s", g->id, m->id, why);
	group_member_unlink(g, m);
	if (g->fsm.state == GROUP_STABLE || g->fsm.state == GROUP_COMPLETING_REBALANCE)
		prepare_rebalance(c, g);
	/* the last one out: the group is Empty at once */
	try_complete_join(c, g);
}

/*
 * Act on g's deadlines that have passed (lock held, any thread): member
 * ids handed out and not used, sessions that ran out (Kafka's
 * DelayedHeartbeat expiring), the end of the join phase or of the initial
 * delay (DelayedJoin, InitialDelayedJoin), the sync deadline (Kafka
 * 2.8.1).  Then g's exact next wake.
 */
static void group_run_due(struct group_coord *c, struct group *g, int64_t now)
{
	if (group_pending_expire(g, now) > 0 && g->fsm.state == GROUP_PREPARING_REBALANCE)
		try_complete_join(c, g);
	/* each removal may change the list: scan again */
	for (struct group_member *m = g->members; m;) {
		if (now < m->deadline || !session_runs(m)) {
			m = m->next;
			continue;
		}
		KP_INFO("group %s: member %s's session expired %" PRId64 " ms after its "
			"deadline", g->id, m->id, now - m->deadline);
		remove_member(c, g, m, "left: its session expired");
		m = g->members;
	}
	if (g->fsm.state == GROUP_PREPARING_REBALANCE && now >= g->join_deadline) {
		if (g->initial_delay && g->new_member_added && g->delay_remaining > 0) {
			int32_t d = g->delay_remaining < c->initial_delay_ms
				? g->delay_remaining : c->initial_delay_ms;

			g->new_member_added = false;
			g->delay_remaining -= d;
			g->join_deadline = now + d;
		} else {
			complete_join(c, g);
		}
	}
	if ((g->fsm.state == GROUP_COMPLETING_REBALANCE || g->fsm.state == GROUP_STABLE) &&
	    g->sync_deadline != 0 && now >= g->sync_deadline) {
		bool removed = false;

		/* Kafka 2.8.1: who did not sync in time is out */
		g->sync_deadline = 0;
		for (struct group_member *m = g->members; m;) {
			if (!m->pending_sync) {
				m = m->next;
				continue;
			}
			KP_INFO("group %s: member %s sent no SyncGroup in time",
				g->id, m->id);
			group_member_unlink(g, m);
			removed = true;
			m = g->members;
		}
		if (removed)
			prepare_rebalance(c, g);
	}
	group_reschedule(c, g);
}

/* ----------------------------------------------------------- JoinGroup */

/* Answer the JoinGroup j carries now. */
static void join_reply_now(const struct group_join *j, const struct group_reply *rep)
{
	j->reply(j->req, rep);
}

static void join_park(struct group_member *m, const struct group_join *j)
{
	m->join = (struct group_parked){ j->req, j->reply };
}

static struct group_member *member_new(const struct group_join *j, char *id)
{
	struct group_member *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		free(id);
		return NULL;
	}
	m->id = id;
	m->instance_id = kp_str_dup(j->instance_id);
	m->client_id = j->client_id.len >= 0 ? kp_str_dup(j->client_id) : strdup("");
	m->client_host = group_client_host(j->peer);
	m->session_ms = j->session_ms;
	m->rebalance_ms = j->rebalance_ms;
	if (m->id == NULL || m->client_id == NULL || m->client_host == NULL ||
	    (j->instance_id.len >= 0 && m->instance_id == NULL) ||
	    group_member_set_protocols(m, j->protocols, j->nprotocols) < 0) {
		group_member_free(m);
		return NULL;
	}
	return m;
}

static kp_err_t add_member_and_rebalance(struct group_coord *c, struct group *g,
					 const struct group_join *j, char *id)
{
	struct group_member *m = member_new(j, id);

	if (m == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (g->protocol_type == NULL || g->nmembers == 0) {
		free(g->protocol_type);
		g->protocol_type = kp_str_dup(j->protocol_type);
	}
	m->is_new = true;
	m->deadline = kp_now_ms() + GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS;
	join_park(m, j);
	group_member_append(g, m);
	group_wake_at(c, g, m->deadline);
	KP_INFO("group %s: member %s (client %s) joins", g->id, m->id, m->client_id);
	if (g->fsm.state == GROUP_PREPARING_REBALANCE && g->generation == 0)
		g->new_member_added = true;
	maybe_prepare_rebalance(c, g);
	try_complete_join(c, g);
	return 0;
}

static void update_member_and_rebalance(struct group_coord *c, struct group *g,
					struct group_member *m,
					const struct group_join *j)
{
	if (!group_member_same_protocols(m, j->protocols, j->nprotocols) &&
	    group_member_set_protocols(m, j->protocols, j->nprotocols) < 0)
		KP_WARN("group %s: out of memory updating member %s", g->id, m->id);
	m->session_ms = j->session_ms;
	m->rebalance_ms = j->rebalance_ms;
	/* a retried join replaces the old */
	group_parked_error(&m->join, KP_ERR_UNKNOWN_MEMBER_ID, m->id);
	join_park(m, j);
	maybe_prepare_rebalance(c, g);
	try_complete_join(c, g);
}

static void static_rejoin_done(void *arg, struct group *g, int32_t generation,
			       int16_t err)
{
	(void)arg;
	(void)generation;
	if (err != 0)
		KP_WARN("group %s: cannot store the rejoined static member: %s",
			g->id, kp_err_name(err));
}

/* A static member comes back under a new id (Kafka's
 * updateStaticMemberAndRebalance): it keeps its place and assignment. */
static kp_err_t static_rejoin(struct group_coord *c, struct group *g, struct group_member *m,
			      const struct group_join *j)
{
	char *nid = group_member_id_new(m->instance_id);
	char *old_leader = g->leader != NULL ? strdup(g->leader) : NULL;
	bool was_leader = group_is_leader(g, m);

	if (nid == NULL) {
		free(old_leader);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	KP_INFO("group %s: static member %s rejoins as %s", g->id, m->instance_id, nid);
	group_parked_error(&m->join, KP_ERR_FENCED_INSTANCE_ID, m->id);
	group_parked_error(&m->sync, KP_ERR_FENCED_INSTANCE_ID, m->id);
	free(m->id);
	m->id = nid;
	if (was_leader)
		group_set_leader(g, nid);
	m->deadline = kp_now_ms() + j->session_ms;
	switch (g->fsm.state) {
	case GROUP_STABLE: {
		const char *sel;
		bool keep;

		if (!group_member_same_protocols(m, j->protocols, j->nprotocols))
			group_member_set_protocols(m, j->protocols, j->nprotocols);
		m->session_ms = j->session_ms;
		m->rebalance_ms = j->rebalance_ms;
		sel = group_select_protocol(g);
		keep = sel != NULL && g->protocol != NULL && strcmp(sel, g->protocol) == 0;
		if (keep) {
			group_store_write_group(&c->store, g, static_rejoin_done, NULL);
			/* the old leader id: nobody starts assigning anew */
			join_reply_now(j, &(struct group_reply){ .g = g, .m = m,
				       .leader = old_leader, .with_members = false });
			free(old_leader);
			return 0;
		}
		join_park(m, j);
		prepare_rebalance(c, g);
		break;
	}
	case GROUP_COMPLETING_REBALANCE:
	case GROUP_PREPARING_REBALANCE:
		update_member_and_rebalance(c, g, m, j);
		break;
	default:
		join_park(m, j);
		break;
	}
	free(old_leader);
	return 0;
}

static kp_err_t join_unknown(struct group_coord *c, struct group *g,
			     const struct group_join *j, const char **err_member)
{
	struct group_member *sm;
	char *id;

	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (!group_supports_protocols(g, j->protocol_type, j->protocols, j->nprotocols))
		return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	sm = group_member_by_instance(g, j->instance_id);
	if (sm != NULL)
		return static_rejoin(c, g, sm, j);
	if (g->nmembers >= c->max_size)
		return KP_ERR_GROUP_MAX_SIZE_REACHED;
	{
		char prefix[300];
		kp_str base = j->instance_id.len >= 0 ? j->instance_id : j->client_id;

		snprintf(prefix, sizeof(prefix), "%.*s", base.len > 0 ? (int)base.len : 0,
			 base.len > 0 ? base.ptr : "");
		id = group_member_id_new(prefix);
	}
	if (id == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (j->instance_id.len < 0 && j->require_known_id) {
		/* KIP-394: the client must come back with this id */
		int64_t deadline = kp_now_ms() + j->session_ms;

		if (group_pending_add(g, id, deadline) < 0)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		group_wake_at(c, g, deadline);
		*err_member = id;
		return KP_ERR_MEMBER_ID_REQUIRED;
	}
	return add_member_and_rebalance(c, g, j, id);
}

static kp_err_t join_known(struct group_coord *c, struct group *g, const struct group_join *j)
{
	struct group_member *m;
	char *id;

	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (!group_supports_protocols(g, j->protocol_type, j->protocols, j->nprotocols))
		return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	id = group_pending_take(g, j->member_id);
	if (id != NULL)
		return add_member_and_rebalance(c, g, j, id);
	{
		struct group_member *sm = group_member_by_instance(g, j->instance_id);

		if (sm != NULL && !kp_str_eqc(j->member_id, sm->id))
			return KP_ERR_FENCED_INSTANCE_ID;
	}
	m = group_member_find(g, j->member_id);
	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	m->deadline = kp_now_ms() + m->session_ms;
	switch (g->fsm.state) {
	case GROUP_PREPARING_REBALANCE:
		update_member_and_rebalance(c, g, m, j);
		return 0;
	case GROUP_COMPLETING_REBALANCE:
		if (group_member_same_protocols(m, j->protocols, j->nprotocols)) {
			/* it missed our answer: the same again */
			join_reply_now(j, &(struct group_reply){ .g = g, .m = m,
				       .leader = g->leader,
				       .with_members = group_is_leader(g, m) });
			return 0;
		}
		update_member_and_rebalance(c, g, m, j);
		return 0;
	case GROUP_STABLE:
		if (group_is_leader(g, m) ||
		    !group_member_same_protocols(m, j->protocols, j->nprotocols)) {
			update_member_and_rebalance(c, g, m, j);
			return 0;
		}
		join_reply_now(j, &(struct group_reply){ .g = g, .m = m,
			       .leader = g->leader, .with_members = false });
		return 0;
	default:
		return KP_ERR_UNKNOWN_MEMBER_ID;
	}
}

void group_join(struct group_coord *c, const struct group_join *j)
{
	const char *err_member = NULL;
	struct group *g = NULL;
	int32_t opart;
	int16_t err;

	if (j->group_id.len <= 0) {
		err = KP_ERR_INVALID_GROUP_ID;
		goto fail;
	}
	err = group_store_owner(&c->store, j->group_id, &opart);
	if (err != 0)
		goto fail;
	if (j->session_ms < c->min_session_ms || j->session_ms > c->max_session_ms) {
		err = KP_ERR_INVALID_SESSION_TIMEOUT;
		goto fail;
	}
	g = group_table_find(&c->groups, j->group_id);
	if (g == NULL) {
		if (j->member_id.len > 0) {
			err = KP_ERR_UNKNOWN_MEMBER_ID;
			goto fail;
		}
		g = group_create(c, j->group_id, opart);
		if (g == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto fail;
		}
	}
	if (j->member_id.len <= 0)
		err = join_unknown(c, g, j, &err_member);
	else
		err = join_known(c, g, j);
	if (err != 0)
		goto fail;
	group_reschedule(c, g);
	return;
fail:
	{
		char given[512];

		snprintf(given, sizeof(given), "%.*s",
			 j->member_id.len > 0 ? (int)j->member_id.len : 0,
			 j->member_id.len > 0 ? j->member_id.ptr : "");
		/* an id handed out belongs to the group: answered under the lock */
		join_reply_now(j, &(struct group_reply){ .err = err,
			       .member_id = err_member != NULL ? err_member : given });
	}
	if (g != NULL)
		group_reschedule(c, g);
}

/* ----------------------------------------------------------- SyncGroup */

/* The checks SyncGroup and Heartbeat share, in Kafka's order: the group,
 * static-member fencing, the member, the generation. */
static kp_err_t member_check(struct group_coord *c, kp_str group, kp_str member_id,
			     kp_str instance_id, int32_t generation,
			     struct group **gp, struct group_member **mp)
{
	struct group *g = group_table_find(&c->groups, group);
	struct group_member *sm;

	if (g == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->fsm.state == GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	sm = group_member_by_instance(g, instance_id);
	if (sm != NULL && !kp_str_eqc(member_id, sm->id))
		return KP_ERR_FENCED_INSTANCE_ID;
	*gp = g;
	*mp = group_member_find(g, member_id);
	if (*mp == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	return 0;
}

/* The leader's assignment is stored, or not (a group_store_done_fn). */
static void sync_done(void *arg, struct group *g, int32_t generation, int16_t err)
{
	struct group_coord *c = arg;

	if (g->removed || g->fsm.state != GROUP_COMPLETING_REBALANCE ||
	    g->generation != generation)
		return;		/* a newer rebalance already answered them */
	if (err != 0) {
		/* Kafka's translation for a group write */
		if (err == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION ||
		    err == KP_ERR_NOT_ENOUGH_REPLICAS ||
		    err == KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND)
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		else if (err == KP_ERR_NOT_LEADER_OR_FOLLOWER ||
			 err == KP_ERR_KAFKA_STORAGE_ERROR)
			err = KP_ERR_NOT_COORDINATOR;
		else if (err == KP_ERR_REQUEST_TIMED_OUT)
			err = KP_ERR_REBALANCE_IN_PROGRESS;
		else if (err == KP_ERR_MESSAGE_TOO_LARGE ||
			 err == KP_ERR_RECORD_LIST_TOO_LARGE)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
		KP_WARN("group %s: storing generation %d failed: %s", g->id,
			g->generation, kp_err_name(err));
		reset_assignments(g);
		for (struct group_member *m = g->members; m; m = m->next)
			if (m->sync.req != NULL) {
				group_parked_error(&m->sync, err, m->id);
				group_member_touch(c, g, m, kp_now_ms());
			}
		prepare_rebalance(c, g);
		return;
	}
	if (group_fsm_to(&g->fsm, g->id, GROUP_STABLE) < 0)
		return;
	KP_INFO("group %s: generation %d is stable", g->id, g->generation);
	for (struct group_member *m = g->members; m; m = m->next)
		if (m->sync.req != NULL) {
			group_parked_reply(&m->sync, &(struct group_reply){ .g = g, .m = m });
			group_member_touch(c, g, m, kp_now_ms());
		}
}

/* The leader's assignment, members it left out getting empty ones: set
 * now, so the group record carries it; void if the write fails. */
static int set_assignments(struct group *g, const struct group_sync *s)
{
	for (struct group_member *m = g->members; m; m = m->next) {
		kp_bytes a = { NULL, 0 };
		uint8_t *d;

		for (int32_t i = 0; i < s->nassignments; i++)
			if (kp_str_eqc(s->assignments[i].member_id, m->id))
				a = s->assignments[i].assignment;
		d = malloc(a.len > 0 ? (size_t)a.len : 1);
		if (d == NULL)
			return -1;
		if (a.len > 0)
			memcpy(d, a.ptr, (size_t)a.len);
		free(m->assignment);
		m->assignment = d;
		m->assignment_len = a.len > 0 ? a.len : 0;
	}
	return 0;
}

static void sync_park(struct group_member *m, const struct group_sync *s)
{
	m->sync = (struct group_parked){ s->req, s->reply };
}

void group_sync(struct group_coord *c, const struct group_sync *s)
{
	struct group *g = NULL;
	struct group_member *m = NULL;
	int32_t opart;
	int16_t err;

	if (s->protocol_required &&
	    (s->protocol_type.len < 0 || s->protocol_name.len < 0)) {
		err = KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
		goto fail;
	}
	if (s->group_id.len <= 0) {
		err = KP_ERR_INVALID_GROUP_ID;
		goto fail;
	}
	err = group_store_owner(&c->store, s->group_id, &opart);
	if (err == 0)
		err = member_check(c, s->group_id, s->member_id, s->instance_id,
				   s->generation, &g, &m);
	if (err != 0)
		goto fail;
	/* given (v5+), they must be the group's */
	if ((s->protocol_type.len >= 0 && (g->protocol_type == NULL ||
	     !kp_str_eqc(s->protocol_type, g->protocol_type))) ||
	    (s->protocol_name.len >= 0 && (g->protocol == NULL ||
	     !kp_str_eqc(s->protocol_name, g->protocol)))) {
		err = KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
		goto fail;
	}
	m->pending_sync = false;
	switch (g->fsm.state) {
	case GROUP_EMPTY:
		err = KP_ERR_UNKNOWN_MEMBER_ID;
		goto fail;
	case GROUP_PREPARING_REBALANCE:
		err = KP_ERR_REBALANCE_IN_PROGRESS;
		goto fail;
	case GROUP_COMPLETING_REBALANCE:
		group_parked_error(&m->sync, KP_ERR_REBALANCE_IN_PROGRESS, m->id);
		sync_park(m, s);
		m->deadline = kp_now_ms() + m->session_ms;	/* parked: not running */
		if (group_is_leader(g, m)) {
			if (set_assignments(g, s) < 0) {
				reset_assignments(g);
				m->sync.req = NULL;
				err = KP_ERR_UNKNOWN_SERVER_ERROR;
				goto fail;
			}
			/* sync_done answers every parked SyncGroup */
			group_store_write_group(&c->store, g, sync_done, c);
		}
		group_reschedule(c, g);
		return;
	case GROUP_STABLE:
		group_member_touch(c, g, m, kp_now_ms());
		s->reply(s->req, &(struct group_reply){ .g = g, .m = m });
		group_reschedule(c, g);
		return;
	default:
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto fail;
	}
fail:
	if (g != NULL)
		group_reschedule(c, g);
	s->reply(s->req, &(struct group_reply){ .err = err });
}

/* ----------------------------------------------------------- Heartbeat */

kp_err_t group_heartbeat(struct group_coord *c, kp_str group_id, kp_str member_id,
			 kp_str instance_id, int32_t generation)
{
	struct group *g = NULL;
	struct group_member *m = NULL;
	int32_t opart;
	int16_t err;

	if (group_id.len <= 0)
		return KP_ERR_INVALID_GROUP_ID;
	err = group_store_owner(&c->store, group_id, &opart);
	if (err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS)
		return 0;	/* as Kafka: members keep going while we load */
	if (err == 0)
		err = member_check(c, group_id, member_id, instance_id, generation, &g, &m);
	if (err != 0)
		return err;
	switch (g->fsm.state) {
	case GROUP_EMPTY:
		return KP_ERR_UNKNOWN_MEMBER_ID;
	case GROUP_PREPARING_REBALANCE:
		group_member_touch(c, g, m, kp_now_ms());
		return KP_ERR_REBALANCE_IN_PROGRESS;
	case GROUP_COMPLETING_REBALANCE:
	case GROUP_STABLE:
		group_member_touch(c, g, m, kp_now_ms());
		return 0;
	default:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
}

/* ---------------------------------------------------------- LeaveGroup */

/* One leaving member (by id, or by instance id for static members). */
static kp_err_t leave_one(struct group_coord *c, struct group *g, kp_str member_id,
			  kp_str instance_id)
{
	struct group_member *m;
	char *id;

	if (instance_id.len >= 0) {
		m = group_member_by_instance(g, instance_id);
		if (m == NULL)
			return KP_ERR_UNKNOWN_MEMBER_ID;
		if (member_id.len > 0 && !kp_str_eqc(member_id, m->id))
			return KP_ERR_FENCED_INSTANCE_ID;
		remove_member(c, g, m, "left the group");
		return 0;
	}
	id = group_pending_take(g, member_id);
	if (id != NULL) {
		free(id);
		try_complete_join(c, g);
		return 0;
	}
	m = group_member_find(g, member_id);
	if (m == NULL)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	remove_member(c, g, m, "left the group");
	return 0;
}


kp_err_t group_leave(struct group_coord *c, kp_str group_id,
		     struct group_leaving *ms, int32_t n)
{
	struct group *g;
	int32_t opart;
	int16_t err;

	if (group_id.len <= 0)
		return KP_ERR_INVALID_GROUP_ID;
	err = group_store_owner(&c->store, group_id, &opart);
	if (err != 0)
		return err;
	g = group_table_find(&c->groups, group_id);
	if (g == NULL || g->fsm.state == GROUP_DEAD)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	for (int32_t i = 0; i < n; i++)
		ms[i].err = leave_one(c, g, ms[i].member_id, ms[i].instance_id);
	group_reschedule(c, g);
	return 0;
}
