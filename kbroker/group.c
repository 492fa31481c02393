/*
 * group.c - the group coordinator's state machine: JoinGroup, SyncGroup,
 * Heartbeat and LeaveGroup, rebalances, session and rebalance deadlines,
 * static membership; the coordinator thread and its lifecycle.
 *
 * The states and their rules are Kafka 2.8's GroupCoordinator
 * (kafka.coordinator.group.GroupCoordinator).  A rebalance
 * (PreparingRebalance) collects a JoinGroup from every member; it ends
 * when all have rejoined, or at the rebalance timeout (members that did
 * not rejoin are dropped), or - for a group that was Empty - after
 * group.initial.rebalance.delay.ms, extended while new members keep
 * coming.  Then the generation advances, a protocol every member supports
 * is chosen by vote, every JoinGroup is answered (the leader gets all
 * members' metadata) and the group waits for the leader's SyncGroup
 * (CompletingRebalance), whose assignment is persisted before the group
 * is Stable and each member gets its share.
 *
 * Deadlines (a member's session, the join phase, the initial delay, the
 * sync deadline, a handed-out member id) fire when they pass, as Kafka's
 * DelayedHeartbeat and DelayedJoin do in their purgatories: the
 * coordinator thread's timer is armed at the earliest (see group_int.h),
 * not polled.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "broker.h"
#include "group.h"
#include "group_int.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "partition.h"
#include "req_dispatch.h"

/* ------------------------------------------------------------ helpers */

struct coord *coord_of(struct net_req *r)
{
	return r->worker->broker->coord;
}

kp_str arena_kstr(struct net_req *r, const char *s)
{
	char *d;

	if (s == NULL)
		return KP_STR_NULL;
	d = kp_arena_strndup(&r->arena, s, strlen(s));
	return d != NULL ? (kp_str){ d, (int32_t)strlen(d) } : KP_STR_NULL;
}

/* ------------------------------------------------------------ wakes */

static struct group *group_of_wake(struct group_deadline *d)
{
	return (struct group *)(void *)((char *)d - offsetof(struct group, wake));
}

static void group_run_due(struct coord *c, struct group *g, int64_t now);

static void group_wake_due(struct group_deadline *d, int64_t now)
{
	group_run_due(d->arg, group_of_wake(d), now);
}

void group_wake_at(struct coord *c, struct group *g, int64_t t)
{
	if (g->removed)
		return;
	g->wake.fn = group_wake_due;
	g->wake.arg = c;
	group_deadline_by(&c->thread, &g->wake, t);
}

int coord_reserve(struct coord *c)
{
	return group_thread_reserve(&c->thread, c->groups.ngroups + 1 + 2);
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
	if ((g->fsm.state == GROUP_COMPLETING_REBALANCE || g->fsm.state == GROUP_STABLE) && g->sync_deadline != 0)
		EARLIER(g->sync_deadline);
#undef EARLIER
	return t;
}

void group_reschedule(struct coord *c, struct group *g)
{
	g->wake.fn = group_wake_due;
	g->wake.arg = c;
	group_deadline_set(&c->thread, &g->wake, g->removed ? 0 : group_next_deadline(g));
}

/* A member's session starts again (Kafka's completeAndScheduleNext...). */
static void member_touch(struct coord *c, struct group *g, struct group_member *m,
			 int64_t now)
{
	m->deadline = now + m->session_ms;
	group_wake_at(c, g, m->deadline);
}

struct posted {
	struct net_req *r;
	void *resp;
};

static void posted_reply(void *arg)
{
	struct posted *p = arg;

	net_reply(p->r, p->resp);
}

void coord_send(struct net_req *r, void *resp)
{
	struct posted *p = kp_arena_alloc(&r->arena, sizeof(*p));

	if (p == NULL) {
		KP_ERROR("%s: out of memory answering %s", r->peer, r->api->name);
		return;
	}
	p->r = r;
	p->resp = resp;
	if (kp_loop_post(r->worker->loop, posted_reply, p) < 0)
		KP_ERROR("%s: cannot queue the %s answer", r->peer, r->api->name);
}

/* ------------------------------------------------------- the table */

