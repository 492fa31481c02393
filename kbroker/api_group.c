/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_group.c - the group coordinator's requests, thin: FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, OffsetDelete, DescribeGroups, ListGroups, DeleteGroups.
 *
 * Each handler runs on its connection's network worker: it turns the
 * request into the coordinator's terms, calls the coordinator's operation
 * under its lock (group_rebalance.h, group_offsets.h) or reads the table,
 * and builds the response.  A JoinGroup or SyncGroup the coordinator
 * parks carries join_reply / sync_reply, and an OffsetCommit waiting for
 * the ISR commit_reply; these run under the coordinator's lock on
 * whichever thread completes the wait and post the response to the
 * request's worker.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "broker.h"
#include "group_coord.h"
#include "group_offsets.h"
#include "group_rebalance.h"
#include "group_txn.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "api.h"
#include "net.h"
#include "zk_admin.h"

/* ------------------------------------------------------------ helpers */

static struct group_coord *coord_of(struct net_req *r)
{
	return r->worker->broker->coord;
}

/* Copy into r's arena (NULL: a null string). */
static kp_str arena_kstr(struct net_req *r, const char *s)
{
	char *d;

	if (s == NULL)
		return KP_STR_NULL;
	d = kp_arena_strndup(&r->arena, s, strlen(s));
	return d != NULL ? (kp_str){ d, (int32_t)strlen(d) } : KP_STR_NULL;
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

/* Answer r from any thread: posted to its worker. */
static void answer_later(struct net_req *r, void *resp)
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

/* ----------------------------------------------------- FindCoordinator */

void api_find_coordinator(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	struct group_coord *c = b->coord;
	const struct kp_find_coordinator_req *req = r->body;
	struct kp_find_coordinator_resp resp;
	struct md_view *v;
	const struct md_topic *t;
	int16_t err = 0;
	char msg[512] = "";

	kp_struct_init(r->api->resp, &resp);
	resp.node_id = -1;
	resp.host = (kp_str){ "", 0 };
	resp.port = -1;
	if (req->key_type == 1) {
		api_find_txn_coordinator(r);	/* api_txn.c */
		return;
	}
	if (req->key_type != 0) {
		err = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "unknown key type");
		goto out;
	}
	v = metadata_cache_get(&b->meta);
	t = md_view_topic(v, KP_OFFSETS_TOPIC, strlen(KP_OFFSETS_TOPIC));
	if (t == NULL || t->nparts <= 0) {
		md_view_unref(v);
		err = zk_admin_create_offsets_topic(b, c->store.num_partitions,
						    c->replication_factor,
						    c->segment_bytes, msg, sizeof(msg));
		if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS)
			KP_WARN("cannot create %s (offsets.topic.replication.factor=%d): %s",
				KP_OFFSETS_TOPIC, c->replication_factor, msg);
		/* as Kafka: not yet, ask again */
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	{
		int32_t idx = kp_group_partition(req->key.ptr,
						 req->key.len > 0 ? (size_t)req->key.len : 0,
						 t->nparts);
		const struct md_partition *mp = md_topic_partition(t, idx);
		/* the coordinator's endpoint on the client's listener */
		const struct md_endpoint *e = mp != NULL && mp->leader >= 0
			? md_view_endpoint(v, mp->leader, r->listener) : NULL;

		if (e == NULL) {
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		} else {
			resp.node_id = mp->leader;
			resp.host = arena_kstr(r, e->host);
			resp.port = e->port;
		}
	}
	md_view_unref(v);
out:
	resp.error_code = err;
	if (err != 0)
		resp.error_message = arena_kstr(r, msg[0] ? msg : kp_err_name(err));
	net_reply(r, &resp);
}

/* ---------------------------------------------------------- JoinGroup */

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
	answer_later(r, resp);
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
	answer_later(r, resp);
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
	answer_later(r, resp);
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
	answer_later(r, resp);
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

void api_join_group(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
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
		.nprotocols = n,
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

/* ---------------------------------------------------------- SyncGroup */

void api_sync_group(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_sync_group_req *req = r->body;
	int32_t n = req->assignments_count > 0 ? req->assignments_count : 0;
	struct group_assignment_ref *as = kp_arena_calloc(&r->arena, (size_t)n + 1,
							  sizeof(*as));
	struct group_sync s;

	if (as == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++)
		as[i] = (struct group_assignment_ref){ req->assignments[i].member_id,
						       req->assignments[i].assignment };
	s = (struct group_sync){
		.group_id = req->group_id,
		.member_id = req->member_id,
		.instance_id = req->group_instance_id,
		.protocol_type = req->protocol_type,
		.protocol_name = req->protocol_name,
		/* v5+: the protocol type and name are mandatory (KIP-559) */
		.protocol_required = r->h.api_version >= 5,
		.generation = req->generation_id,
		.assignments = as,
		.nassignments = n,
		.req = r,
		.reply = sync_reply,
	};
	pthread_mutex_lock(&c->lock);
	group_sync(c, &s);
	pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------- Heartbeat */

void api_heartbeat(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_heartbeat_req *req = r->body;
	struct kp_heartbeat_resp resp;

	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	resp.error_code = group_heartbeat(c, req->group_id, req->member_id,
					  req->group_instance_id, req->generation_id);
	pthread_mutex_unlock(&c->lock);
	net_reply(r, &resp);
}

/* --------------------------------------------------------- LeaveGroup */

void api_leave_group(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_leave_group_req *req = r->body;
	struct kp_leave_group_resp resp;
	struct kp_leave_group_resp_member_response *ms = NULL;
	struct group_leaving *ls, one;
	int32_t n = 1;
	bool batch = r->h.api_version >= 3;

	kp_struct_init(r->api->resp, &resp);
	if (!batch) {
		/* v0-2: one member, by id; its error is the response's */
		one = (struct group_leaving){ req->member_id, KP_STR_NULL, 0 };
		ls = &one;
	} else {
		n = req->members_count > 0 ? req->members_count : 0;
		ls = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*ls));
		ms = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*ms));
		if (ls == NULL || ms == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		for (int32_t i = 0; i < n; i++)
			ls[i] = (struct group_leaving){ req->members[i].member_id,
							req->members[i].group_instance_id, 0 };
	}
	pthread_mutex_lock(&c->lock);
	resp.error_code = group_leave(c, req->group_id, ls, n);
	pthread_mutex_unlock(&c->lock);
	if (!batch) {
		if (resp.error_code == 0)
			resp.error_code = one.err;
	} else if (resp.error_code == 0) {
		for (int32_t i = 0; i < n; i++) {
			kp_struct_init(&kp_leave_group_resp_member_response_desc, &ms[i]);
			ms[i].member_id = req->members[i].member_id;
			ms[i].group_instance_id = req->members[i].group_instance_id;
			ms[i].error_code = ls[i].err;
		}
		resp.members = ms;
		resp.members_count = n;
	}
	net_reply(r, &resp);
}

/* ------------------------------------------------------- OffsetCommit */

/* An OffsetCommit whose append waits for the ISR. */
struct commit_ctx {
	struct net_req *r;
	struct kp_offset_commit_resp *resp;
};

/* The commit's append was acknowledged or failed: every error is set. */
static void commit_reply(void *req)
{
	struct commit_ctx *cc = req;

	answer_later(cc->r, cc->resp);
}