int32_t coord_nparts(struct coord *c)
{
	struct md_view *v = metadata_cache_get(&c->b->meta);
	const struct md_topic *t = md_view_topic(v, KP_OFFSETS_TOPIC,
						 strlen(KP_OFFSETS_TOPIC));
	int32_t n = t != NULL && t->nparts > 0 ? t->nparts : c->num_partitions;

	md_view_unref(v);
	return n;
}

int16_t coord_check(struct coord *c, kp_str group, int32_t *opart)
{
	int32_t n = coord_nparts(c);

	*opart = kp_group_partition(group.ptr, group.len > 0 ? (size_t)group.len : 0, n);
	if (*opart >= c->nparts || c->parts[*opart].state == OP_NONE)
		return KP_ERR_NOT_COORDINATOR;
	if (c->parts[*opart].state == OP_LOADING)
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	return 0;
}

/* Move a loaded group into the coordinator's table. */
int group_adopt(struct coord *c, struct group *g)
{
	if (coord_reserve(c) < 0)
		return -1;
	return group_table_link(&c->groups, g);
}

struct group *group_find(struct coord *c, kp_str id)
{
	return group_table_find(&c->groups, id);
}

struct group *group_add(struct coord *c, kp_str id, int32_t opart)
{
	if (coord_reserve(c) < 0)
		return NULL;
	return group_table_add(&c->groups, id, opart);
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

/* ---------------------------------------------------------- replies */

static struct kp_join_group_resp *join_resp(struct net_req *r)
{
	struct kp_join_group_resp *resp = kp_arena_alloc(&r->arena, sizeof(*resp));

	if (resp != NULL) {
		kp_struct_init(r->api->resp, resp);
		/* no protocol (an error): v7 says null, older versions "" */
		resp->protocol_name = r->h.api_version >= 7 ? KP_STR_NULL
							    : (kp_str){ "", 0 };
		resp->leader = (kp_str){ "", 0 };
		resp->member_id = (kp_str){ "", 0 };
	}
	return resp;
}

static void join_error(struct net_req *r, int16_t err, const char *member_id)
{
	struct kp_join_group_resp *resp = join_resp(r);

	if (resp == NULL)
		return;
	resp->error_code = err;
	resp->generation_id = -1;
	if (member_id != NULL)
		resp->member_id = arena_kstr(r, member_id);
	coord_send(r, resp);
}

/* The member's JoinGroup answer for the current generation; the leader's
 * (when with_members) lists every member and its metadata. */
static void join_answer(const struct group *g, const struct group_member *m,
			struct net_req *r,
			bool with_members, const char *leader)
{
	struct kp_join_group_resp *resp = join_resp(r);

	if (resp == NULL)
		return;
	resp->generation_id = g->generation;
	resp->protocol_type = arena_kstr(r, g->protocol_type);
	resp->protocol_name = arena_kstr(r, g->protocol);
	resp->leader = arena_kstr(r, leader);
	resp->member_id = arena_kstr(r, m->id);
	if (with_members) {
		struct kp_join_group_resp_join_group_response_member *ms =
			kp_arena_calloc(&r->arena, (size_t)g->nmembers + 1, sizeof(*ms));
		int32_t n = 0;

		if (ms == NULL)
			return;
		for (struct group_member *o = g->members; o; o = o->next) {
			const struct group_protocol *p = group_member_protocol(o, g->protocol);
			uint8_t *md = NULL;

			kp_struct_init(&kp_join_group_resp_join_group_response_member_desc,
				       &ms[n]);
			ms[n].member_id = arena_kstr(r, o->id);
			ms[n].group_instance_id = arena_kstr(r, o->instance_id);
			if (p != NULL && p->len > 0) {
				md = kp_arena_alloc(&r->arena, (size_t)p->len);
				if (md == NULL)
					return;
				memcpy(md, p->meta, (size_t)p->len);
			}
			ms[n].metadata = (kp_bytes){ md, p != NULL ? p->len : 0 };
			n++;
		}
		resp->members = ms;
		resp->members_count = n;
	}
	coord_send(r, resp);
}

static struct kp_sync_group_resp *sync_resp(struct net_req *r)
{
	struct kp_sync_group_resp *resp = kp_arena_alloc(&r->arena, sizeof(*resp));