void api_offset_commit(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_offset_commit_req *req = r->body;
	struct kp_offset_commit_resp *resp = kp_arena_alloc(&r->arena, sizeof(*resp));
	struct kp_offset_commit_resp_offset_commit_response_topic *ts;
	struct group_commit_part *parts;
	struct commit_ctx *cc = kp_arena_alloc(&r->arena, sizeof(*cc));
	struct group_commit gc;
	int32_t total = 0, k = 0;
	bool waits;

	if (resp == NULL || cc == NULL)
		goto oom;
	*cc = (struct commit_ctx){ r, resp };
	kp_struct_init(r->api->resp, resp);
	resp->topics_count = req->topics_count > 0 ? req->topics_count : 0;
	ts = kp_arena_calloc(&r->arena, (size_t)resp->topics_count + 1, sizeof(*ts));
	if (ts == NULL)
		goto oom;
	resp->topics = ts;
	for (int32_t i = 0; i < resp->topics_count; i++)
		total += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	parts = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*parts));
	if (parts == NULL)
		goto oom;
	for (int32_t i = 0; i < resp->topics_count; i++) {
		const struct kp_offset_commit_req_offset_commit_request_topic *rt = &req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;

		kp_struct_init(&kp_offset_commit_resp_offset_commit_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL)
			goto oom;
		ts[i].partitions_count = np;
		/* as Kafka: Read on the topic too (the group's is checked) */
		bool may = authz_ok_str(r, KP_ACL_OP_READ, KP_ACL_RT_TOPIC, rt->name);
		for (int32_t j = 0; j < np; j++) {
			const struct kp_offset_commit_req_offset_commit_request_partition *rp =
				&rt->partitions[j];

			kp_struct_init(&kp_offset_commit_resp_offset_commit_response_partition_desc,
				       &ts[i].partitions[j]);
			ts[i].partitions[j].partition_index = rp->partition_index;
			if (!may) {
				ts[i].partitions[j].error_code = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			parts[k++] = (struct group_commit_part){
				.topic = rt->name,
				.partition = rp->partition_index,
				.offset = rp->committed_offset,
				.leader_epoch = rp->committed_leader_epoch,
				.metadata = rp->committed_metadata,
				.commit_ts = rp->commit_timestamp,
				.err = &ts[i].partitions[j].error_code,
			};
		}
	}
	if (k == 0 && total > 0) {
		/* nothing it may commit: answered at once */
		net_reply(r, resp);
		return;
	}
	gc = (struct group_commit){
		.group_id = req->group_id,
		.member_id = req->member_id,
		.instance_id = req->group_instance_id,
		.generation = req->generation_id,
		.retention_ms = req->retention_time_ms,
		.parts = parts,
		.nparts = k,
		.done = commit_reply,
		.req = cc,
	};
	pthread_mutex_lock(&c->lock);
	waits = group_commit_offsets(c, &gc);
	pthread_mutex_unlock(&c->lock);
	if (!waits)
		net_reply(r, resp);
	return;
oom:
	net_req_fail(r, "out of memory");
}

/* --------------------------------------------------------- OffsetFetch */

/* stable: require_stable (v7+), a partition with a transaction's offsets
 * pending is UNSTABLE_OFFSET_COMMIT (KIP-447) */
static void fetch_fill(struct net_req *r, struct group *g, kp_str topic, int32_t part,
		       bool stable,
		       struct kp_offset_fetch_resp_offset_fetch_response_partition *out)
{
	struct group_offset *o = g != NULL && topic.len >= 0
		? group_offset_find(g, topic.ptr, (size_t)topic.len, part) : NULL;

	kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_partition_desc, out);
	out->partition_index = part;
	out->committed_offset = -1;
	out->committed_leader_epoch = -1;
	out->metadata = (kp_str){ "", 0 };
	if (stable && g != NULL && topic.len >= 0 &&
	    group_txn_pending_for(g, topic.ptr, (size_t)topic.len, part)) {
		out->error_code = KP_ERR_UNSTABLE_OFFSET_COMMIT;
		return;
	}
	if (o != NULL) {
		out->committed_offset = o->offset;
		out->committed_leader_epoch = o->leader_epoch;
		out->metadata = arena_kstr(r, o->metadata != NULL ? o->metadata : "");
	}
}

static int cmp_offsets(const void *a, const void *b)
{
	const struct group_offset *x = *(const struct group_offset *const *)a;
	const struct group_offset *y = *(const struct group_offset *const *)b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* Every offset of g, grouped by topic. */
static int fetch_all(struct net_req *r, struct group *g, bool stable,
		     struct kp_offset_fetch_resp *resp)
{
	struct group_offset **os;
	struct kp_offset_fetch_resp_offset_fetch_response_topic *ts;
	int32_t n = 0, nt = 0;

	if (g == NULL || g->noffsets == 0)
		return 0;
	os = kp_arena_calloc(&r->arena, g->noffsets, sizeof(*os));
	ts = kp_arena_calloc(&r->arena, g->noffsets, sizeof(*ts));
	if (os == NULL || ts == NULL)
		return -1;
	for (uint32_t i = 0; i < g->onbuckets; i++)
		for (struct group_offset *o = g->obuckets[i]; o; o = o->next)
			os[n++] = o;
	qsort(os, (size_t)n, sizeof(*os), cmp_offsets);
	for (int32_t i = 0; i < n;) {
		int32_t j = i;

		while (j < n && strcmp(os[j]->topic, os[i]->topic) == 0)
			j++;
		kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_topic_desc, &ts[nt]);
		ts[nt].name = arena_kstr(r, os[i]->topic);
		ts[nt].partitions = kp_arena_calloc(&r->arena, (size_t)(j - i),
						    sizeof(*ts[nt].partitions));
		if (ts[nt].partitions == NULL)
			return -1;
		ts[nt].partitions_count = j - i;
		for (int32_t k = i; k < j; k++)
			fetch_fill(r, g, kp_str_c(os[k]->topic), os[k]->partition, stable,
				   &ts[nt].partitions[k - i]);
		nt++;
		i = j;
	}
	resp->topics = ts;
	resp->topics_count = nt;
	return 0;
}

void api_offset_fetch(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_offset_fetch_req *req = r->body;
	struct kp_offset_fetch_resp resp;
	struct kp_offset_fetch_resp_offset_fetch_response_topic *ts = NULL;
	struct group *g = NULL;
	int32_t opart;
	int16_t err;

	kp_struct_init(r->api->resp, &resp);
	resp.topics_count = 0;
	pthread_mutex_lock(&c->lock);
	err = req->group_id.len < 0 ? KP_ERR_INVALID_GROUP_ID
		: group_store_owner(&c->store, req->group_id, &opart);
	if (err == 0)
		g = group_table_find(&c->groups, req->group_id);
	if (req->topics_count < 0) {
		/* v2+: all of the group's offsets */
		if (err == 0 && fetch_all(r, g, req->require_stable, &resp) < 0)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	ts = kp_arena_calloc(&r->arena, (size_t)req->topics_count + 1, sizeof(*ts));
	if (ts == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_offset_fetch_req_offset_fetch_request_topic *rt = &req->topics[i];
		int32_t np = rt->partition_indexes_count > 0 ? rt->partition_indexes_count : 0;

		kp_struct_init(&kp_offset_fetch_resp_offset_fetch_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			fetch_fill(r, err == 0 ? g : NULL, rt->name, rt->partition_indexes[j],
				   req->require_stable, &ts[i].partitions[j]);
			/* v0/v1 have no top-level error: each partition says */
			if (r->h.api_version < 2)
				ts[i].partitions[j].error_code = err;
		}
	}
	resp.topics = ts;
	resp.topics_count = req->topics_count;
out:
	pthread_mutex_unlock(&c->lock);
	resp.error_code = err;
	net_reply(r, &resp);
}

/* ------------------------------------------------------- OffsetDelete */

void api_offset_delete(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_offset_delete_req *req = r->body;
	struct kp_offset_delete_resp resp;
	struct kp_offset_delete_resp_offset_delete_response_topic *ts;
	struct group_offset_ref *parts;
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0, total = 0, k = 0;
	int16_t err = 0;

	kp_struct_init(r->api->resp, &resp);
	ts = kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));
	if (ts == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < nt; i++)
		total += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	parts = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*parts));
	if (parts == NULL)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; err == 0 && i < nt; i++) {
		const struct kp_offset_delete_req_offset_delete_request_topic *rt = &req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;

		kp_struct_init(&kp_offset_delete_resp_offset_delete_response_topic_desc, &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			break;
		}
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			int32_t idx = rt->partitions[j].partition_index;

			kp_struct_init(&kp_offset_delete_resp_offset_delete_response_partition_desc,
				       &ts[i].partitions[j]);
			ts[i].partitions[j].partition_index = idx;
			parts[k++] = (struct group_offset_ref){ rt->name, idx,
								&ts[i].partitions[j].error_code };
		}
	}
	if (err == 0) {
		pthread_mutex_lock(&c->lock);
		err = group_delete_offsets(c, req->group_id, parts, k);
		pthread_mutex_unlock(&c->lock);
	}
	resp.error_code = err;
	if (err == 0) {
		resp.topics = ts;
		resp.topics_count = nt;
	}
	net_reply(r, &resp);
}