	if (resp != NULL) {
		kp_struct_init(r->api->resp, resp);
		resp->assignment = (kp_bytes){ NULL, 0 };
	}
	return resp;
}

static void sync_error(struct net_req *r, int16_t err)
{
	struct kp_sync_group_resp *resp = sync_resp(r);

	if (resp == NULL)
		return;
	resp->error_code = err;
	coord_send(r, resp);
}

static void sync_answer(const struct group *g, const struct group_member *m,
			struct net_req *r)
{
	struct kp_sync_group_resp *resp = sync_resp(r);
	uint8_t *a = NULL;

	if (resp == NULL)
		return;
	resp->protocol_type = arena_kstr(r, g->protocol_type);
	resp->protocol_name = arena_kstr(r, g->protocol);
	if (m->assignment_len > 0) {
		a = kp_arena_alloc(&r->arena, (size_t)m->assignment_len);
		if (a == NULL)
			return;
		memcpy(a, m->assignment, (size_t)m->assignment_len);
	}
	resp->assignment = (kp_bytes){ a, m->assignment_len };
	coord_send(r, resp);
}

/* A parked JoinGroup's answer (struct group_parked). */
static void join_reply(void *req, const struct group_reply *rep)
{
	if (rep->err != 0)
		join_error(req, rep->err, rep->member_id);
	else
		join_answer(rep->g, rep->m, req, rep->with_members, rep->leader);
}

/* A parked SyncGroup's answer. */
static void sync_reply(void *req, const struct group_reply *rep)
{
	if (rep->err != 0)
		sync_error(req, rep->err);
	else
		sync_answer(rep->g, rep->m, req);
}

static void park_sync(struct group_member *m, struct net_req *r)
{
	m->sync = (struct group_parked){ r, sync_reply };
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

void prepare_rebalance(struct coord *c, struct group *g)
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
				member_touch(c, g, m, now);
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

static void maybe_prepare_rebalance(struct coord *c, struct group *g)
{
	if (g->fsm.state == GROUP_STABLE || g->fsm.state == GROUP_COMPLETING_REBALANCE || g->fsm.state == GROUP_EMPTY)
		prepare_rebalance(c, g);
}

static void store_empty_done(struct coord *c, struct gwrite *w, int16_t err)
{
	(void)c;
	if (err != 0)
		KP_WARN("group %s: cannot store its empty state: %s", w->g->id,
			kp_err_name(err));
}

/* The join phase is over: a new generation. */
static void complete_join(struct coord *c, struct group *g)
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
		struct gwrite *w = calloc(1, sizeof(*w));

		KP_INFO("group %s: generation %d is empty", g->id, g->generation);
		if (w != NULL) {
			w->done = store_empty_done;
			if (store_group(c, g, w) != 0)
				KP_WARN("group %s: cannot store its empty state", g->id);
		}
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
		member_touch(c, g, m, now);
	}
}

void try_complete_join(struct coord *c, struct group *g)
{
	if (g->fsm.state == GROUP_PREPARING_REBALANCE && !g->initial_delay && all_joined(g))
		complete_join(c, g);
}