/* ------------------------------------------------------ DescribeGroups */

static void describe_one(struct group_coord *c, struct net_req *r, kp_str id, bool ops,
			 struct kp_describe_groups_resp_described_group *out)
{
	struct group *g;
	int32_t opart;
	int16_t err = group_store_owner(&c->store, id, &opart);

	kp_struct_init(&kp_describe_groups_resp_described_group_desc, out);
	out->group_id = id;
	out->group_state = (kp_str){ "", 0 };
	out->protocol_type = (kp_str){ "", 0 };
	out->protocol_data = (kp_str){ "", 0 };
	out->authorized_operations = INT32_MIN;
	out->members_count = 0;
	if (err != 0) {
		out->error_code = err;
		return;
	}
	/* v3+, asked for: the group operations the principal may do
	 * (KIP-430), also for a group we do not know (Dead, no error) as
	 * Kafka */
	if (ops)
		out->authorized_operations = authz_operations(r, KP_ACL_RT_GROUP, id);
	g = group_table_find(&c->groups, id);
	if (g == NULL) {
		out->group_state = kp_str_c("Dead");
		return;
	}
	out->group_state = arena_kstr(r, group_state_name(g->fsm.state));
	out->protocol_type = arena_kstr(r, g->protocol_type != NULL ? g->protocol_type : "");
	if (g->fsm.state == GROUP_STABLE)
		out->protocol_data = arena_kstr(r, g->protocol != NULL ? g->protocol : "");
	if (g->nmembers > 0) {
		struct kp_describe_groups_resp_described_group_member *ms =
			kp_arena_calloc(&r->arena, (size_t)g->nmembers, sizeof(*ms));
		int32_t n = 0;

		if (ms == NULL) {
			out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		for (struct group_member *m = g->members; m; m = m->next) {
			struct kp_describe_groups_resp_described_group_member *o = &ms[n++];

			kp_struct_init(&kp_describe_groups_resp_described_group_member_desc, o);
			o->member_id = arena_kstr(r, m->id);
			o->group_instance_id = arena_kstr(r, m->instance_id);
			o->client_id = arena_kstr(r, m->client_id);
			o->client_host = arena_kstr(r, m->client_host);
			o->member_metadata = (kp_bytes){ NULL, 0 };
			o->member_assignment = (kp_bytes){ NULL, 0 };
			/* metadata and assignment only when Stable, as Kafka */
			if (g->fsm.state != GROUP_STABLE)
				continue;
			{
				const struct group_protocol *p =
					group_member_protocol(m, g->protocol);
				uint8_t *d = p != NULL && p->len > 0
					? kp_arena_alloc(&r->arena, (size_t)p->len) : NULL;

				if (d != NULL) {
					memcpy(d, p->meta, (size_t)p->len);
					o->member_metadata = (kp_bytes){ d, p->len };
				}
			}
			if (m->assignment_len > 0) {
				uint8_t *d = kp_arena_alloc(&r->arena, (size_t)m->assignment_len);

				if (d != NULL) {
					memcpy(d, m->assignment, (size_t)m->assignment_len);
					o->member_assignment = (kp_bytes){ d, m->assignment_len };
				}
			}
		}
		out->members = ms;
		out->members_count = n;
	}
}

void api_describe_groups(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_describe_groups_req *req = r->body;
	struct kp_describe_groups_resp resp;
	int32_t n = req->groups_count > 0 ? req->groups_count : 0;
	struct kp_describe_groups_resp_described_group *gs =
		kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*gs));

	if (gs == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	group_thread_run_due(&c->thread, kp_now_ms());
	for (int32_t i = 0; i < n; i++) {
		/* as Kafka: Describe on each group (authz.h) */
		if (!authz_ok_str(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_GROUP, req->groups[i])) {
			kp_struct_init(&kp_describe_groups_resp_described_group_desc, &gs[i]);
			gs[i].group_id = req->groups[i];
			gs[i].error_code = KP_ERR_GROUP_AUTHORIZATION_FAILED;
			gs[i].group_state = (kp_str){ "", 0 };
			gs[i].protocol_type = (kp_str){ "", 0 };
			gs[i].protocol_data = (kp_str){ "", 0 };
			gs[i].authorized_operations = INT32_MIN;
			gs[i].members_count = 0;
			continue;
		}
		describe_one(c, r, req->groups[i],
			     r->h.api_version >= 3 && req->include_authorized_operations,
			     &gs[i]);
	}
	pthread_mutex_unlock(&c->lock);
	resp.groups = gs;
	resp.groups_count = n;
	net_reply(r, &resp);
}

/* ---------------------------------------------------------- ListGroups */

/* v4's filter: Kafka's state names, matched exactly; none means all. */
static bool state_wanted(const struct kp_list_groups_req *req, const char *state)
{
	if (req->states_filter_count <= 0)
		return true;
	for (int32_t i = 0; i < req->states_filter_count; i++)
		if (kp_str_eqc(req->states_filter[i], state))
			return true;
	return false;
}

void api_list_groups(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_list_groups_req *req = r->body;
	struct kp_list_groups_resp resp;
	struct kp_list_groups_resp_listed_group *gs;
	int32_t n = 0;
	/* as Kafka: every group with Describe on the cluster, else those
	 * the principal may Describe (authz.h) */
	bool all = authz_cluster(r, KP_ACL_OP_DESCRIBE);

	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	group_thread_run_due(&c->thread, kp_now_ms());
	gs = kp_arena_calloc(&r->arena, (size_t)c->groups.ngroups + 1, sizeof(*gs));
	if (gs == NULL) {
		pthread_mutex_unlock(&c->lock);
		net_req_fail(r, "out of memory");
		return;
	}
	if (group_store_loading(&c->store))
		resp.error_code = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	for (uint32_t i = 0; i < c->groups.nbuckets; i++)
		for (struct group *g = c->groups.buckets[i]; g; g = g->next) {
			if (!state_wanted(req, group_state_name(g->fsm.state)))
				continue;
			if (!all && !authz_ok_quiet(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_GROUP,
						    (kp_str){ g->id, (int32_t)strlen(g->id) }))
				continue;
			kp_struct_init(&kp_list_groups_resp_listed_group_desc, &gs[n]);
			gs[n].group_id = arena_kstr(r, g->id);
			gs[n].protocol_type = arena_kstr(r, g->protocol_type != NULL
							 ? g->protocol_type : "");
			gs[n].group_state = arena_kstr(r, group_state_name(g->fsm.state));
			n++;
		}
	pthread_mutex_unlock(&c->lock);
	resp.groups = gs;
	resp.groups_count = n;
	net_reply(r, &resp);
}

/* ------------------------------------------------------- DeleteGroups */

void api_delete_groups(struct net_req *r)
{
	struct group_coord *c = coord_of(r);
	const struct kp_delete_groups_req *req = r->body;
	struct kp_delete_groups_resp resp;
	int32_t n = req->groups_names_count > 0 ? req->groups_names_count : 0;
	struct kp_delete_groups_resp_deletable_group_result *rs =
		kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*rs));

	if (rs == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	pthread_mutex_lock(&c->lock);
	/* what it shows never lags a deadline by the thread's scheduling */
	group_thread_run_due(&c->thread, kp_now_ms());
	for (int32_t i = 0; i < n; i++) {
		kp_struct_init(&kp_delete_groups_resp_deletable_group_result_desc, &rs[i]);
		rs[i].group_id = req->groups_names[i];
		/* as Kafka: Delete on each group (authz.h) */
		rs[i].error_code = authz_ok_str(r, KP_ACL_OP_DELETE, KP_ACL_RT_GROUP,
						req->groups_names[i])
			? group_delete(c, req->groups_names[i])
			: KP_ERR_GROUP_AUTHORIZATION_FAILED;
	}
	pthread_mutex_unlock(&c->lock);
	resp.results = rs;
	resp.results_count = n;
	net_reply(r, &resp);
}