/* Take m out of g (left, expired, fenced) and let the group react. */
static void remove_member(struct coord *c, struct group *g, struct group_member *m,
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
static void group_run_due(struct coord *c, struct group *g, int64_t now)
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

static int16_t add_member_and_rebalance(struct coord *c, struct group *g,
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

static void update_member_and_rebalance(struct coord *c, struct group *g,
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

static void static_rejoin_done(struct coord *c, struct gwrite *w, int16_t err)
{
	(void)c;
	if (err != 0)
		KP_WARN("group %s: cannot store the rejoined static member: %s",
			w->g->id, kp_err_name(err));
}

/* A static member comes back under a new id (Kafka's
 * updateStaticMemberAndRebalance): it keeps its place and assignment. */
static int16_t static_rejoin(struct coord *c, struct group *g, struct group_member *m,
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
			struct gwrite *w = calloc(1, sizeof(*w));

			if (w != NULL) {
				w->done = static_rejoin_done;
				store_group(c, g, w);
			}
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

static int16_t join_unknown(struct coord *c, struct group *g,
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

static int16_t join_known(struct coord *c, struct group *g, const struct group_join *j)
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

void group_join(struct coord *c, const struct group_join *j)
{
	const char *err_member = NULL;
	struct group *g = NULL;
	int32_t opart;
	int16_t err;

	if (j->group_id.len <= 0) {
		err = KP_ERR_INVALID_GROUP_ID;
		goto fail;
	}
	err = coord_check(c, j->group_id, &opart);
	if (err != 0)
		goto fail;
	if (j->session_ms < c->min_session_ms || j->session_ms > c->max_session_ms) {
		err = KP_ERR_INVALID_SESSION_TIMEOUT;
		goto fail;
	}
	g = group_find(c, j->group_id);
	if (g == NULL) {
		if (j->member_id.len > 0) {
			err = KP_ERR_UNKNOWN_MEMBER_ID;
			goto fail;
		}
		g = group_add(c, j->group_id, opart);
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

/* The coordinator's view of a JoinGroup request. */
void api_join_group(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_join_group_req *req = r->body;
	int32_t n = req->protocols_count > 0 ? req->protocols_count : 0;
	struct group_protocol_ref *ps = kp_arena_calloc(&r->arena, (size_t)n + 1,
							sizeof(*ps));
	struct group_join j;

	if (ps == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++)
		ps[i] = (struct group_protocol_ref){ req->protocols[i].name,
						     req->protocols[i].metadata };
	j = (struct group_join){
		.group_id = req->group_id,
		.member_id = req->member_id,
		.instance_id = req->group_instance_id,
		.protocol_type = req->protocol_type,
		.client_id = r->h.client_id,
		.peer = r->peer,
		.protocols = ps,
		.nprotocols = req->protocols_count,
		.session_ms = req->session_timeout_ms,
		.rebalance_ms = r->h.api_version >= 1 && req->rebalance_timeout_ms > 0
			? req->rebalance_timeout_ms : req->session_timeout_ms,
		/* KIP-394: v4+ clients ask again with the id they are given */
		.require_known_id = r->h.api_version >= 4,
		.req = r,
		.reply = join_reply,
	};
	pthread_mutex_lock(&c->lock);
	group_join(c, &j);
	pthread_mutex_unlock(&c->lock);
}

/* ----------------------------------------------------------- SyncGroup */

/* The checks SyncGroup and Heartbeat share, in Kafka's order: the group,
 * static-member fencing, the member, the generation. */
static int16_t member_check(struct coord *c, kp_str group, kp_str member_id,
			    kp_str instance_id, int32_t generation,
			    struct group **gp, struct group_member **mp)
{
	struct group *g = group_find(c, group);
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

static void sync_done(struct coord *c, struct gwrite *w, int16_t err)
{
	struct group *g = w->g;

	if (g->removed || g->fsm.state != GROUP_COMPLETING_REBALANCE || g->generation != w->generation)
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
				member_touch(c, g, m, kp_now_ms());
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
			member_touch(c, g, m, kp_now_ms());
		}
}

/* The leader's assignment, members it left out getting empty ones: set
 * now, so the group record carries it; void if the write fails. */
static int set_assignments(struct group *g, const struct kp_sync_group_req *req)
{
	for (struct group_member *m = g->members; m; m = m->next) {
		kp_bytes a = { NULL, 0 };
		uint8_t *d;

		for (int32_t i = 0; i < req->assignments_count; i++)
			if (kp_str_eqc(req->assignments[i].member_id, m->id))
				a = req->assignments[i].assignment;
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

void api_sync_group(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_sync_group_req *req = r->body;
	struct group *g = NULL;
	struct group_member *m = NULL;
	int32_t opart;
	int16_t err;

	/* v5+: the protocol type and name are mandatory (KIP-559) */
	if (r->h.api_version >= 5 &&
	    (req->protocol_type.len < 0 || req->protocol_name.len < 0)) {
		sync_error(r, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
		return;
	}
	if (req->group_id.len <= 0) {
		sync_error(r, KP_ERR_INVALID_GROUP_ID);
		return;
	}
	pthread_mutex_lock(&c->lock);
	err = coord_check(c, req->group_id, &opart);
	if (err == 0)
		err = member_check(c, req->group_id, req->member_id,
				   req->group_instance_id, req->generation_id, &g, &m);
	if (err != 0)
		goto fail;
	/* given (v5+), they must be the group's */
	if ((req->protocol_type.len >= 0 && (g->protocol_type == NULL ||
	     !kp_str_eqc(req->protocol_type, g->protocol_type))) ||
	    (req->protocol_name.len >= 0 && (g->protocol == NULL ||
	     !kp_str_eqc(req->protocol_name, g->protocol)))) {
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
		park_sync(m, r);
		m->deadline = kp_now_ms() + m->session_ms;	/* parked: not running */
		if (group_is_leader(g, m)) {
			struct gwrite *w = calloc(1, sizeof(*w));

			if (w == NULL || set_assignments(g, req) < 0) {
				free(w);
				reset_assignments(g);
				m->sync.req = NULL;
				err = KP_ERR_UNKNOWN_SERVER_ERROR;
				goto fail;
			}
			w->done = sync_done;
			/* consumes w: sync_done answers every parked sync */
			store_group(c, g, w);
		}
		group_reschedule(c, g);
		pthread_mutex_unlock(&c->lock);
		return;
	case GROUP_STABLE:
		member_touch(c, g, m, kp_now_ms());
		sync_answer(g, m, r);
		group_reschedule(c, g);
		pthread_mutex_unlock(&c->lock);
		return;
	default:
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto fail;
	}
fail:
	if (g != NULL)
		group_reschedule(c, g);
	pthread_mutex_unlock(&c->lock);
	sync_error(r, err);
}

/* ----------------------------------------------------------- Heartbeat */

void api_heartbeat(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_heartbeat_req *req = r->body;
	struct kp_heartbeat_resp resp;
	struct group *g = NULL;
	struct group_member *m = NULL;
	int32_t opart;
	int16_t err;

	kp_struct_init(r->api->resp, &resp);
	if (req->group_id.len <= 0) {
		resp.error_code = KP_ERR_INVALID_GROUP_ID;
		net_reply(r, &resp);
		return;
	}
	pthread_mutex_lock(&c->lock);
	err = coord_check(c, req->group_id, &opart);
	if (err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS) {
		err = 0;	/* as Kafka: members keep going while we load */
		goto out;
	}
	if (err == 0)
		err = member_check(c, req->group_id, req->member_id,
				   req->group_instance_id, req->generation_id, &g, &m);
	if (err != 0)
		goto out;
	switch (g->fsm.state) {
	case GROUP_EMPTY:
		err = KP_ERR_UNKNOWN_MEMBER_ID;
		break;
	case GROUP_PREPARING_REBALANCE:
		member_touch(c, g, m, kp_now_ms());
		err = KP_ERR_REBALANCE_IN_PROGRESS;
		break;
	case GROUP_COMPLETING_REBALANCE:
	case GROUP_STABLE:
		member_touch(c, g, m, kp_now_ms());
		break;
	default:
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
out:
	pthread_mutex_unlock(&c->lock);
	resp.error_code = err;
	net_reply(r, &resp);
}

/* ---------------------------------------------------------- LeaveGroup */

/* One leaving member (by id, or by instance id for static members). */
static int16_t leave_one(struct coord *c, struct group *g, kp_str member_id,
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

void api_leave_group(struct net_req *r)
{
	struct coord *c = coord_of(r);
	const struct kp_leave_group_req *req = r->body;
	struct kp_leave_group_resp resp;
	struct kp_leave_group_resp_member_response *ms = NULL;
	struct group *g = NULL;
	int32_t opart;
	int16_t err;
	bool batch = r->h.api_version >= 3;

	kp_struct_init(r->api->resp, &resp);
	if (batch && req->members_count > 0) {
		ms = kp_arena_calloc(&r->arena, (size_t)req->members_count, sizeof(*ms));
		if (ms == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
	}
	pthread_mutex_lock(&c->lock);
	err = req->group_id.len <= 0 ? KP_ERR_INVALID_GROUP_ID
		: coord_check(c, req->group_id, &opart);
	if (err != 0)
		goto out;
	g = group_find(c, req->group_id);
	if (!batch) {
		err = g == NULL || g->fsm.state == GROUP_DEAD ? KP_ERR_UNKNOWN_MEMBER_ID
			: leave_one(c, g, req->member_id, KP_STR_NULL);
		goto out;
	}
	if (g == NULL || g->fsm.state == GROUP_DEAD) {
		err = KP_ERR_UNKNOWN_MEMBER_ID;
		goto out;
	}
	for (int32_t i = 0; i < req->members_count; i++) {
		kp_struct_init(&kp_leave_group_resp_member_response_desc, &ms[i]);
		ms[i].member_id = req->members[i].member_id;
		ms[i].group_instance_id = req->members[i].group_instance_id;
		ms[i].error_code = leave_one(c, g, req->members[i].member_id,
					     req->members[i].group_instance_id);
	}
	resp.members = ms;
	resp.members_count = req->members_count > 0 ? req->members_count : 0;
out:
	if (err == 0 && g != NULL)
		group_reschedule(c, g);
	pthread_mutex_unlock(&c->lock);
	resp.error_code = err;
	net_reply(r, &resp);
}

/* ------------------------------------------------- thread and lifecycle */

/* The first queued write timed out (the thread, lock held). */
static void writes_due(struct group_deadline *d, int64_t now)
{
	store_check_writes(d->arg, now);
}

/* An offset-expiry round (the thread, lock held), and the next. */
static void expiry_due(struct group_deadline *d, int64_t now)
{
	struct coord *c = d->arg;

	group_deadline_set(&c->thread, d, now + c->retention_check_ms);
	store_expire_offsets(c);
}

int group_start(struct broker *b, char *err, size_t errlen)
{
	struct coord *c = calloc(1, sizeof(*c));
	const struct kp_config *cfg = &b->cfg;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->b = b;
	pthread_mutex_init(&c->lock, NULL);
	c->initial_delay_ms = kp_config_int(cfg, "group.initial.rebalance.delay.ms");
	c->min_session_ms = kp_config_int(cfg, "group.min.session.timeout.ms");
	c->max_session_ms = kp_config_int(cfg, "group.max.session.timeout.ms");
	c->max_size = kp_config_int(cfg, "group.max.size");
	c->commit_timeout_ms = kp_config_int(cfg, "offsets.commit.timeout.ms");
	c->metadata_max = kp_config_int(cfg, "offset.metadata.max.bytes");
	c->load_buffer = kp_config_int(cfg, "offsets.load.buffer.size");
	c->retention_ms = (int64_t)kp_config_int(cfg, "offsets.retention.minutes") * 60000;
	c->retention_check_ms = kp_config_long(cfg, "offsets.retention.check.interval.ms");
	c->num_partitions = kp_config_int(cfg, "offsets.topic.num.partitions");
	c->replication_factor = kp_config_int(cfg, "offsets.topic.replication.factor");
	c->segment_bytes = kp_config_int(cfg, "offsets.topic.segment.bytes");
	if (group_table_init(&c->groups) < 0)
		goto oom;
	c->nparts = c->num_partitions;
	c->parts = calloc((size_t)c->nparts, sizeof(*c->parts));
	if (c->parts == NULL)
		goto oom;
	for (int32_t i = 0; i < c->nparts; i++)
		c->parts[i].writes_tail = &c->parts[i].writes;
	if (group_thread_init(&c->thread, &c->lock) < 0 || coord_reserve(c) < 0)
		goto oom;
	group_deadline_init(&c->writes_due, writes_due, c);
	group_deadline_init(&c->expiry_due, expiry_due, c);
	group_deadline_set(&c->thread, &c->expiry_due, kp_now_ms() + c->retention_check_ms);
	if (group_thread_start(&c->thread) < 0) {
		snprintf(err, errlen, "cannot start the group coordinator thread");
		goto fail;
	}
	b->coord = c;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	group_thread_free(&c->thread);
	free(c->parts);
	free(c->groups.buckets);
	free(c);
	return -1;
}

void group_stop(struct broker *b)
{
	struct coord *c = b->coord;

	if (c == NULL || !c->thread.running)
		return;
	group_thread_stop(&c->thread);
	pthread_mutex_lock(&c->lock);
	/* requests now get NOT_COORDINATOR */
	for (int32_t i = 0; i < c->nparts; i++)
		if (c->parts[i].state != OP_NONE)
			store_unload(c, i);
	for (uint32_t i = 0; i < c->groups.nbuckets; i++)
		while (c->groups.buckets[i] != NULL)
			group_remove(&c->groups, &c->thread, c->groups.buckets[i]);
	pthread_mutex_unlock(&c->lock);
}

void group_destroy(struct broker *b)
{
	struct coord *c = b->coord;

	if (c == NULL)
		return;
	group_stop(b);
	group_thread_free(&c->thread);
	pthread_mutex_destroy(&c->lock);
	free(c->parts);
	free(c->groups.buckets);
	free(c);
	b->coord = NULL;
}

static int ensure_part(struct coord *c, int32_t idx)
{
	struct opart *np;

	if (idx < c->nparts)
		return 0;
	np = realloc(c->parts, sizeof(*np) * (size_t)(idx + 1));
	if (np == NULL)
		return -1;
	for (int32_t i = 0; i < c->nparts; i++)	/* tails point into the old array */
		if (np[i].writes == NULL)
			np[i].writes_tail = &np[i].writes;
		else {
			struct gwrite *w = np[i].writes;

			while (w->next != NULL)
				w = w->next;
			np[i].writes_tail = &w->next;
		}
	for (int32_t i = c->nparts; i <= idx; i++) {
		memset(&np[i], 0, sizeof(np[i]));
		np[i].writes_tail = &np[i].writes;
	}
	c->parts = np;
	c->nparts = idx + 1;
	return 0;
}

struct load_job {
	struct coord *c;
	int32_t opart;
	uint32_t lead_gen;
};

static void load_run(void *arg)
{
	struct load_job *j = arg;

	store_load(j->c, j->opart, j->lead_gen);
	free(j);
}

void group_partition_role(struct broker *b, struct partition *p)
{
	struct coord *c = b->coord;
	bool leader;
	uint32_t gen;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->thread.running) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	pthread_mutex_lock(&p->lock);
	leader = p->leader && p->log != NULL;
	gen = p->lead_gen;
	pthread_mutex_unlock(&p->lock);
	if (ensure_part(c, p->index) < 0) {
		pthread_mutex_unlock(&c->lock);
		KP_ERROR("out of memory tracking %s-%d", p->topic, p->index);
		return;
	}
	{
		struct opart *op = &c->parts[p->index];

		op->p = p;
		if (!leader) {
			if (op->state != OP_NONE) {
				KP_INFO("group coordinator: unloading %s-%d", p->topic,
					p->index);
				store_unload(c, p->index);
			}
		} else if (op->state == OP_NONE || op->lead_gen != gen) {
			struct load_job *j = malloc(sizeof(*j));

			if (op->state != OP_NONE)
				store_unload(c, p->index);
			op->state = OP_LOADING;
			op->lead_gen = gen;
			if (j != NULL) {
				j->c = c;
				j->opart = p->index;
				j->lead_gen = gen;
			}
			if (j == NULL || group_thread_post(&c->thread, load_run, j) < 0) {
				free(j);
				op->state = OP_NONE;
				KP_ERROR("cannot schedule loading %s-%d", p->topic, p->index);
			}
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static void check_run(void *arg)
{
	struct coord *c = arg;

	atomic_store(&c->check_posted, false);
	pthread_mutex_lock(&c->lock);
	store_check_writes(c, kp_now_ms());
	pthread_mutex_unlock(&c->lock);
}

void group_hw_moved(struct broker *b)
{
	struct coord *c = b->coord;

	if (c != NULL && !atomic_exchange(&c->check_posted, true))
		if (group_thread_post(&c->thread, check_run, c) < 0)
			atomic_store(&c->check_posted, false);
}
